#include <doctest/doctest.h>

#include "btl/net/utp_packet.hpp"

using namespace btl;

TEST_CASE("utp packet: header, selective ACK and payload round-trip") {
    UtpHeader h;
    h.type = UtpType::Data;
    h.conn_id = 0xBEEF;
    h.ts_us = 0x01020304;
    h.ts_diff_us = 0xA0B0C0D0;
    h.wnd = 1u << 20;
    h.seq = 65535;
    h.ack = 7;
    std::string d;
    encode_utp_packet(h, std::string("\x05\0\0\x80", 4), "hello", d);
    REQUIRE(d.size() == 20 + 2 + 4 + 5);
    CHECK(uint8_t(d[0]) == 0x01);  // type 0, version 1
    CHECK(d[1] == 1);              // selective ACK follows
    auto p = parse_utp_packet(d);
    REQUIRE(p.ok());
    CHECK(p->h.type == UtpType::Data);
    CHECK(p->h.conn_id == 0xBEEF);
    CHECK(p->h.ts_us == 0x01020304);
    CHECK(p->h.ts_diff_us == 0xA0B0C0D0);
    CHECK(p->h.wnd == 1u << 20);
    CHECK(p->h.seq == 65535);
    CHECK(p->h.ack == 7);
    CHECK(p->payload == "hello");
    REQUIRE(p->sack.size() == 4);
    CHECK(utp_sack_bit(p->sack, 0));
    CHECK(!utp_sack_bit(p->sack, 1));
    CHECK(utp_sack_bit(p->sack, 2));
    CHECK(utp_sack_bit(p->sack, 31));
    CHECK(!utp_sack_bit(p->sack, 32));
}

TEST_CASE("utp packet: the first byte tells uTP from other UDP traffic") {
    CHECK(utp_first_byte(0x41));   // SYN v1
    CHECK(utp_first_byte(0x21));   // STATE v1
    CHECK(!utp_first_byte('d'));   // a DHT message
    CHECK(!utp_first_byte(0x51));  // type 5
    CHECK(!utp_first_byte(0x42));  // version 2
}

TEST_CASE("utp packet: the decoder refuses malformed datagrams with a message") {
    UtpHeader h;
    h.type = UtpType::State;
    std::string ok;
    encode_utp_packet(h, {}, {}, ok);
    REQUIRE(parse_utp_packet(ok).ok());

    auto bad = [](std::string d, const char* what) {
        auto r = parse_utp_packet(d);
        REQUIRE(!r.ok());
        CHECK(r.error().message.find(what) != std::string::npos);
    };
    bad(ok.substr(0, 19), "shorter");
    std::string v2 = ok;
    v2[0] = 0x22;
    bad(v2, "version");
    std::string t5 = ok;
    t5[0] = 0x51;
    bad(t5, "type");
    std::string ext = ok;
    ext[1] = 1;
    bad(ext, "past the end");
    bad(ext + std::string("\0\x08", 2) + "1234", "longer than");
    // libtorrent's one-byte selective ACK is taken
    auto one = parse_utp_packet(ext + std::string("\0\x01", 2) + "\x05");
    REQUIRE(one.ok());
    CHECK(one->sack.size() == 1);
    CHECK(utp_sack_bit(one->sack, 0));
    CHECK(utp_sack_bit(one->sack, 2));
    CHECK(!utp_sack_bit(one->sack, 8));
    bad(ext + std::string("\0\x00", 2), "selective ACK of 0");
    bad(ext + std::string("\0\xff", 2) + std::string(255, 'x'), "selective ACK of 255");
    // a chain of unknown extensions, one too many
    std::string chain = ok;
    chain[1] = 9;
    for (int i = 0; i < 9; ++i) chain += std::string("\x09\x00", 2);
    bad(chain, "too many");
    // two selective ACKs
    std::string two = ext + std::string("\x01\x04", 2) + "abcd" + std::string("\0\x04", 2) + "efgh";
    bad(two, "two selective");
    // an unknown extension is skipped
    std::string unk = ok;
    unk[1] = 2;
    unk += std::string("\0\x03", 2) + "xyz" + "data";
    auto r = parse_utp_packet(unk);
    REQUIRE(r.ok());
    CHECK(r->payload == "data");
    CHECK(r->sack.empty());
}
