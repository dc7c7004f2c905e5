// BEP 32: the DHT over IPv6 — the codec (nodes6, want, 18-byte values), the
// two linked nodes (one table per family), the saved state with both tables.
#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <random>

#include "btl/dht/dht_node.hpp"
#include "dht_sim.hpp"

using namespace btl::dht;

namespace {

NodeId id_fill(uint8_t b) {
    NodeId id;
    id.fill(b);
    return id;
}

NodeAddr v6(const char* s, uint16_t port) {
    Ip6 a{};
    REQUIRE(parse_ipv6(s, a));
    return NodeAddr::make6(a, port);
}

using testing::random_id;

bool is_query(std::string_view p) {
    auto d = decode_krpc(p);
    return d.ok() && d->kind == MsgKind::query;
}

std::string bstr(const std::string& s) { return std::to_string(s.size()) + ":" + s; }

// A response packet with the given raw r-dict members (already bencoded, sorted).
std::string response(const std::string& members) {
    return "d1:rd2:id20:" + std::string(20, 'x') + members + "e1:t2:aa1:y1:re";
}

// Dual-stack hosts on a fake network: host i has an IPv4 node at
// 127.0.0.(i+1) and an IPv6 node at fd00::(i+1), same id, linked.
struct DualNet : testing::DhtSim {
    DualNet() : DhtSim(7) {}
    DhtNode& make(const NodeId& id, const NodeAddr& me, bool ipv6) {
        DhtConfig cfg;
        cfg.ipv6 = ipv6;
        return DhtSim::make(id, me, cfg);
    }
    // Returns the host's index.
    size_t add_host(bool with_v4 = true) {
        size_t h = nodes.size() / 2;
        NodeId id = random_id(rng);
        Ip6 a{};
        a[0] = 0xfd;
        a[15] = uint8_t(h + 1);
        a[14] = uint8_t((h + 1) >> 8);
        DhtNode& n4 = make(id, NodeAddr{0x7f000001 + uint32_t(h), 6881}, false);
        DhtNode& n6 = make(id, NodeAddr::make6(a, 6881), true);
        if (with_v4) {
            n4.set_other(&n6);
            n6.set_other(&n4);
        }
        return h;
    }
    DhtNode& v4(size_t h) { return *nodes[2 * h]; }
    DhtNode& v6n(size_t h) { return *nodes[2 * h + 1]; }
    NodeAddr a4(size_t h) { return addrs[2 * h]; }
    NodeAddr a6(size_t h) { return addrs[2 * h + 1]; }
    size_t hosts() const { return nodes.size() / 2; }
};

}  // namespace

TEST_CASE("dht6 addr: IPv6 literals, brackets in to_string, v4-mapped and zero addresses unusable") {
    NodeAddr a = v6("2001:db8::1", 6881);
    CHECK(a.v6);
    CHECK(a.ip_string() == "2001:db8::1");
    CHECK(a.to_string() == "[2001:db8::1]:6881");
    CHECK(a.usable());
    CHECK_FALSE(v6("::ffff:1.2.3.4", 6881).usable());
    CHECK_FALSE(v6("::", 6881).usable());
    CHECK_FALSE(v6("::1", 0).usable());
    CHECK(v6("::1", 1).usable());
    NodeAddr b;
    CHECK(parse_node_ip("10.0.0.1", 5, b));
    CHECK_FALSE(b.v6);
    CHECK(parse_node_ip("::1", 5, b));
    CHECK(b.v6);
    CHECK_FALSE(parse_node_ip("[::1]", 5, b));
    CHECK_FALSE(parse_node_ip("example.org", 5, b));
    // Same IPv4 numbers in both families are different addresses.
    NodeAddr four{0x7f000001, 6881};
    CHECK(four != v6("::7f00:1", 6881));
    CHECK(four.key() != v6("::7f00:1", 6881).key());
    CHECK(four < a);
    CHECK_FALSE(a < four);
}

