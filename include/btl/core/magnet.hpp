// Magnet links: `magnet:?xt=urn:btih:<info-hash>&dn=...&tr=...&x.pe=...&so=...`
// (BEP 9's magnet format, BEP 53's `so`).  A pure, strict, bounded parser:
// the caller gets either a link with a 20-byte info-hash or one error line
// naming what is wrong ("magnet link has no btih info-hash").
//
// Contract:
//  - `xt=urn:btih:` takes 40 hex digits or 32 base32 characters (either
//    case).  Other `xt` kinds (BEP 52's btmh) are ignored; two different
//    btih hashes in one link are an error.
//  - `dn` is the display name (`+` reads as a space, as browsers write it);
//    `tr` may repeat (duplicates dropped, order kept); `x.pe` is a peer
//    hint `IPv4:port`, `[IPv6]:port` or `host.name:port` (names are kept
//    apart, for the caller to resolve); `so` is a list of file indices and
//    inclusive ranges ("0,2,4-6").  Unknown parameters are ignored.
//  - Values are percent-decoded; a bad escape is an error.
//  - Bounds: the URI at most kMaxMagnetLength bytes, at most kMaxMagnetTrackers
//    trackers and kMaxMagnetPeers peer hints, names and URLs at most 4 KiB
//    each, `so` at most kMaxMagnetRanges ranges of indices below 2^20.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/core/tracker_client_codec.hpp"

namespace btl {

inline constexpr size_t kMaxMagnetLength = 64 * 1024;
inline constexpr size_t kMaxMagnetTrackers = 100;
inline constexpr size_t kMaxMagnetPeers = 200;
inline constexpr size_t kMaxMagnetRanges = 1000;
inline constexpr size_t kMaxMagnetValue = 4096;
inline constexpr uint32_t kMaxMagnetFileIndex = (1u << 20) - 1;

struct MagnetLink {
    Sha1Digest info_hash{};
    std::string name;                                    // dn ("" when absent)
    std::vector<std::string> trackers;                   // tr, in order
    std::vector<PeerEndpoint> peers;                     // x.pe with an IP address
    std::vector<std::pair<std::string, uint16_t>> peer_hosts;  // x.pe with a host name
    std::vector<std::pair<uint32_t, uint32_t>> select_only;  // so: inclusive ranges
    std::vector<std::string> warnings;                   // shown to the user

    // The name to show before the metadata is known: dn, else the hex hash.
    std::string display_name() const;
};

Result<MagnetLink> parse_magnet(std::string_view uri);
// A canonical link for `m` (hex hash; dn, tr, x.pe, so percent-encoded);
// parse_magnet(make_magnet_uri(m)) gives back the same fields.
std::string make_magnet_uri(const MagnetLink& m);
// Reads the text of a .magnet file: the first non-blank line, trimmed.
Result<MagnetLink> parse_magnet_file_text(std::string_view text);

}  // namespace btl
