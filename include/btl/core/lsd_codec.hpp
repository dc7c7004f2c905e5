// Local Service Discovery messages (BEP 14): the BT-SEARCH announce a client
// multicasts on its LAN (239.192.152.143:6771, [ff15::efc0:988f]:6771) to
// say "I am in these swarms, listening on this port".
//
// Contract (pure: no I/O):
//  - format_lsd_announces() packs the given info-hashes into as few
//    datagrams as fit kMaxLsdDatagram bytes each (several Infohash headers
//    per packet, as BEP 14 allows), each with the Host, Port and cookie
//    headers.
//  - parse_lsd_announce() reads one datagram strictly: a first line of
//    exactly "BT-SEARCH * HTTP/1.1", CRLF-terminated header lines, header
//    names case-insensitive, a Port of 1-65535 in plain decimal, 1 to
//    kMaxLsdInfohashes Infohash headers of exactly 40 hex digits, an
//    optional cookie of at most kMaxLsdCookie printable bytes.  Anything
//    else, or a datagram past kMaxLsdDatagram bytes, is an error with a
//    message naming what was wrong.  Unknown headers are skipped (at most
//    kMaxLsdHeaders lines in all), so later additions to the format pass.
//
// Cost: linear in the datagram; nothing allocated beyond the result.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"

namespace btl {

inline constexpr const char* kLsdGroup4 = "239.192.152.143";
inline constexpr const char* kLsdGroup6 = "ff15::efc0:988f";
inline constexpr uint16_t kLsdPort = 6771;
// Below any Ethernet path MTU after IP and UDP headers.
inline constexpr size_t kMaxLsdDatagram = 1400;
inline constexpr size_t kMaxLsdInfohashes = 20;
inline constexpr size_t kMaxLsdCookie = 64;
inline constexpr size_t kMaxLsdHeaders = 48;

struct LsdAnnounce {
    uint16_t port = 0;
    std::vector<Sha1Digest> info_hashes;
    std::string cookie;  // empty when the sender gave none
};

// `ipv6` picks the Host header ([ff15::efc0:988f]:6771 or 239.192.152.143:6771).
std::vector<std::string> format_lsd_announces(const std::vector<Sha1Digest>& info_hashes, uint16_t port,
                                              const std::string& cookie, bool ipv6);

Result<LsdAnnounce> parse_lsd_announce(std::string_view datagram);

}  // namespace btl
