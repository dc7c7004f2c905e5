// The peer message stream after a valid handshake, framed the way the engine
// frames it: the transport keeps unconsumed bytes in one buffer and offers
// them to the protocol handler after every read; the handler parses the
// handshake, then whole messages, and returns how many bytes it used.
//
// Input layout: byte 0 = flags (low 4 bits: how many chunk-size bytes
// follow; bit 4: a 20-byte peer id follows), then the peer id, then the
// chunk sizes (cycled), then the stream itself.  The stream is delivered in
// those chunks behind a well-formed handshake.
//
// Invariants: every chunking yields exactly the messages (and the same error
// or leftover) that parsing the whole stream at once yields; no frame is
// longer than the limit; the buffer never reaches the transport's cap; each
// decoded message re-encodes to the exact bytes of its frame.
#include <string>
#include <string_view>
#include <vector>

#include "btl/core/bitfield.hpp"
#include "btl/core/wire.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

// PeerConnection's default read-buffer cap (peer_connection.hpp).
constexpr size_t kMaxBuffer = (1u << 20) + 64 * 1024;

// What the stream produced: one line per message, then how it ended.
struct Outcome {
    std::vector<std::string> messages;
    bool error = false;
    size_t leftover = 0;
};

// The frame a message must have come from.
std::string reencode(const Message& m) {
    std::string out;
    if (m.keepalive) {
        append_keepalive(out);
        return out;
    }
    auto raw = [&](std::string_view payload) {
        uint32_t len = uint32_t(payload.size() + 1);
        for (int s = 24; s >= 0; s -= 8) out.push_back(char(len >> s));
        out.push_back(char(m.id));
        out.append(payload);
    };
    switch (m.id) {
        case MsgId::choke:
        case MsgId::unchoke:
        case MsgId::interested:
        case MsgId::not_interested:
        case MsgId::have_all:
        case MsgId::have_none: append_simple(out, m.id); break;
        case MsgId::have: append_have(out, m.piece); break;
        case MsgId::suggest: append_suggest(out, m.piece); break;
        case MsgId::allowed_fast: append_allowed_fast(out, m.piece); break;
        case MsgId::request: append_request(out, m.piece, m.begin, m.length); break;
        case MsgId::cancel: append_cancel(out, m.piece, m.begin, m.length); break;
        case MsgId::reject: append_reject(out, m.piece, m.begin, m.length); break;
        case MsgId::port: append_port(out, m.port); break;
        case MsgId::bitfield: {
            uint32_t len = uint32_t(m.payload.size() + 1);
            for (int s = 24; s >= 0; s -= 8) out.push_back(char(len >> s));
            out.push_back(char(MsgId::bitfield));
            out.append(m.payload);
            break;
        }
        case MsgId::piece:
            BTL_FUZZ_CHECK(m.length == m.payload.size());
            append_piece_header(out, m.piece, m.begin, m.length);
            out.append(m.payload);
            break;
        case MsgId::extended: append_extended(out, m.ext_id, m.payload); break;
        default: raw(m.payload); break;  // an unknown id: the raw payload after it
    }
    return out;
}

// The checks the engine applies to a message's contents, on a made-up
// torrent of 1000 pieces of 32 KiB; they must not misbehave on any values.
void context_checks(const Message& m) {
    if (m.id == MsgId::bitfield) {
        for (uint32_t nbits : {uint32_t(m.payload.size() * 8), uint32_t(m.payload.size() * 8) - 3, 1000u}) {
            auto bf = Bitfield::from_bytes(m.payload, nbits);
            if (bf.ok()) BTL_FUZZ_CHECK(bf->byte_size() == m.payload.size() && bf->count() <= nbits);
        }
    }
    if (m.id == MsgId::request || m.id == MsgId::cancel || m.id == MsgId::reject) {
        auto bad = check_block_request(m.piece, m.begin, m.length, 1000, 32768);
        if (!bad) BTL_FUZZ_CHECK(m.piece < 1000 && m.length > 0 && uint64_t(m.begin) + m.length <= 32768);
    }
}