TEST_CASE("dht6 krpc: nodes6, want and 18-byte values round-trip through the canonical encoding") {
    KrpcMessage q;
    q.kind = MsgKind::query;
    q.tid = "aa";
    q.method = Method::find_node;
    q.id = id_fill(1);
    q.target = id_fill(2);
    q.want = kWantN4 | kWantN6;
    std::string pkt = encode_krpc(q);
    CHECK(pkt.find("4:wantl2:n42:n6e") != std::string::npos);
    auto d = decode_krpc(pkt);
    REQUIRE(d.ok());
    CHECK(d->want == (kWantN4 | kWantN6));
    CHECK(encode_krpc(*d) == pkt);

    KrpcMessage r;
    r.kind = MsgKind::response;
    r.tid = "bb";
    r.id = id_fill(3);
    r.nodes.push_back(NodeEntry{id_fill(4), NodeAddr{0x0a000001, 1000}});
    r.nodes6.push_back(NodeEntry{id_fill(5), v6("2001:db8::5", 2000)});
    r.nodes6.push_back(NodeEntry{id_fill(6), v6("fe80::6", 3000)});
    r.values.push_back(v6("2001:db8::77", 4000));
    r.values.push_back(NodeAddr{0x0a000002, 5000});
    r.token = "tok";
    std::string rp = encode_krpc(r);
    CHECK(rp.find("6:nodes676:") != std::string::npos);
    CHECK(rp.find("18:") != std::string::npos);
    auto e = decode_krpc(rp);
    REQUIRE(e.ok());
    REQUIRE(e->nodes.size() == 1);
    REQUIRE(e->nodes6.size() == 2);
    CHECK(e->nodes6[0].id == id_fill(5));
    CHECK(e->nodes6[0].addr == v6("2001:db8::5", 2000));
    CHECK(e->nodes6[1].addr == v6("fe80::6", 3000));
    REQUIRE(e->values.size() == 2);
    CHECK(e->values[0] == v6("2001:db8::77", 4000));
    CHECK(e->values[1] == NodeAddr{0x0a000002, 5000});
    CHECK(encode_krpc(*e) == rp);
}

TEST_CASE("dht6 krpc: want without n4/n6, or not a list, asks for nothing; unknown strings are ignored") {
    std::string base = "d1:ad2:id20:" + std::string(20, 'a') + "6:target20:" + std::string(20, 'b');
    auto d = decode_krpc(base + "4:wantl2:n62:x9ee1:q9:find_node1:t2:aa1:y1:qe");
    REQUIRE(d.ok());
    CHECK(d->want == kWantN6);
    d = decode_krpc(base + "4:want2:n6e1:q9:find_node1:t2:aa1:y1:qe");
    REQUIRE(d.ok());
    CHECK(d->want == 0);
    CHECK(d->method == Method::find_node);
}

TEST_CASE("dht6 krpc: a nodes6 not a multiple of 38 is left out, the rest of the reply stands") {
    std::string node4 = std::string(20, 'n') + std::string("\x0a\x00\x00\x01\x1a\xe1", 6);
    auto d = decode_krpc(response("5:nodes" + bstr(node4) + "6:nodes6" + bstr(std::string(37, 'z')) + "5:token2:tk"));
    REQUIRE(d.ok());
    CHECK(d->nodes.size() == 1);
    CHECK(d->nodes6.empty());
    CHECK(d->token == "tk");
    // Too many entries: ignored too.
    d = decode_krpc(response("6:nodes6" + bstr(std::string(38 * 30, 'z'))));
    REQUIRE(d.ok());
    CHECK(d->nodes6.size() == 30);
}

