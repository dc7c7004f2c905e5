// Peer wire protocol (BEP 3) with the fast extension (BEP 6) and the
// extension-protocol message id (BEP 10): handshake, message encoding and an
// incremental, zero-copy parser.
//
// Encoding: append_* functions append one complete frame to a std::string
// (the caller batches several and sends them with one uv_write).  Piece
// payloads are not copied: append_piece_header() writes only the 13-byte
// header and the caller sends the block data as a second buffer.
//
// Parsing: parse_message() looks at the front of the receive buffer and
// returns one message, need_more, or an error.  Limits are checked as early
// as possible: a length prefix above max_message_length is an error as soon
// as its 4 bytes are in, before anything is buffered.  A message with an
// unknown id is returned like any other (msg.id holds the raw id, payload
// the bytes after it) so the caller can ignore it.  Returned string_views
// (payload) point into the caller's buffer.  Context checks (piece index in
// range, block within its piece, bitfield size) are the caller's; the
// helper check_block_request() covers the common request validation.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/core/bitfield.hpp"

namespace btl {

enum class MsgId : uint8_t {
    choke = 0,
    unchoke = 1,
    interested = 2,
    not_interested = 3,
    have = 4,
    bitfield = 5,
    request = 6,
    piece = 7,
    cancel = 8,
    port = 9,
    suggest = 13,
    have_all = 14,
    have_none = 15,
    reject = 16,
    allowed_fast = 17,
    extended = 20,
};

// "choke", "have", ... ; "unknown" for anything else.
const char* msg_name(MsgId id);

using PeerId = std::array<uint8_t, 20>;

// Azureus-style peer id: prefix (e.g. "-BM0100-", truncated to 20 bytes)
// followed by pseudo-random printable characters derived from random_seed.
PeerId make_peer_id(std::string_view prefix, uint64_t random_seed);
// Human name of the client behind a peer id: "libtorrent 2.0.8.0",
// "aria2 1.36.0"-ish, or the printable prefix with other bytes escaped.
std::string client_name(const PeerId& id);

constexpr size_t kHandshakeSize = 68;

struct Handshake {
    std::array<uint8_t, 8> reserved{};
    Sha1Digest info_hash{};
    PeerId peer_id{};
    bool supports_fast() const { return (reserved[7] & 0x04) != 0; }
    bool supports_extended() const { return (reserved[5] & 0x10) != 0; }
    bool supports_dht() const { return (reserved[7] & 0x01) != 0; }
};

void append_handshake(std::string& out, const Sha1Digest& info_hash, const PeerId& peer_id,
                      bool fast = true, bool extended = true, bool dht = false);
// first68 must hold at least kHandshakeSize bytes.  Errors: "handshake too
// short", "not a BitTorrent handshake".
Result<Handshake> parse_handshake(std::string_view first68);

// ---- encoding ---------------------------------------------------------------

void append_keepalive(std::string& out);
// choke, unchoke, interested, not_interested, have_all, have_none.
void append_simple(std::string& out, MsgId id);
void append_have(std::string& out, uint32_t piece);
void append_bitfield(std::string& out, const Bitfield& bf);
void append_request(std::string& out, uint32_t piece, uint32_t begin, uint32_t length);
void append_cancel(std::string& out, uint32_t piece, uint32_t begin, uint32_t length);
void append_reject(std::string& out, uint32_t piece, uint32_t begin, uint32_t length);
void append_allowed_fast(std::string& out, uint32_t piece);
void append_suggest(std::string& out, uint32_t piece);
void append_port(std::string& out, uint16_t port);
void append_extended(std::string& out, uint8_t ext_id, std::string_view payload);
// 13 bytes: length prefix (9 + len), id 7, piece, begin.  The caller sends
// the len bytes of block data right after.
void append_piece_header(std::string& out, uint32_t piece, uint32_t begin, uint32_t len);
constexpr size_t kPieceHeaderSize = 13;

// ---- parsing ----------------------------------------------------------------

struct Message {
    MsgId id = MsgId::choke;
    bool keepalive = false;
    uint32_t piece = 0, begin = 0, length = 0;  // have/request/piece/cancel/reject/...
    uint16_t port = 0;
    uint8_t ext_id = 0;
    // bitfield: the raw bytes; piece: the block data (length = its size);
    // extended: the payload after ext_id.  Points into the parsed buffer.
    std::string_view payload;
};

enum class ParseStatus { message, need_more, error };

struct ParseResult {
    ParseStatus status = ParseStatus::need_more;
    size_t consumed = 0;  // bytes of the frame when status == message
    Message msg;
    std::string error;
};

constexpr uint32_t kDefaultMaxMessageLength = (1u << 20) + 13;

// Parses one message from the front of buf.
ParseResult parse_message(std::string_view buf, uint32_t max_message_length = kDefaultMaxMessageLength);

// Total bytes of the frame at the front of buf (4 + length prefix) once the
// 4 length bytes are there; 0 before.  Lets the caller size its buffer.
// Does not apply any limit: call parse_message first to reject big frames.
uint64_t frame_length_needed(std::string_view buf);

// Validates an incoming request (or a reject/cancel) against the torrent.
// Returns an error text, or nullopt when the request is fine.
std::optional<std::string> check_block_request(uint32_t piece, uint32_t begin, uint32_t length,
                                               uint32_t num_pieces, int64_t piece_size_of_that_piece,
                                               uint32_t max_block = 16384);

}  // namespace btl
