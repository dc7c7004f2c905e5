#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "btl/core/super_seed.hpp"

using namespace btl;

namespace {

std::map<uint32_t, std::vector<uint32_t>> by_peer(const std::vector<std::pair<uint32_t, uint32_t>>& rs) {
    std::map<uint32_t, std::vector<uint32_t>> m;
    for (auto [k, p] : rs) m[k].push_back(p);
    return m;
}

SuperSeed::Config one_at_a_time() {
    SuperSeed::Config c;
    c.reveals_per_peer = 1;
    c.confirm_timeout_ms = 10'000;
    c.stall_timeout_ms = 30'000;
    return c;
}

}  // namespace

TEST_CASE("super-seed: every peer gets a different piece, each piece once before any twice") {
    SuperSeed s(8, 42, one_at_a_time());
    for (uint32_t k = 1; k <= 8; ++k) s.add_peer(k, 0);
    auto rs = s.reveals(0);
    REQUIRE(rs.size() == 8);
    std::set<uint32_t> pieces;
    for (auto [k, p] : rs) pieces.insert(p);
    CHECK(pieces.size() == 8);  // all distinct: no piece sent twice
    for (uint32_t p = 0; p < 8; ++p) CHECK(s.times_revealed(p) == 1);
    CHECK(s.reveals(1).empty());  // nothing new until a piece spreads
}

TEST_CASE("super-seed: the next piece comes only after another peer announced the revealed one") {
    SuperSeed s(16, 7, one_at_a_time());
    s.add_peer(1, 0);
    s.add_peer(2, 0);
    s.add_peer(3, 0);
    auto first = by_peer(s.reveals(0));
    uint32_t a = first[1].at(0), b = first[2].at(0);
    // Peer 1 downloads its piece: not enough, nobody else has it yet.
    s.peer_has(1, a, 100);
    CHECK(s.reveals(100).empty());
    // Peer 2 announces peer 1's piece (it got it from peer 1): peer 1 earns
    // a new piece, peer 2 does not (its own piece is still only its own).
    s.peer_has(2, a, 200);
    auto next = by_peer(s.reveals(200));
    REQUIRE(next.count(1) == 1);
    CHECK(next.count(2) == 0);
    uint32_t a2 = next[1].at(0);
    CHECK(a2 != a);
    CHECK(a2 != b);
    CHECK(s.times_revealed(a2) == 1);
}

TEST_CASE("super-seed: a lone peer gets the next piece as soon as it has the last one") {
    SuperSeed s(4, 1, one_at_a_time());
    s.add_peer(9, 0);
    std::set<uint32_t> seen;
    int64_t t = 0;
    for (int i = 0; i < 4; ++i) {
        auto rs = s.reveals(t);
        REQUIRE(rs.size() == 1);
        CHECK(seen.insert(rs[0].second).second);
        s.peer_has(9, rs[0].second, ++t);
    }
    CHECK(seen.size() == 4);
    CHECK(s.reveals(t).empty());  // it has everything
}

TEST_CASE("super-seed: timeouts keep a stuck swarm moving") {
    SuperSeed s(10, 3, one_at_a_time());
    s.add_peer(1, 0);
    s.add_peer(2, 0);
    auto r0 = by_peer(s.reveals(0));
    uint32_t a = r0[1].at(0);
    // Peer 1 got its piece but nobody took it from peer 1.
    s.peer_has(1, a, 1000);
    CHECK(by_peer(s.reveals(10'999)).count(1) == 0);
    CHECK(by_peer(s.reveals(11'000)).count(1) == 1);  // confirm timeout
    // Peer 2 never downloaded its piece: after the stall timeout it gets
    // another one (never the same piece again).
    uint32_t b = r0[2].at(0);
    auto late = by_peer(s.reveals(30'000));
    REQUIRE(late.count(2) == 1);
    CHECK(late[2].at(0) != b);
}

TEST_CASE("super-seed: pieces a peer already has are never revealed to it; rare pieces go first") {
    SuperSeed s(6, 5, one_at_a_time());
    s.add_peer(1, 0);
    s.add_peer(2, 0);
    // Peer 2 joined with pieces 0..3; peer 1 has 0 and 1.
    for (uint32_t p = 0; p < 4; ++p) s.peer_has(2, p, 0);
    s.peer_has(1, 0, 0);
    s.peer_has(1, 1, 0);
    auto r = by_peer(s.reveals(0));
    // Peer 2 lacks only 4 and 5 (no copies): it gets one of them.
    uint32_t p2 = r[2].at(0);
    CHECK((p2 == 4 || p2 == 5));
    // Peer 1: pieces 4/5 have no copies, 2/3 have one -> it gets the other
    // copy-less piece, not one peer 2 holds.
    uint32_t p1 = r[1].at(0);
    CHECK((p1 == 4 || p1 == 5));
    CHECK(p1 != p2);
}

TEST_CASE("super-seed: a peer leaving returns its copies; reveals_per_peer is honoured") {
    SuperSeed::Config c;
    c.reveals_per_peer = 2;
    SuperSeed s(20, 11, c);
    s.add_peer(1, 0);
    s.add_peer(2, 0);
    auto r = by_peer(s.reveals(0));
    CHECK(r[1].size() == 2);
    CHECK(r[2].size() == 2);
    CHECK(s.revealed_to(1).size() == 2);
    uint32_t p = r[1][0];
    s.peer_has(1, p, 5);
    CHECK(s.copies(p) == 1);  // pending -> have, not counted twice
    s.remove_peer(1);
    CHECK(s.copies(p) == 0);
    CHECK(!s.has_peer(1));
    for (uint32_t q : r[1]) CHECK(s.copies(q) == 0);
    // Unknown peers are ignored.
    s.peer_has(77, 3, 6);
    CHECK(s.copies(3) == 0);
}

TEST_CASE("super-seed: a swarm that passes pieces on gets every piece with one upload each") {
    // Simulation: peers fetch revealed pieces from the seed, then each
    // revealed piece spreads to every other peer before the next round.
    // n is a multiple of the peer count: in a last, partial round the idle
    // peers would get second copies of the last pieces.
    const uint32_t n = 60, peers = 5;
    SuperSeed s(n, 99, one_at_a_time());
    for (uint32_t k = 0; k < peers; ++k) s.add_peer(k, 0);
    uint32_t seed_uploads = 0;
    int64_t t = 0;
    std::vector<std::set<uint32_t>> has(peers);
    for (int round = 0; round < 200; ++round) {
        auto rs = s.reveals(t);
        if (rs.empty()) break;
        for (auto [k, p] : rs) {
            ++seed_uploads;
            has[k].insert(p);
            s.peer_has(k, p, ++t);
        }
        for (auto [k, p] : rs)
            for (uint32_t o = 0; o < peers; ++o)
                if (o != k && has[o].insert(p).second) s.peer_has(o, p, ++t);
    }
    for (uint32_t k = 0; k < peers; ++k) CHECK(has[k].size() == n);
    CHECK(seed_uploads == n);
}
