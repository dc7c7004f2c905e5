#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "btl/core/choker.hpp"

using namespace btl;

namespace {

ChokeCandidate peer(uint32_t id, double from, double to = 0, bool interested = true, int64_t unchoked_at = -1) {
    ChokeCandidate c;
    c.id = id;
    c.interested = interested;
    c.rate_from_peer = from;
    c.rate_to_peer = to;
    c.unchoked_at_ms = unchoked_at;
    return c;
}

std::vector<uint32_t> sorted(std::vector<uint32_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST_CASE("choker: downloading unchokes the fastest uploaders to us") {
    std::vector<ChokeCandidate> ps = {peer(1, 100), peer(2, 500), peer(3, 300), peer(4, 50), peer(5, 1000, 0, false)};
    CHECK(choose_unchoked(ps, 2, false, std::nullopt) == std::vector<uint32_t>{2, 3});
    CHECK(choose_unchoked(ps, 10, false, std::nullopt) == std::vector<uint32_t>{2, 3, 1, 4});  // not 5: not interested
    CHECK(choose_unchoked(ps, 0, false, std::nullopt).empty());
}

TEST_CASE("choker: snubbed peers are skipped while downloading but not while seeding") {
    std::vector<ChokeCandidate> ps = {peer(1, 100, 10), peer(2, 500, 20)};
    ps[1].snubbed = true;
    CHECK(choose_unchoked(ps, 2, false, std::nullopt) == std::vector<uint32_t>{1});
    CHECK(sorted(choose_unchoked(ps, 2, true, std::nullopt)) == std::vector<uint32_t>{1, 2});
}

TEST_CASE("choker: ties keep the currently unchoked peer") {
    std::vector<ChokeCandidate> ps = {peer(1, 100), peer(2, 100, 0, true, 5000)};
    CHECK(choose_unchoked(ps, 1, false, std::nullopt) == std::vector<uint32_t>{2});
}

TEST_CASE("choker: seeding unchokes the peers we upload to fastest") {
    std::vector<ChokeCandidate> ps = {peer(1, 0, 100), peer(2, 0, 5000), peer(3, 0, 3000), peer(4, 0, 9000, false)};
    CHECK(choose_unchoked(ps, 2, true, std::nullopt, 1000) == std::vector<uint32_t>{2, 3});
}

TEST_CASE("choker: seeding rotates among equal peers") {
    // Four equal peers, two slots: holders keep their slot while fresh...
    std::vector<ChokeCandidate> ps = {peer(1, 0, 1000, true, 0), peer(2, 0, 1000, true, 0), peer(3, 0, 1000),
                                      peer(4, 0, 1000)};
    CHECK(sorted(choose_unchoked(ps, 2, true, std::nullopt, 30'000)) == std::vector<uint32_t>{1, 2});
    // ...and give it up once they have held it past the rotation time.
    CHECK(sorted(choose_unchoked(ps, 2, true, std::nullopt, 70'000)) == std::vector<uint32_t>{3, 4});
    // Rates within 10 % count as equal; a clearly faster peer keeps its slot.
    ps[0].rate_to_peer = 1050;
    CHECK(sorted(choose_unchoked(ps, 2, true, std::nullopt, 70'000)) == std::vector<uint32_t>{3, 4});
    ps[0].rate_to_peer = 5000;
    CHECK(sorted(choose_unchoked(ps, 2, true, std::nullopt, 70'000)) == std::vector<uint32_t>{1, 3});
}

TEST_CASE("choker: optimistic unchoke is added when interested") {
    std::vector<ChokeCandidate> ps = {peer(1, 100), peer(2, 500), peer(3, 0), peer(4, 0, 0, false)};
    CHECK(choose_unchoked(ps, 1, false, 3u) == std::vector<uint32_t>{2, 3});
    CHECK(choose_unchoked(ps, 1, false, 2u) == std::vector<uint32_t>{2});  // already in: no duplicate
    CHECK(choose_unchoked(ps, 1, false, 4u) == std::vector<uint32_t>{2});  // not interested
    CHECK(choose_unchoked(ps, 1, false, 99u) == std::vector<uint32_t>{2});  // unknown
    ps[0].snubbed = true;
    CHECK(choose_unchoked(ps, 1, false, 1u) == std::vector<uint32_t>{2, 1});  // snubbed: only optimistically
}

TEST_CASE("choker: pick_optimistic chooses an interested choked peer, newcomers 3x") {
    std::vector<ChokeCandidate> ps = {peer(1, 0), peer(2, 0, 0, false), peer(3, 0, 0, true, 100), peer(4, 0),
                                      peer(5, 0)};
    ps[4].connected_at_ms = 100'000;  // a newcomer at now = 120 s
    std::map<uint32_t, int> hits;
    for (uint64_t r = 0; r < 5000; ++r) {
        auto o = pick_optimistic(ps, {4}, r * 2654435761u, 120'000);
        REQUIRE(o.has_value());
        hits[*o]++;
    }
    CHECK(hits.count(2) == 0);  // not interested
    CHECK(hits.count(3) == 0);  // already unchoked
    CHECK(hits.count(4) == 0);  // in the unchoke set
    CHECK(hits[1] > 0);
    CHECK(hits[5] > 2 * hits[1]);  // newcomer weight 3
    CHECK_FALSE(pick_optimistic({peer(1, 0, 0, false)}, {}, 7).has_value());
    CHECK_FALSE(pick_optimistic({}, {}, 7).has_value());
}
