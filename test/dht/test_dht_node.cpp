#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <random>

#include "btl/dht/dht_node.hpp"
#include "dht_sim.hpp"

using namespace btl::dht;

namespace {

bool is_query(std::string_view p) {
    auto d = decode_krpc(p);
    return d.ok() && d->kind == MsgKind::query;
}

using testing::random_id;

// IPv4 nodes at 127.0.0.1, .2, ... on a fake network.
struct SimNet : testing::DhtSim {
    SimNet() : DhtSim(42) {}
    DhtNode& add(DhtConfig cfg = {}) {
        return make(random_id(rng), NodeAddr{0x7f000001 + uint32_t(nodes.size()), 6881}, cfg);
    }
};

}  // namespace

TEST_CASE("dht node: a swarm bootstraps from one node, an announce is found by another node's get_peers") {
    SimNet net;
    for (int i = 0; i < 30; ++i) net.add();
    for (size_t i = 1; i < net.nodes.size(); ++i) net.nodes[i]->bootstrap({net.addrs[0]}, net.now);
    net.run(3'000);
    for (size_t i = 1; i < net.nodes.size(); ++i) net.nodes[i]->bootstrap({}, net.now);
    net.run(3'000);
    for (auto& n : net.nodes) CHECK(n->table().size() >= 8);

    NodeId ih = random_id(net.rng);
    size_t responded = 0;
    net.nodes[5]->announce(ih, 7000, nullptr, [&](size_t n) { responded = n; }, net.now);
    net.run(3'000);
    CHECK(responded >= 8);

    std::vector<NodeAddr> found;
    bool done = false;
    net.nodes[20]->get_peers(
        ih, [&](const std::vector<NodeAddr>& p) { found.insert(found.end(), p.begin(), p.end()); },
        [&](size_t) { done = true; }, net.now);
    net.run(3'000);
    CHECK(done);
    REQUIRE(found.size() == 1);
    CHECK(found[0] == NodeAddr{net.addrs[5].ip, 7000});
}

TEST_CASE("dht node: implied_port announces store the packet's source port") {
    SimNet net;
    for (int i = 0; i < 10; ++i) net.add();
    for (size_t i = 1; i < net.nodes.size(); ++i) net.nodes[i]->bootstrap({net.addrs[0]}, net.now);
    net.run(3'000);
    NodeId ih = random_id(net.rng);
    net.nodes[3]->announce(ih, 0, nullptr, nullptr, net.now);
    net.run(3'000);
    std::vector<NodeAddr> found;
    net.nodes[7]->get_peers(ih, [&](const std::vector<NodeAddr>& p) { found = p; }, nullptr, net.now);
    net.run(3'000);
    REQUIRE(found.size() == 1);
    CHECK(found[0] == net.addrs[3]);
}

TEST_CASE("dht node: lookups to silent nodes time out and end; the query budget bounds packets per second") {
    DhtConfig cfg;
    cfg.queries_per_s = 20;
    cfg.query_burst = 10;
    std::vector<std::pair<NodeAddr, std::string>> out;
    std::mt19937_64 r(7);
    DhtNode n(random_id(r), cfg, [&](const NodeAddr& to, std::string_view p) { out.emplace_back(to, std::string(p)); }, 1);
    std::vector<NodeEntry> silent;
    for (uint32_t i = 0; i < 200; ++i) silent.push_back(NodeEntry{random_id(r), NodeAddr{0x0a000000 + i, 6881}});
    n.add_saved(silent, 0);
    size_t done = 0;
    for (int i = 0; i < 100; ++i) n.get_peers(random_id(r), nullptr, [&](size_t k) { done += k == 0; }, 0);
    CHECK(n.lookups() == 100);
    CHECK(n.active_lookups() <= cfg.max_active);
    for (int64_t t = 0; t <= 10'000; t += 100) n.tick(t);
    // 10 s at 20/s plus the burst of 10.
    CHECK(out.size() <= 10 + 20 * 10 + 1);
    CHECK(n.stats().timeouts > 0);
    for (int64_t t = 10'000; t <= 400'000; t += 100) n.tick(t);
    CHECK(done == 100);
    CHECK(n.lookups() == 0);
    CHECK(n.outstanding() == 0);
}

TEST_CASE("dht node: a flood of queries from random ids and addresses costs bounded memory and is rate limited") {
    DhtConfig cfg;
    cfg.max_sources = 1000;
    size_t replies = 0, reply_bytes_max = 0;
    std::mt19937_64 r(9);
    size_t pings = 0;
    DhtNode n(random_id(r), cfg, [&](const NodeAddr&, std::string_view p) {
        if (is_query(p)) return void(++pings);
        ++replies;
        reply_bytes_max = std::max(reply_bytes_max, p.size());
    }, 1);
    KrpcMessage q;
    q.kind = MsgKind::query;
    q.tid = "ab";
    size_t max_ratio_pct = 0;
    for (int i = 0; i < 100'000; ++i) {
        q.method = i % 3 == 0 ? Method::find_node : i % 3 == 1 ? Method::get_peers : Method::ping;
        q.id = random_id(r);
        q.target = random_id(r);
        std::string pkt = encode_krpc(q);
        size_t before = replies;
        NodeAddr from{uint32_t(r()) | 1, uint16_t(r() | 1)};
        n.on_packet(from, pkt, 1'000 + i / 100);  // 100,000 packets in 1 s
        if (replies > before) max_ratio_pct = std::max(max_ratio_pct, reply_bytes_max * 100 / pkt.size());
    }
    CHECK(n.tracked_sources() <= cfg.max_sources + 1);
    CHECK(n.outstanding() <= cfg.max_outstanding);
    CHECK(n.table().size() <= 160 * 8);
    CHECK(n.stats().rate_limited > 0);
    CHECK(reply_bytes_max <= DhtNode::kMaxReply);
    CHECK(reply_bytes_max <= 512);  // IPv4 alone: the bound before BEP 32
    CHECK(max_ratio_pct <= 600);  // a reply is at most 6x its query
    // One source hammering: at most its burst plus its rate gets answers.
    size_t before = replies;
    q.method = Method::ping;
    for (int i = 0; i < 1000; ++i) n.on_packet(NodeAddr{0x01020304, 1}, encode_krpc(q), 500'000);
    CHECK(replies - before <= size_t(cfg.per_source_burst) + 1);
    CHECK(pings <= 100'000 / 10);  // pings back are budgeted, once per source
}

TEST_CASE("dht node: malformed packets and unexpected replies are counted and dropped") {
    size_t sent = 0;
    std::mt19937_64 r(3);
    DhtNode n(random_id(r), {}, [&](const NodeAddr&, std::string_view) { ++sent; }, 1);
    NodeAddr from{0x7f000002, 7000};
    for (const char* p : {"", "garbage", "d1:t2:aae", "i42e", "d1:rd2:id3:abce1:t2:aa1:y1:re"}) n.on_packet(from, p, 0);
    CHECK(n.stats().malformed == 5);
    CHECK(sent == 0);
    n.on_packet(from, "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re", 0);  // nobody asked
    CHECK(n.stats().unexpected == 1);
    CHECK(n.table().size() == 0);
    // Queries with bad arguments get error 203, unknown methods 204.
    std::string last;
    DhtNode m(random_id(r), {}, [&](const NodeAddr&, std::string_view p) {
        if (!is_query(p)) last = std::string(p);
    }, 1);
    m.on_packet(from, "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:zz1:y1:qe", 0);
    auto e = decode_krpc(last);
    REQUIRE(e.ok());
    CHECK(e->error_code == kErrProtocol);
    m.on_packet(from, "d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:zz1:y1:qe", 0);
    e = decode_krpc(last);
    REQUIRE(e.ok());
    CHECK(e->error_code == kErrMethod);
}

TEST_CASE("dht node: tokens rotate every 5 minutes and the previous one is still accepted") {
    std::string last;
    std::mt19937_64 r(5);
    DhtNode n(random_id(r), {}, [&](const NodeAddr&, std::string_view p) {
        if (!is_query(p)) last = std::string(p);
    }, 1);
    n.tick(0);
    NodeAddr from{0x7f000002, 7000};
    std::string tok = n.token_for(from.ip);
    CHECK(tok != n.token_for(from.ip + 1));
    auto announce = [&](int64_t now) {
        KrpcMessage q;
        q.kind = MsgKind::query;
        q.tid = "t1";
        q.method = Method::announce_peer;
        q.id = random_id(r);
        q.target = NodeId{};
        q.port = 9999;
        q.token = tok;
        n.on_packet(from, encode_krpc(q), now);
        auto d = decode_krpc(last);
        return d.ok() && d->kind == MsgKind::response;
    };
    CHECK(announce(1));
    n.tick(DhtNode::kSecretRotateMs);
    CHECK(announce(DhtNode::kSecretRotateMs + 1));
    n.tick(2 * DhtNode::kSecretRotateMs);
    CHECK_FALSE(announce(2 * DhtNode::kSecretRotateMs + 1));
    CHECK(n.stored_torrents() == 1);
}

TEST_CASE("dht node: the peer store is bounded per info hash and in info hashes") {
    DhtConfig cfg;
    cfg.max_torrents = 50;
    cfg.max_peers = 10;
    cfg.per_source_burst = 1e9;
    std::string last;
    std::mt19937_64 r(11);
    DhtNode n(random_id(r), cfg, [&](const NodeAddr&, std::string_view p) {
        if (!is_query(p)) last = std::string(p);
    }, 1);
    n.tick(0);
    for (uint32_t i = 0; i < 5000; ++i) {
        NodeAddr from{0x0b000000 + i, 7000};
        KrpcMessage q;
        q.kind = MsgKind::query;
        q.tid = "t1";
        q.method = Method::announce_peer;
        q.id = random_id(r);
        q.target = NodeId{};
        q.target[0] = uint8_t(i % 100);
        q.port = 9999;
        q.token = n.token_for(from.ip);
        n.on_packet(from, encode_krpc(q), 1 + i);
    }
    CHECK(n.stored_torrents() == 50);
    for (uint32_t i = 0; i < 50; ++i) {  // one info hash from 50 addresses
        NodeAddr from{0x0d000000 + i, 7000};
        KrpcMessage q;
        q.kind = MsgKind::query;
        q.tid = "t1";
        q.method = Method::announce_peer;
        q.id = random_id(r);
        q.target = NodeId{};
        q.target[0] = 99;
        q.port = 9999;
        q.token = n.token_for(from.ip);
        n.on_packet(from, encode_krpc(q), 5001 + i);
    }
    CHECK(n.stored_torrents() == 50);
    KrpcMessage g;
    g.kind = MsgKind::query;
    g.tid = "g";
    g.method = Method::get_peers;
    g.id = random_id(r);
    g.target = NodeId{};
    g.target[0] = 99;
    n.on_packet(NodeAddr{0x0c000001, 1}, encode_krpc(g), 6000);
    auto d = decode_krpc(last);
    REQUIRE(d.ok());
    CHECK(d->values.size() == 10);
    CHECK(last.size() <= DhtNode::kMaxReply);
    CHECK(last.size() <= 512);
    // Announces expire.
    n.tick(6000 + DhtNode::kPeerTtlMs + 60'000);
    CHECK(n.stored_torrents() == 0);
}

TEST_CASE("dht node: the saved table round-trips and seeds the next start") {
    SimNet net;
    for (int i = 0; i < 12; ++i) net.add();
    for (size_t i = 1; i < net.nodes.size(); ++i) net.nodes[i]->bootstrap({net.addrs[0]}, net.now);
    net.run(3'000);
    std::string saved = net.nodes[4]->save();
    NodeId id{};
    std::vector<NodeEntry> nodes;
    REQUIRE(DhtNode::parse_saved(saved, id, nodes));
    CHECK(id == net.nodes[4]->id());
    CHECK(nodes.size() == net.nodes[4]->table().size());
    CHECK_FALSE(DhtNode::parse_saved("d2:id3:abce", id, nodes));
    CHECK_FALSE(DhtNode::parse_saved("garbage", id, nodes));
    // A fresh node with that table joins without any bootstrap address.
    auto& fresh = net.add();
    fresh.add_saved(nodes, net.now);
    size_t responded = 0;
    fresh.bootstrap({}, net.now, [&](size_t n) { responded = n; });
    net.run(3'000);
    CHECK(responded >= 8);
    CHECK(fresh.table().good_count(net.now) >= 8);
}

TEST_CASE("dht node: announces (get_peers then announce_peer) stay within the query budget") {
    SimNet net;
    DhtConfig slow;
    slow.queries_per_s = 20;
    slow.query_burst = 10;
    net.add(slow);
    for (int i = 0; i < 20; ++i) net.add();
    for (size_t i = 1; i < net.nodes.size(); ++i) net.nodes[i]->bootstrap({net.addrs[1]}, net.now);
    net.run(3'000);
    net.nodes[0]->bootstrap({net.addrs[1]}, net.now);
    net.run(3'000);
    size_t queries = 0;
    const NodeAddr me = net.addrs[0];
    size_t done = 0;
    for (int i = 0; i < 50; ++i) net.nodes[0]->announce(random_id(net.rng), 7000, nullptr, [&](size_t) { ++done; }, net.now);
    for (int64_t t = 0; t < 10'000; t += 100) {
        net.now += 100;
        for (auto& n : net.nodes) n->tick(net.now);
        for (const auto& p : net.queue)
            if (p.from == me && is_query(p.data)) ++queries;
        net.deliver();
    }
    CHECK(done > 0);
    CHECK(queries >= 150);  // 50 announces want far more: the budget is what limits
    // 10 s at 20/s plus the burst; the debt of the last announce_peer round at most kK.
    CHECK(queries <= 20 * 10 + 10 + DhtNode::kK);
}

TEST_CASE("dht node: oversize or overfull replies to our queries are dropped, the lookup goes on") {
    std::vector<std::pair<NodeAddr, std::string>> out;
    std::mt19937_64 r(21);
    DhtNode n(random_id(r), {}, [&](const NodeAddr& to, std::string_view p) { out.emplace_back(to, std::string(p)); }, 1);
    NodeAddr peer{0x7f000009, 7000};
    size_t responded = 99;
    n.bootstrap({peer}, 0, [&](size_t k) { responded = k; });
    REQUIRE(out.size() == 1);
    auto q = decode_krpc(out[0].second);
    REQUIRE(q.ok());
    // An answer with 100 nodes (2,600 bytes of them): over the packet and node bounds.
    KrpcMessage big;
    big.kind = MsgKind::response;
    big.tid = q->tid;
    big.id = random_id(r);
    for (uint32_t i = 0; i < 100; ++i) big.nodes.push_back(NodeEntry{random_id(r), NodeAddr{0x0a000000 + i, 6881}});
    n.on_packet(peer, encode_krpc(big), 10);
    CHECK(n.stats().malformed == 1);
    CHECK(n.table().size() == 0);
    // The same answer from another address is not taken either.
    big.nodes.resize(8);
    n.on_packet(NodeAddr{0x7f00000a, 7000}, encode_krpc(big), 20);
    CHECK(n.stats().unexpected == 1);
    CHECK(n.table().size() == 0);
    // The query times out; the lookup ends with nobody having answered.
    for (int64_t t = 0; t <= 10'000; t += 100) n.tick(t);
    CHECK(responded == 0);
    CHECK(n.lookups() == 0);
}
