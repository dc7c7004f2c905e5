// BEP 11 peer exchange (`ut_pex`): one bencoded dictionary per message,
//
//   added / added.f      compact IPv4 peers (6 bytes each) and one flag byte each
//   dropped              compact IPv4 peers that left
//   added6 / added6.f    compact IPv6 peers (18 bytes each) and their flags
//   dropped6             compact IPv6 peers that left
//
// Strict and bounded: a list whose length is not a multiple of its entry
// size, a flag string longer than its list, a field of the wrong type or more
// than kMaxPexEntries entries in one list is an error naming the field.  A
// flag string shorter than its list leaves the rest at 0; entries with port
// 0 are skipped; unknown keys are ignored.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/core/tracker_client_codec.hpp"

namespace btl {

// Flags of an added peer (BEP 11).
inline constexpr uint8_t kPexPrefersEncryption = 0x01;
inline constexpr uint8_t kPexSeed = 0x02;  // a seed or upload_only (BEP 21)
inline constexpr uint8_t kPexUtp = 0x04;
inline constexpr uint8_t kPexHolepunch = 0x08;
inline constexpr uint8_t kPexReachable = 0x10;  // the sender connected to it

// Entries one list may hold (libtorrent sends at most 100 added per message).
inline constexpr size_t kMaxPexEntries = 200;
// Biggest payload we accept: 4 full lists of each family fit well under it.
inline constexpr size_t kMaxPexPayload = 16 * 1024;

struct PexPeer {
    PeerEndpoint ep;
    uint8_t flags = 0;
    bool operator==(const PexPeer& o) const { return ep == o.ep && flags == o.flags; }
};

struct PexMessage {
    std::vector<PexPeer> added;         // IPv4 and IPv6 together
    std::vector<PeerEndpoint> dropped;  // IPv4 and IPv6 together
};

// Errors: "ut_pex: added length 13 is not a multiple of 6".
Result<PexMessage> parse_pex(std::string_view payload);

// Encodes IPv4 peers into added/dropped and IPv6 ones into added6/dropped6
// (addresses that are neither are left out).  Empty lists are omitted but
// the dictionary always has `added` and `dropped` (some clients expect them).
std::string encode_pex(const PexMessage& m);

}  // namespace btl
