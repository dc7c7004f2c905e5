// LSD announces (BEP 14): any datagram either fails with a message or
// parses to a port in 1..65535, 1..kMaxLsdInfohashes info-hashes each
// present in the datagram as hex, and a printable cookie within its cap; and
// what we format from that result parses back to the same.
#include <string>
#include <string_view>

#include "btl/core/lsd_codec.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_lsd) {
    std::string_view d(reinterpret_cast<const char*>(data), size);
    auto r = parse_lsd_announce(d);
    if (!r.ok()) {
        BTL_FUZZ_CHECK(!r.error().message.empty());
        return 0;
    }
    BTL_FUZZ_CHECK(size <= kMaxLsdDatagram);
    BTL_FUZZ_CHECK(r->port >= 1);
    BTL_FUZZ_CHECK(!r->info_hashes.empty() && r->info_hashes.size() <= kMaxLsdInfohashes);
    BTL_FUZZ_CHECK(r->cookie.size() <= kMaxLsdCookie);
    for (char c : r->cookie) BTL_FUZZ_CHECK(c > 0x20 && c < 0x7f);
    std::string lower(d);
    for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    for (const auto& ih : r->info_hashes) BTL_FUZZ_CHECK(lower.find(to_hex(ih)) != std::string::npos);
    auto again = format_lsd_announces(r->info_hashes, r->port, r->cookie, false);
    BTL_FUZZ_CHECK(!again.empty());
    std::vector<Sha1Digest> back;
    for (const auto& p : again) {
        BTL_FUZZ_CHECK(p.size() <= kMaxLsdDatagram);
        auto a = parse_lsd_announce(p);
        BTL_FUZZ_CHECK(a.ok() && a->port == r->port && a->cookie == r->cookie);
        back.insert(back.end(), a->info_hashes.begin(), a->info_hashes.end());
    }
    BTL_FUZZ_CHECK(back == r->info_hashes);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_lsd)