TEST_CASE("dht6 krpc: IPv4-mapped and unspecified addresses in nodes6 and values are dropped") {
    Ip6 mapped{};
    mapped[10] = mapped[11] = 0xff;
    mapped[12] = 1;
    std::string ent_mapped = std::string(20, 'm') + std::string(reinterpret_cast<const char*>(mapped.data()), 16) + "\x1a\xe1";
    std::string ent_zero = std::string(20, 'z') + std::string(16, '\0') + "\x1a\xe1";
    Ip6 good{};
    good[0] = 0x20;
    good[15] = 9;
    std::string good_addr = std::string(reinterpret_cast<const char*>(good.data()), 16) + "\x1a\xe1";
    std::string ent_good = std::string(20, 'g') + good_addr;
    std::string mapped_peer = std::string(reinterpret_cast<const char*>(mapped.data()), 16) + std::string("\x00\x50", 2);
    auto d = decode_krpc(response("6:nodes6" + bstr(ent_mapped + ent_good + ent_zero) + "6:valuesl" + bstr(mapped_peer) +
                                  bstr(good_addr) + "e"));
    REQUIRE(d.ok());
    REQUIRE(d->nodes6.size() == 1);
    CHECK(d->nodes6[0].id == NodeId{id_fill('g')});
    REQUIRE(d->values.size() == 1);
    CHECK(d->values[0].v6);
    CHECK(d->values[0].port == 6881);
    // A value of another length still fails the packet, as before.
    CHECK_FALSE(decode_krpc(response("6:valuesl" + bstr(std::string(17, 'v')) + "e")).ok());
}

TEST_CASE("dht6 node: a v6 node refuses IPv4 and IPv4-mapped sources; a v4 node refuses IPv6 ones") {
    std::vector<std::string> sent;
    DhtConfig c6;
    c6.ipv6 = true;
    DhtNode n6(id_fill(1), c6, [&](const NodeAddr&, std::string_view p) { sent.emplace_back(p); }, 1);
    DhtNode n4(id_fill(1), {}, [&](const NodeAddr&, std::string_view p) { sent.emplace_back(p); }, 2);
    n6.tick(0);
    n4.tick(0);
    KrpcMessage ping;
    ping.kind = MsgKind::query;
    ping.tid = "pp";
    ping.method = Method::ping;
    ping.id = id_fill(2);
    std::string pkt = encode_krpc(ping);
    n6.on_packet(NodeAddr{0x7f000001, 6881}, pkt, 1);
    n6.on_packet(v6("::ffff:127.0.0.1", 6881), pkt, 1);
    n4.on_packet(v6("::1", 6881), pkt, 1);
    CHECK(sent.empty());
    CHECK(n6.stats().malformed == 2);
    CHECK(n4.stats().malformed == 1);
    n6.on_packet(v6("::1", 6881), pkt, 1);
    CHECK(sent.size() >= 1);  // the answer (and perhaps a ping back)
}

