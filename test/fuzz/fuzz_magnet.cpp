// Magnet URIs: any input either fails with a message or parses to a link
// inside its bounds, and the canonical link made from it parses back to
// the same fields.
#include <string>
#include <string_view>

#include "btl/core/magnet.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_magnet) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto m = parse_magnet(in);
    if (!m) {
        BTL_FUZZ_CHECK(!m.error().message.empty());
        return 0;
    }
    BTL_FUZZ_CHECK(m->trackers.size() <= kMaxMagnetTrackers);
    BTL_FUZZ_CHECK(m->peers.size() + m->peer_hosts.size() <= kMaxMagnetPeers);
    BTL_FUZZ_CHECK(m->select_only.size() <= kMaxMagnetRanges);
    BTL_FUZZ_CHECK(m->name.size() <= kMaxMagnetValue);
    for (const auto& [a, b] : m->select_only) BTL_FUZZ_CHECK(a <= b && b <= kMaxMagnetFileIndex);
    for (const auto& p : m->peers) BTL_FUZZ_CHECK(p.port != 0);
    auto again = parse_magnet(make_magnet_uri(*m));
    BTL_FUZZ_CHECK(again.ok());
    BTL_FUZZ_CHECK(again->info_hash == m->info_hash);
    BTL_FUZZ_CHECK(again->name == m->name);
    BTL_FUZZ_CHECK(again->trackers == m->trackers);
    BTL_FUZZ_CHECK(again->peers == m->peers);
    BTL_FUZZ_CHECK(again->peer_hosts == m->peer_hosts);
    BTL_FUZZ_CHECK(again->select_only == m->select_only);
    return 0;
}

BTL_FUZZ_ENTRY(fuzz_magnet)

}  // namespace btl::fuzz
