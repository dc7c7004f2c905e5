#include <doctest/doctest.h>

#include "btl/dht/krpc.hpp"

using namespace btl::dht;

namespace {
NodeId id_of(uint8_t b) {
    NodeId id;
    id.fill(b);
    return id;
}
}  // namespace

TEST_CASE("krpc: every query kind round-trips through the canonical encoding") {
    for (Method m : {Method::ping, Method::find_node, Method::get_peers, Method::announce_peer}) {
        KrpcMessage q;
        q.kind = MsgKind::query;
        q.tid = "aa";
        q.method = m;
        q.id = id_of(1);
        q.target = id_of(2);
        q.port = 6881;
        q.token = "tok";
        std::string pkt = encode_krpc(q);
        auto d = decode_krpc(pkt);
        REQUIRE(d.ok());
        CHECK(d->method == m);
        CHECK(d->tid == "aa");
        CHECK(d->id == q.id);
        if (m != Method::ping) CHECK(d->target == q.target);
        if (m == Method::announce_peer) {
            CHECK(d->port == 6881);
            CHECK(d->token == "tok");
            CHECK_FALSE(d->implied_port);
        }
        CHECK(encode_krpc(*d) == pkt);
    }
}

TEST_CASE("krpc: the BEP 5 example ping decodes") {
    auto d = decode_krpc("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    REQUIRE(d.ok());
    CHECK(d->kind == MsgKind::query);
    CHECK(d->method == Method::ping);
    CHECK(std::string(d->id.begin(), d->id.end()) == "abcdefghij0123456789");
    auto r = decode_krpc("d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re");
    REQUIRE(r.ok());
    CHECK(r->kind == MsgKind::response);
}

TEST_CASE("krpc: responses carry compact nodes, values and a token") {
    KrpcMessage r;
    r.kind = MsgKind::response;
    r.tid = "x";
    r.id = id_of(3);
    r.nodes.push_back(NodeEntry{id_of(4), NodeAddr{0x7f000001, 6881}});
    r.values.push_back(NodeAddr{0x0a000002, 51413});
    r.token = "secret";
    auto d = decode_krpc(encode_krpc(r));
    REQUIRE(d.ok());
    REQUIRE(d->nodes.size() == 1);
    CHECK(d->nodes[0].addr.to_string() == "127.0.0.1:6881");
    REQUIRE(d->values.size() == 1);
    CHECK(d->values[0].to_string() == "10.0.0.2:51413");
    CHECK(d->token == "secret");
}

TEST_CASE("krpc: announce_peer with implied_port needs no port") {
    auto d = decode_krpc(
        "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234565:token1:ze"
        "1:q13:announce_peer1:t2:aa1:y1:qe");
    REQUIRE(d.ok());
    CHECK(d->method == Method::announce_peer);
    CHECK(d->implied_port);
    CHECK(d->port == 0);
}

TEST_CASE("krpc: errors decode with code and message") {
    auto d = decode_krpc("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
    REQUIRE(d.ok());
    CHECK(d->kind == MsgKind::error);
    CHECK(d->error_code == 201);
    CHECK(d->error_msg == "A Generic Error Ocurred");
}

TEST_CASE("krpc: a query missing arguments is invalid, an unknown method unknown; both keep the tid") {
    auto d = decode_krpc("d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:zz1:y1:qe");
    REQUIRE(d.ok());
    CHECK(d->method == Method::invalid);
    CHECK(d->tid == "zz");
    auto u = decode_krpc("d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:zz1:y1:qe");
    REQUIRE(u.ok());
    CHECK(u->method == Method::unknown);
    auto a = decode_krpc("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe");
    REQUIRE(a.ok());
    CHECK(a->method == Method::invalid);
}

TEST_CASE("krpc: malformed packets are errors") {
    const char* bad[] = {
        "",
        "le",
        "d1:t2:aae",                                           // no y
        "d1:y1:qe",                                            // no t
        "d1:t0:1:y1:qe",                                       // empty tid
        "d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe",                     // tid too long
        "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:xe",     // unknown type
        "d1:rd2:id19:mnopqrstuvwxyz12345e1:t2:aa1:y1:re",      // short id
        "d1:rd2:id20:mnopqrstuvwxyz1234565:nodes3:abce1:t2:aa1:y1:re",  // nodes not x26
        "d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl3:abcee1:t2:aa1:y1:re",  // short peer
        "d1:t2:aa1:y1:ree",                                    // response without r
        "d1:eli201ee1:t2:aa1:y1:e",                            // truncated
        "d1:ad1:ad1:ad1:ad1:ai1eeeeee1:t2:aa1:y1:qe",          // too deep
    };
    for (const char* p : bad) CHECK_MESSAGE(!decode_krpc(p).ok(), p);
    CHECK_FALSE(decode_krpc(std::string(kMaxPacket + 1, 'd')).ok());
}

TEST_CASE("krpc: parse_ipv4 accepts dotted quads only") {
    uint32_t ip = 0;
    CHECK(parse_ipv4("127.0.0.1", ip));
    CHECK(ip == 0x7f000001);
    CHECK_FALSE(parse_ipv4("256.0.0.1", ip));
    CHECK_FALSE(parse_ipv4("1.2.3", ip));
    CHECK_FALSE(parse_ipv4("1.2.3.4.5", ip));
    CHECK_FALSE(parse_ipv4("router.bittorrent.com", ip));
}
