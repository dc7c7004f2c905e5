// UDP tracker packets (BEP 15): any datagram either fails with a message or
// decodes to exactly what its bytes say: the header fields, every compact
// peer with a non-zero port up to the cap, one scrape entry per 12 bytes, a
// printable error text.
//
// Input layout: byte 0 = flags (bit 0: the announce went over IPv6; bits
// 1-2: the peer cap), the rest is the datagram.
#include <string>
#include <string_view>

#include "btl/core/tracker_client_codec.hpp"
#include "btl/net/peer_connection.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

uint32_t be32(std::string_view p, size_t at) {
    auto u = [&](size_t i) { return uint32_t(uint8_t(p[at + i])); };
    return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_udp_tracker) {
    ByteReader in(data, size);
    const uint8_t flags = in.u8();
    const bool ipv6 = flags & 1;
    static const size_t kCaps[] = {1000, 0, 1, 7};
    const size_t max_peers = kCaps[(flags >> 1) & 3];
    std::string_view pkt(reinterpret_cast<const char*>(in.rest()), in.remaining());

    auto r = parse_udp_response(pkt, ipv6, max_peers);
    if (!r.ok()) {
        BTL_FUZZ_CHECK(!r.error().message.empty());
        return 0;
    }
    BTL_FUZZ_CHECK(pkt.size() >= 8);
    BTL_FUZZ_CHECK(r->action == be32(pkt, 0) && r->transaction_id == be32(pkt, 4));
    switch (r->action) {
        case kUdpConnect:
            BTL_FUZZ_CHECK(pkt.size() >= 16);
            BTL_FUZZ_CHECK(r->connection_id == (uint64_t(be32(pkt, 8)) << 32 | be32(pkt, 12)));
            break;
        case kUdpAnnounce: {
            const AnnounceResponse& a = r->announce;
            BTL_FUZZ_CHECK(pkt.size() >= 20);
            BTL_FUZZ_CHECK(a.raw_interval == int64_t(be32(pkt, 8)));
            BTL_FUZZ_CHECK(a.interval >= kMinInterval && a.interval <= kMaxInterval);
            BTL_FUZZ_CHECK(a.incomplete == int64_t(be32(pkt, 12)) && a.complete == int64_t(be32(pkt, 16)));
            const size_t step = ipv6 ? 18 : 6;
            BTL_FUZZ_CHECK((pkt.size() - 20) % step == 0);
            // Entries with port 0 are skipped; the rest are kept in order.
            size_t k = 0;
            for (size_t at = 20; at < pkt.size() && k < max_peers; at += step) {
                uint16_t port = uint16_t(uint8_t(pkt[at + step - 2]) << 8 | uint8_t(pkt[at + step - 1]));
                if (port == 0) continue;
                BTL_FUZZ_CHECK(k < a.peers.size());
                const PeerEndpoint& p = a.peers[k++];
                BTL_FUZZ_CHECK(p.port == port);
                sockaddr_storage ss{};
                BTL_FUZZ_CHECK(ip_to_sockaddr(p.ip, p.port, ss));
                const auto* addr = reinterpret_cast<const uint8_t*>(
                    ipv6 ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr)
                         : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr));
                BTL_FUZZ_CHECK(std::string_view(reinterpret_cast<const char*>(addr), step - 2) ==
                               pkt.substr(at, step - 2));
            }
            BTL_FUZZ_CHECK(k == a.peers.size());
            break;
        }
        case kUdpScrape:
            BTL_FUZZ_CHECK((pkt.size() - 8) % 12 == 0 && r->scrape.size() == (pkt.size() - 8) / 12);
            for (size_t i = 0; i < r->scrape.size(); ++i) {
                const ScrapeEntry& e = r->scrape[i];
                BTL_FUZZ_CHECK(e.complete == int64_t(be32(pkt, 8 + 12 * i)));
                BTL_FUZZ_CHECK(e.downloaded == int64_t(be32(pkt, 12 + 12 * i)));
                BTL_FUZZ_CHECK(e.incomplete == int64_t(be32(pkt, 16 + 12 * i)));
            }
            break;
        case kUdpError:
            BTL_FUZZ_CHECK(!r->error.empty() && r->error.size() <= 300);
            for (char c : r->error) BTL_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
            break;
        default: BTL_FUZZ_CHECK(false);
    }
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_udp_tracker)