// Peer::on_data's loop over one buffer; records messages into `out`.
size_t on_data(std::string_view buf, bool& handshake_done, const Handshake& want, Outcome& out) {
    size_t used = 0;
    if (!handshake_done) {
        if (buf.size() < kHandshakeSize) return 0;
        auto hs = parse_handshake(buf.substr(0, kHandshakeSize));
        BTL_FUZZ_CHECK(hs.ok());
        BTL_FUZZ_CHECK(hs->info_hash == want.info_hash && hs->peer_id == want.peer_id);
        BTL_FUZZ_CHECK(hs->supports_fast() && hs->supports_extended());
        handshake_done = true;
        used = kHandshakeSize;
    }
    while (!out.error && used < buf.size()) {
        std::string_view rest = buf.substr(used);
        ParseResult r = parse_message(rest);
        if (r.status == ParseStatus::need_more) {
            // Needing more is only possible while the frame is incomplete.
            uint64_t need = frame_length_needed(rest);
            BTL_FUZZ_CHECK(need == 0 || need > rest.size() || rest.size() < 5);
            break;
        }
        if (r.status == ParseStatus::error) {
            BTL_FUZZ_CHECK(!r.error.empty());
            out.error = true;
            break;
        }
        BTL_FUZZ_CHECK(r.consumed >= 4 && r.consumed <= rest.size());
        BTL_FUZZ_CHECK(r.consumed <= 4 + uint64_t(kDefaultMaxMessageLength));
        BTL_FUZZ_CHECK(frame_length_needed(rest) == r.consumed);
        const Message& m = r.msg;
        if (!m.payload.empty())
            BTL_FUZZ_CHECK(m.payload.data() >= rest.data() &&
                           m.payload.data() + m.payload.size() <= rest.data() + r.consumed);
        std::string frame = reencode(m);
        BTL_FUZZ_CHECK(frame == rest.substr(0, r.consumed));
        context_checks(m);
        out.messages.push_back(std::move(frame));
        used += r.consumed;
    }
    return used;
}

// Feeds `stream` in chunks of the given sizes (cycled; empty = all at once)
// through a transport-like buffer.
Outcome run(std::string_view stream, const std::vector<size_t>& chunks, const Handshake& hs) {
    Outcome out;
    std::string pending;
    bool handshake_done = false;
    size_t pos = 0, ci = 0;
    while (pos < stream.size() && !out.error) {
        size_t n = chunks.empty() ? stream.size() : chunks[ci++ % chunks.size()];
        n = std::min(n, stream.size() - pos);
        pending.append(stream.substr(pos, n));
        pos += n;
        size_t used = on_data(pending, handshake_done, hs, out);
        BTL_FUZZ_CHECK(used <= pending.size());
        pending.erase(0, used);
        if (!out.error) BTL_FUZZ_CHECK(pending.size() < kMaxBuffer);
    }
    out.leftover = pending.size();
    return out;
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_peer_stream) {
    ByteReader in(data, size);
    const uint8_t flags = in.u8();
    Handshake hs;
    for (size_t i = 0; i < hs.info_hash.size(); ++i) hs.info_hash[i] = uint8_t(0xA0 + i);
    hs.peer_id = make_peer_id("-XX0001-", 42);
    if (flags & 0x10)
        for (auto& b : hs.peer_id) b = in.u8();
    std::vector<size_t> chunks;
    for (int i = 0; i < (flags & 0x0f); ++i) {
        // Small chunks split frames anywhere; 0 stands for a big one.
        uint8_t c = in.u8();
        chunks.push_back(c == 0 ? 65536 : c);
    }
    // Printing the peer's name must cope with any id.
    BTL_FUZZ_CHECK(!client_name(hs.peer_id).empty());

    std::string stream;
    append_handshake(stream, hs.info_hash, hs.peer_id, true, true);
    stream.append(reinterpret_cast<const char*>(in.rest()), in.remaining());

    Outcome whole = run(stream, {}, hs);
    Outcome split = run(stream, chunks, hs);
    BTL_FUZZ_CHECK(whole.messages == split.messages);
    BTL_FUZZ_CHECK(whole.error == split.error);
    if (!whole.error) BTL_FUZZ_CHECK(whole.leftover == split.leftover);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_peer_stream)
