#include <doctest/doctest.h>

#include <cstring>

#include "btl/core/wire.hpp"

using namespace btl;

namespace {

Message parse_one(const std::string& frame) {
    ParseResult r = parse_message(frame);
    REQUIRE(r.status == ParseStatus::message);
    CHECK(r.consumed == frame.size());
    return r.msg;
}

std::string parse_err(const std::string& buf, uint32_t limit = kDefaultMaxMessageLength) {
    ParseResult r = parse_message(buf, limit);
    return r.status == ParseStatus::error ? r.error : std::string("no error");
}

std::string be32(uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

}  // namespace

TEST_CASE("wire: handshake round trip and flags") {
    Sha1Digest ih{};
    for (size_t i = 0; i < 20; ++i) ih[i] = uint8_t(i * 7);
    PeerId pid = make_peer_id("-BM0100-", 42);
    std::string out;
    append_handshake(out, ih, pid);
    REQUIRE(out.size() == kHandshakeSize);
    CHECK(out[0] == 19);
    CHECK(out.substr(1, 19) == "BitTorrent protocol");
    auto h = parse_handshake(out);
    REQUIRE(h.ok());
    CHECK(h->info_hash == ih);
    CHECK(h->peer_id == pid);
    CHECK(h->supports_fast());
    CHECK(h->supports_extended());
    CHECK_FALSE(h->supports_dht());

    out.clear();
    append_handshake(out, ih, pid, false, false);
    auto h2 = parse_handshake(out);
    REQUIRE(h2.ok());
    CHECK_FALSE(h2->supports_fast());
    CHECK_FALSE(h2->supports_extended());

    CHECK(parse_handshake(out.substr(0, 67)).error().message == "handshake too short");
    std::string bad = out;
    bad[0] = 18;
    CHECK(parse_handshake(bad).error().message == "not a BitTorrent handshake");
    bad = out;
    bad[5] = 'x';
    CHECK(parse_handshake(bad).error().message == "not a BitTorrent handshake");
    CHECK(parse_handshake(std::string("GET / HTTP/1.1\r\n") + std::string(60, 'a')).ok() == false);
}

TEST_CASE("wire: peer ids and client names") {
    PeerId a = make_peer_id("-BM0100-", 1), b = make_peer_id("-BM0100-", 2);
    CHECK(a != b);
    CHECK(std::memcmp(a.data(), "-BM0100-", 8) == 0);
    for (size_t i = 8; i < 20; ++i) CHECK(std::isalnum(a[i]));
    CHECK(make_peer_id("-BM0100-", 1) == a);  // deterministic in the seed

    auto id = [](const char* s) {
        PeerId p{};
        std::memcpy(p.data(), s, std::min<size_t>(20, std::strlen(s)));
        return p;
    };
    CHECK(client_name(id("-LT2080-abcdefghijkl")) == "libtorrent 2.0.8.0");
    CHECK(client_name(id("-lt0D80-abcdefghijkl")) == "libTorrent (rtorrent) 0.13.8.0");
    CHECK(client_name(id("-TR4000-abcdefghijkl")) == "Transmission 4.0.0.0");
    CHECK(client_name(id("-qB4510-abcdefghijkl")) == "qBittorrent 4.5.1.0");
    CHECK(client_name(id("-ZZ1234-abcdefghijkl")) == "ZZ 1.2.3.4");
    // Ours is BM; BL belongs to BitBlinder (issue 12).
    CHECK(client_name(id("-BM0100-abcdefghijkl")) == "btlaunchmany 0.1.0.0");
    CHECK(client_name(id("-BL0100-abcdefghijkl")) == "BitBlinder 0.1.0.0");
    CHECK(client_name(id("A2-1-36-0-abcdefghij")) == "aria2 1.36.0");
    CHECK(client_name(id("-aria2-abcdefghijklm")) == "aria2");
    CHECK(client_name(id("M7-2-2--abcdefghijkl")) == "BitTorrent 7.2.2");
    PeerId junk{};
    junk[0] = 0x1b;  // ESC must never reach the terminal
    junk[1] = 'X';
    CHECK(client_name(junk) == "unknown \\x1bX\\x00\\x00\\x00\\x00\\x00\\x00");
}

TEST_CASE("wire: simple messages round trip") {
    for (MsgId id : {MsgId::choke, MsgId::unchoke, MsgId::interested, MsgId::not_interested, MsgId::have_all,
                     MsgId::have_none}) {
        std::string out;
        append_simple(out, id);
        CHECK(out.size() == 5);
        CHECK(parse_one(out).id == id);
    }
    std::string ka;
    append_keepalive(ka);
    CHECK(ka == std::string(4, '\0'));
    CHECK(parse_one(ka).keepalive);
}

TEST_CASE("wire: messages with fields round trip") {
    std::string out;
    append_have(out, 0xDEADBEEF);
    Message m = parse_one(out);
    CHECK(m.id == MsgId::have);
    CHECK(m.piece == 0xDEADBEEF);

    for (auto [fn, id] : {std::pair{&append_request, MsgId::request}, std::pair{&append_cancel, MsgId::cancel},
                          std::pair{&append_reject, MsgId::reject}}) {
        out.clear();
        fn(out, 7, 16384, 16384);
        CHECK(out.size() == 17);
        m = parse_one(out);
        CHECK(m.id == id);
        CHECK(m.piece == 7);
        CHECK(m.begin == 16384);
        CHECK(m.length == 16384);
    }
    out.clear();
    append_allowed_fast(out, 99);
    m = parse_one(out);
    CHECK((m.id == MsgId::allowed_fast && m.piece == 99));
    out.clear();
    append_suggest(out, 98);
    m = parse_one(out);
    CHECK((m.id == MsgId::suggest && m.piece == 98));
    out.clear();
    append_port(out, 51413);
    m = parse_one(out);
    CHECK((m.id == MsgId::port && m.port == 51413));
    out.clear();
    append_extended(out, 3, "d1:ai1ee");
    m = parse_one(out);
    CHECK(m.id == MsgId::extended);
    CHECK(m.ext_id == 3);
    CHECK(m.payload == "d1:ai1ee");

    Bitfield bf(11);
    bf.set(0);
    bf.set(10);
    out.clear();
    append_bitfield(out, bf);
    m = parse_one(out);
    CHECK(m.id == MsgId::bitfield);
    CHECK(Bitfield::from_bytes(m.payload, 11).value() == bf);

    out.clear();
    std::string block(100, 'z');
    append_piece_header(out, 5, 32768, uint32_t(block.size()));
    CHECK(out.size() == kPieceHeaderSize);
    out += block;
    m = parse_one(out);
    CHECK(m.id == MsgId::piece);
    CHECK(m.piece == 5);
    CHECK(m.begin == 32768);
    CHECK(m.length == 100);
    CHECK(m.payload == block);
    CHECK(m.payload.data() == out.data() + 13);  // zero-copy
}

TEST_CASE("wire: fragmented input, byte by byte, several messages in one buffer") {
    std::string stream;
    append_handshake(stream, Sha1Digest{}, PeerId{});
    stream.erase(0, kHandshakeSize);  // only messages
    append_simple(stream, MsgId::unchoke);
    append_have(stream, 3);
    append_keepalive(stream);
    append_piece_header(stream, 1, 0, 5);
    stream += "hello";
    append_extended(stream, 0, "");
    std::vector<MsgId> ids;
    std::string buf;
    for (char c : stream) {
        buf.push_back(c);
        for (;;) {
            ParseResult r = parse_message(buf);
            REQUIRE(r.status != ParseStatus::error);
            if (r.status == ParseStatus::need_more) {
                CHECK(r.consumed == 0);
                break;
            }
            ids.push_back(r.msg.keepalive ? MsgId(255) : r.msg.id);
            if (r.msg.id == MsgId::piece && !r.msg.keepalive) CHECK(r.msg.payload == "hello");
            buf.erase(0, r.consumed);
        }
    }
    CHECK(buf.empty());
    REQUIRE(ids.size() == 5);
    CHECK(ids[0] == MsgId::unchoke);
    CHECK(ids[1] == MsgId::have);
    CHECK(ids[2] == MsgId(255));
    CHECK(ids[3] == MsgId::piece);
    CHECK(ids[4] == MsgId::extended);
}

TEST_CASE("wire: errors") {
    // Over the limit: reported from the 4 length bytes alone.
    CHECK(parse_err(be32(0xFFFFFFFF)) == "message length 4294967295 exceeds limit 1048589");
    CHECK(parse_err(be32(1000), 999) == "message length 1000 exceeds limit 999");
    CHECK(parse_message(be32(999) + "\x07", 999).status == ParseStatus::need_more);
    CHECK(parse_message(std::string("\0\0\0", 3)).status == ParseStatus::need_more);
    CHECK(parse_message("").status == ParseStatus::need_more);
    // Fixed sizes.
    CHECK(parse_err(be32(7) + "\x04") == "have message of length 7");
    CHECK(parse_err(be32(2) + std::string(1, '\0')) == "choke message of length 2");
    CHECK(parse_err(be32(14) + "\x06") == "request message of length 14");
    CHECK(parse_err(be32(5) + "\x10") == "reject message of length 5");
    CHECK(parse_err(be32(2) + "\x09") == "port message of length 2");
    CHECK(parse_err(be32(8) + "\x07") == "piece message of length 8");
    CHECK(parse_err(be32(1) + "\x14") == "extended message of length 1");
    // Unknown ids are whole messages for the caller to ignore, within the limit.
    {
        const std::string buf = be32(4) + "\x2a" + "abc" + "tail";  // payload points into it
        auto r = parse_message(buf);
        REQUIRE(r.status == ParseStatus::message);
        CHECK(r.consumed == 8);
        CHECK(uint8_t(r.msg.id) == 42);
        CHECK(r.msg.payload == "abc");
        CHECK(parse_message(be32(1) + "\x0a").status == ParseStatus::message);
        CHECK(parse_message(be32(100) + "\x12").status == ParseStatus::need_more);
        CHECK(parse_err(be32(200) + "\xff", 199) == "message length 200 exceeds limit 199");
    }
    // Empty bitfield and piece with an empty block are well-formed frames.
    CHECK(parse_message(be32(1) + "\x05").status == ParseStatus::message);
    CHECK(parse_message(be32(9) + "\x07" + std::string(8, '\0')).status == ParseStatus::message);
}

TEST_CASE("wire: frame_length_needed") {
    CHECK(frame_length_needed("") == 0);
    CHECK(frame_length_needed(std::string("\0\0\0", 3)) == 0);
    CHECK(frame_length_needed(be32(13)) == 17);
    CHECK(frame_length_needed(be32(0xFFFFFFFF)) == 0x100000003ull);
}

TEST_CASE("wire: check_block_request") {
    CHECK_FALSE(check_block_request(0, 0, 16384, 10, 32768).has_value());
    CHECK_FALSE(check_block_request(9, 16384, 100, 10, 16484).has_value());
    CHECK(check_block_request(10, 0, 16384, 10, 32768).value() == "request for piece 10 of 10");
    CHECK(check_block_request(0, 0, 0, 10, 32768).value() == "request of length 0");
    CHECK(check_block_request(0, 0, 16385, 10, 32768).value() == "request of 16385 bytes exceeds 16384");
    CHECK(check_block_request(0, 16385, 16384, 10, 32768).value() ==
          "request 16385+16384 past the end of piece 0 (32768 bytes)");
    // begin + length overflowing 32 bits must not wrap.
    CHECK(check_block_request(0, 0xFFFFFFF0u, 0x100, 10, 32768, 0x1000).has_value());
}
