// The extension protocol (BEP 10): the extended handshake that a peer sends
// as message 20/0 when both handshakes set reserved bit 0x10 (byte 5).
//
// Each side names the extensions it speaks in the `m` dictionary, each with
// the message id it wants to RECEIVE them under; we send a message to a peer
// with the peer's id and receive it with ours (ExtMsg).  A later handshake
// may update some fields (merge_ext_handshake).  Strict and bounded: the
// payload is decoded with small limits, fields of the wrong type are errors,
// unknown keys and unknown extensions are ignored.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "btl/base/result.hpp"

namespace btl {

// Our local ids: what we put in `m`, and the sub-id our peers use when they
// send us these messages.  0 is the handshake itself.
enum class ExtMsg : uint8_t { handshake = 0, ut_pex = 1, ut_metadata = 2 };
inline constexpr size_t kExtMsgCount = 3;

// Biggest extended-handshake payload we accept (libtorrent's are ~300 bytes).
inline constexpr size_t kMaxExtHandshake = 16 * 1024;
// metadata_size above this is refused before anything is allocated
// (libtorrent: 4 MiB for the hint it trusts, 30 MiB overall).
inline constexpr int64_t kMaxMetadataSize = 30 * 1024 * 1024;

// -1 (or empty) = the field was not in the message.
struct ExtHandshake {
    // The id the sender wants for each extension we know; 0 = it disabled it.
    int ids[kExtMsgCount] = {-1, -1, -1};
    int listen_port = -1;         // p
    std::string client;           // v, at most 100 bytes kept
    std::string yourip;           // the raw 4 or 16 bytes, as the sender saw our address
    int64_t reqq = -1;            // requests it keeps queued from one peer
    int64_t metadata_size = -1;   // BEP 9: size of the info dictionary
    int upload_only = -1;         // BEP 21: 1 = it only uploads (a seed, or a partial seed)

    // The remote id for `m` (0 = the peer does not speak it).
    uint8_t remote_id(ExtMsg m) const {
        int v = ids[size_t(m)];
        return v > 0 ? uint8_t(v) : 0;
    }
};

// Encodes our handshake: `m` holds every extension with ids[i] > 0 (named
// ut_pex / ut_metadata), then the other fields that are set.  `yourip` of
// 4 or 16 bytes is sent as is.
std::string encode_ext_handshake(const ExtHandshake& ours);

// Decodes a peer's handshake payload (after the 0 sub-id).  Errors name
// the field: "extended handshake: m is not a dictionary".
Result<ExtHandshake> parse_ext_handshake(std::string_view payload);

// A later handshake updates the fields it carries (ids it names in `m`).
void merge_ext_handshake(ExtHandshake& state, const ExtHandshake& update);

// The extension name for a local id ("ut_pex"), "" for the handshake.
const char* ext_name(ExtMsg m);

}  // namespace btl