TEST_CASE("dht6 node: find_node answers nodes6 from a v6 node, and `want` picks the families from both tables") {
    DualNet net;
    for (int i = 0; i < 6; ++i) net.add_host();
    for (size_t h = 1; h < net.hosts(); ++h) {
        net.v4(h).bootstrap({net.a4(0)}, net.now);
        net.v6n(h).bootstrap({net.a6(0)}, net.now);
    }
    net.run(3'000);
    REQUIRE(net.v4(0).table().size() >= 4);
    REQUIRE(net.v6n(0).table().size() >= 4);
    for (const auto& e : net.v6n(0).table().all()) CHECK(e.addr.v6);
    for (const auto& e : net.v4(0).table().all()) CHECK_FALSE(e.addr.v6);

    auto ask = [&](DhtNode& to, const NodeAddr& from, uint8_t want) {
        std::string answer;
        KrpcMessage q;
        q.kind = MsgKind::query;
        q.tid = "q1";
        q.method = Method::find_node;
        q.id = id_fill(0xee);
        q.target = id_fill(0x11);
        q.want = want;
        size_t before = net.queue.size();
        to.on_packet(from, encode_krpc(q), net.now);
        for (size_t i = before; i < net.queue.size(); ++i)
            if (net.queue[i].to == from && !is_query(net.queue[i].data)) answer = net.queue[i].data;
        net.queue.resize(before);
        auto d = decode_krpc(answer);
        REQUIRE(d.ok());
        return *d;
    };
    NodeAddr asker6 = v6("fd00::99", 5000), asker4{0x7f0000aa, 5000};
    KrpcMessage r = ask(net.v6n(0), asker6, 0);  // no want: our own family
    CHECK(r.nodes.empty());
    CHECK(r.nodes6.size() >= 4);
    for (const auto& n : r.nodes6) CHECK(n.addr.v6);
    r = ask(net.v6n(0), v6("fd00::98", 5000), kWantN4 | kWantN6);
    CHECK(r.nodes.size() >= 4);
    CHECK(r.nodes6.size() >= 4);
    for (const auto& n : r.nodes) CHECK_FALSE(n.addr.v6);
    r = ask(net.v4(0), asker4, kWantN6);
    CHECK(r.nodes.empty());
    CHECK(r.nodes6.size() >= 4);
    r = ask(net.v4(0), NodeAddr{0x7f0000ab, 5000}, 0);
    CHECK(r.nodes.size() >= 4);
    CHECK(r.nodes6.empty());
}

TEST_CASE("dht6 node: an announce over IPv6 is stored as an IPv6 peer and found by a v6 get_peers as an 18-byte value") {
    DualNet net;
    for (int i = 0; i < 12; ++i) net.add_host();
    for (size_t h = 1; h < net.hosts(); ++h) net.v6n(h).bootstrap({net.a6(0)}, net.now);
    net.run(3'000);
    for (size_t h = 1; h < net.hosts(); ++h) net.v6n(h).bootstrap({}, net.now);
    net.run(3'000);
    for (size_t h = 0; h < net.hosts(); ++h) CHECK(net.v6n(h).table().size() >= 6);
    NodeId ih = random_id(net.rng);
    size_t responded = 0;
    net.v6n(3).announce(ih, 7000, nullptr, [&](size_t n) { responded = n; }, net.now);
    net.run(3'000);
    CHECK(responded >= 6);
    size_t stored = 0;
    for (size_t h = 0; h < net.hosts(); ++h) stored += net.v6n(h).stored_torrents();
    CHECK(stored >= 6);
    std::vector<NodeAddr> found;
    net.v6n(9).get_peers(ih, [&](const std::vector<NodeAddr>& p) { found.insert(found.end(), p.begin(), p.end()); },
                         nullptr, net.now);
    net.run(3'000);
    REQUIRE(found.size() == 1);
    NodeAddr want = net.a6(3);
    want.port = 7000;
    CHECK(found[0] == want);
    // The IPv4 DHT never heard of it.
    for (size_t h = 0; h < net.hosts(); ++h) CHECK(net.v4(h).stored_torrents() == 0);
}

TEST_CASE("dht6 node: a v4 lookup hands the nodes6 it learns to the linked v6 node, never to its own candidates") {
    DualNet net;
    size_t a = net.add_host(), b = net.add_host();
    // b's v6 node knows a few v6 nodes; a asks b over IPv4 with want n4+n6.
    for (int i = 0; i < 3; ++i) {
        size_t h = net.add_host();
        net.v6n(b).add_saved({NodeEntry{net.v6n(h).id(), net.a6(h)}}, net.now);
        net.v6n(h).tick(net.now);
    }
    REQUIRE(net.v6n(b).table().size() == 3);
    for (auto& n : net.nodes) n->tick(net.now);
    // Until a's v6 node has had an answer, a's v4 queries ask for IPv4 only.
    net.v4(a).bootstrap({net.a4(b)}, net.now);
    REQUIRE(net.queue.size() == 1);
    CHECK(decode_krpc(net.queue.back().data)->method == Method::find_node);
    CHECK(decode_krpc(net.queue.back().data)->want == 0);
    net.deliver();
    net.run(500);
    CHECK(net.v6n(a).table().size() == 0);
    net.v6n(a).add_contact(net.a6(b), net.now);  // b's v6 node answers: IPv6 works
    net.deliver();
    net.v4(a).bootstrap({net.a4(b)}, net.now);
    REQUIRE(!net.queue.empty());
    CHECK(decode_krpc(net.queue.back().data)->method == Method::find_node);
    CHECK(decode_krpc(net.queue.back().data)->want == (kWantN4 | kWantN6));
    net.deliver();
    net.run(2'000);
    // a's v6 node pinged the nodes6 it was told of, and they answered.
    CHECK(net.v6n(a).table().size() >= 4);
    for (const auto& e : net.v4(a).table().all()) CHECK_FALSE(e.addr.v6);
    for (const auto& e : net.v6n(a).table().all()) CHECK(e.addr.v6);
}

TEST_CASE("dht6 node: a reply of the wrong family and a lone v6 node's want") {
    std::vector<std::pair<NodeAddr, std::string>> sent;
    DhtConfig c6;
    c6.ipv6 = true;
    DhtNode n6(id_fill(1), c6, [&](const NodeAddr& to, std::string_view p) { sent.emplace_back(to, std::string(p)); }, 1);
    n6.tick(0);
    // Bootstrap addresses of the wrong family are not asked.
    n6.bootstrap({NodeAddr{0x7f000001, 6881}, v6("::ffff:10.0.0.1", 6881)}, 0);
    CHECK(sent.empty());
    n6.bootstrap({v6("::1", 7000)}, 0);
    REQUIRE(sent.size() == 1);
    auto q = decode_krpc(sent[0].second);
    REQUIRE(q.ok());
    CHECK(q->want == 0);  // one family only: no want
    // The answer carries only IPv4 nodes: nothing new to ask, no crash.
    KrpcMessage r;
    r.kind = MsgKind::response;
    r.tid = q->tid;
    r.id = id_fill(2);
    r.nodes.push_back(NodeEntry{id_fill(3), NodeAddr{0x0a000001, 1}});
    n6.on_packet(v6("::1", 7000), encode_krpc(r), 10);
    n6.tick(20);
    CHECK(sent.size() == 1);
    CHECK(n6.table().size() == 1);
    CHECK(n6.table().all()[0].addr == v6("::1", 7000));
}

TEST_CASE("dht6 state: dht.dat keeps both tables; old files without nodes6 load; a damaged nodes6 is dropped") {
    SavedState st;
    st.id = id_fill(9);
    st.nodes.push_back(NodeEntry{id_fill(1), NodeAddr{0x0a000001, 6881}});
    st.nodes6.push_back(NodeEntry{id_fill(2), v6("2001:db8::2", 6882)});
    std::string data = encode_saved(st);
    SavedState back;
    REQUIRE(decode_saved(data, back));
    CHECK(back.id == st.id);
    REQUIRE(back.nodes.size() == 1);
    REQUIRE(back.nodes6.size() == 1);
    CHECK(back.nodes6[0].addr == st.nodes6[0].addr);
    CHECK(back.nodes6[0].id == st.nodes6[0].id);
    // The reader of old files still takes the new ones (nodes6 is extra).
    NodeId id{};
    std::vector<NodeEntry> nodes;
    REQUIRE(DhtNode::parse_saved(data, id, nodes));
    CHECK(nodes.size() == 1);
    // An old file: no nodes6.
    std::string old = "d2:id20:" + std::string(20, 'i') + "5:nodes26:" + std::string(20, 'n') +
                      std::string("\x0a\x00\x00\x01\x1a\xe1", 6) + "e";
    REQUIRE(decode_saved(old, back));
    CHECK(back.nodes.size() == 1);
    CHECK(back.nodes6.empty());
    std::string damaged = "d2:id20:" + std::string(20, 'i') + "5:nodes0:6:nodes65:xxxxxe";
    REQUIRE(decode_saved(damaged, back));
    CHECK(back.nodes6.empty());
    CHECK_FALSE(decode_saved("d6:nodes60:e", back));
}

TEST_CASE("dht6 state: linked nodes save both tables through either node and each takes back its own family") {
    DualNet net;
    for (int i = 0; i < 5; ++i) net.add_host();
    for (size_t h = 1; h < net.hosts(); ++h) {
        net.v4(h).bootstrap({net.a4(0)}, net.now);
        net.v6n(h).bootstrap({net.a6(0)}, net.now);
    }
    net.run(3'000);
    std::string saved = net.v6n(0).save();
    SavedState st;
    REQUIRE(decode_saved(saved, st));
    CHECK(st.id == net.v4(0).id());
    CHECK(st.nodes.size() == net.v4(0).table().size());
    CHECK(st.nodes6.size() == net.v6n(0).table().size());
    DhtConfig c6;
    c6.ipv6 = true;
    DhtNode fresh6(st.id, c6, [](const NodeAddr&, std::string_view) {}, 3);
    fresh6.add_saved(st.nodes, 0);  // the wrong family: refused
    CHECK(fresh6.table().size() == 0);
    fresh6.add_saved(st.nodes6, 0);
    CHECK(fresh6.table().size() == st.nodes6.size());
}

TEST_CASE("dht6 node: 40 IPv6 announcers, a get_peers answer holds 32 18-byte values within the reply bound") {
    std::string last;
    DhtConfig c6;
    c6.ipv6 = true;
    DhtNode n(id_fill(1), c6, [&](const NodeAddr&, std::string_view p) { last = std::string(p); }, 5);
    n.tick(0);
    NodeId ih = id_fill(0x42);
    for (int i = 0; i < 40; ++i) {
        NodeAddr from = v6("2001:db8::", 7000);
        from.ip6[14] = uint8_t(i);
        from.ip6[15] = 1;
        KrpcMessage q;
        q.kind = MsgKind::query;
        q.tid = "a" + std::to_string(i);
        q.method = Method::announce_peer;
        q.id = id_fill(uint8_t(10 + i));
        q.target = ih;
        q.port = uint16_t(8000 + i);
        q.token = n.token_for(from);
        q.read_only = true;
        n.on_packet(from, encode_krpc(q), 10);
        auto r = decode_krpc(last);
        REQUIRE(r.ok());
        CHECK(r->kind == MsgKind::response);
    }
    // A token made for another address is refused.
    NodeAddr other = v6("2001:db8::ffff", 7000);
    KrpcMessage bad;
    bad.kind = MsgKind::query;
    bad.tid = "bd";
    bad.method = Method::announce_peer;
    bad.id = id_fill(99);
    bad.target = ih;
    bad.port = 1;
    bad.token = n.token_for(v6("2001:db8::fffe", 7000));
    n.on_packet(other, encode_krpc(bad), 20);
    auto e = decode_krpc(last);
    REQUIRE(e.ok());
    CHECK(e->kind == MsgKind::error);

    KrpcMessage g;
    g.kind = MsgKind::query;
    g.tid = "gp";
    g.method = Method::get_peers;
    g.id = id_fill(77);
    g.target = ih;
    g.want = kWantN4 | kWantN6;
    g.read_only = true;  // no ping back: the answer is the last packet
    last.clear();
    n.on_packet(v6("2001:db8::77", 1), encode_krpc(g), 30);
    INFO("stats: queries ", n.stats().queries_in, " limited ", n.stats().rate_limited, " out ", n.stats().packets_out);
    auto r = decode_krpc(last);
    REQUIRE(r.ok());
    REQUIRE(r->values.size() == DhtNode::kMaxValues);
    for (const auto& v : r->values) {
        CHECK(v.v6);
        CHECK(v.port >= 8000);
    }
    CHECK(last.size() <= DhtNode::kMaxReply);
    CHECK(last.size() > 512);  // why the bound grew with BEP 32
}

TEST_CASE("dht6 node: nodes6 offered to a v6 node that never had an answer are not pinged (IPv6 may reach nowhere)") {
    size_t sent6 = 0;
    DhtConfig c6;
    c6.ipv6 = true;
    DhtNode n6(id_fill(1), c6, [&](const NodeAddr&, std::string_view) { ++sent6; }, 1);
    n6.tick(0);
    std::mt19937_64 r(3);
    for (int i = 0; i < 8; ++i) {
        NodeAddr a = v6("2001:db8::", 6881);
        a.ip6[15] = uint8_t(i + 1);
        n6.offer(NodeEntry{random_id(r), a}, 10);
    }
    CHECK(sent6 == 0);
    CHECK(n6.outstanding() == 0);
}
