// HTTP tracker answers (announce and scrape bodies): any body either fails
// with a message or yields values within the documented bounds, and every
// peer is an address the engine can dial.
//
// Input layout: byte 0 chooses the peer cap (max_peers), the rest is the
// body.
#include <string>
#include <string_view>

#include <sys/socket.h>

#include "btl/core/tracker_client_codec.hpp"
#include "btl/net/peer_connection.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

bool printable(const std::string& s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_http_tracker) {
    ByteReader in(data, size);
    static const size_t kCaps[] = {1000, 0, 1, 7};
    const size_t max_peers = kCaps[in.u8() & 3];
    std::string_view body(reinterpret_cast<const char*>(in.rest()), in.remaining());

    auto r = parse_announce_response(body, max_peers);
    if (r.ok()) {
        const AnnounceResponse& a = *r;
        BTL_FUZZ_CHECK(printable(a.failure_reason) && printable(a.warning_message));
        BTL_FUZZ_CHECK(a.failure_reason.size() <= 500 && a.warning_message.size() <= 500);
        if (a.failure_reason.empty()) {
            BTL_FUZZ_CHECK(a.interval >= kMinInterval && a.interval <= kMaxInterval);
            BTL_FUZZ_CHECK(a.min_interval >= 0 && a.min_interval <= kMaxInterval);
            BTL_FUZZ_CHECK(a.complete >= -1 && a.incomplete >= -1);
        } else {
            BTL_FUZZ_CHECK(a.peers.empty());
        }
        BTL_FUZZ_CHECK(a.peers.size() <= max_peers);
        for (const auto& p : a.peers) {
            BTL_FUZZ_CHECK(p.port != 0);
            // The engine dials ip:port; it must be a literal that maps back
            // to the same text.
            sockaddr_storage ss{};
            BTL_FUZZ_CHECK(ip_to_sockaddr(p.ip, p.port, ss));
            std::string ip;
            uint16_t port = 0;
            BTL_FUZZ_CHECK(sockaddr_to_ip(reinterpret_cast<const sockaddr*>(&ss), ip, port));
            BTL_FUZZ_CHECK(ip == p.ip && port == p.port);
            std::string text = p.to_string();
            BTL_FUZZ_CHECK(text.size() > p.ip.size() && text.substr(text.rfind(':') + 1) == std::to_string(p.port));
        }
    } else {
        BTL_FUZZ_CHECK(!r.error().message.empty());
    }

    auto s = parse_scrape_response(body);
    if (s.ok()) {
        for (const auto& [hash, e] : *s) {
            BTL_FUZZ_CHECK(e.complete >= 0 && e.incomplete >= 0 && e.downloaded >= 0);
        }
    } else {
        BTL_FUZZ_CHECK(!s.error().message.empty());
    }
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_http_tracker)
