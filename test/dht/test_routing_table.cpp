#include <doctest/doctest.h>

#include "btl/dht/routing_table.hpp"

using namespace btl::dht;

namespace {
NodeId id_with(uint8_t first, uint8_t last = 0) {
    NodeId id{};
    id[0] = first;
    id[19] = last;
    return id;
}
NodeAddr addr(uint32_t n) { return NodeAddr{0x0a000000 + n, uint16_t(6881)}; }
}  // namespace

TEST_CASE("routing table: common prefix and distance order") {
    CHECK(common_prefix(id_with(0), id_with(0)) == 160);
    CHECK(common_prefix(id_with(0x80), id_with(0)) == 0);
    CHECK(common_prefix(id_with(0x01), id_with(0)) == 7);
    CHECK(closer(id_with(0), id_with(1), id_with(2)));
    CHECK_FALSE(closer(id_with(0), id_with(3), id_with(2)));
}

TEST_CASE("routing table: a bucket holds K nodes, the last one splits, far buckets keep replacements") {
    RoutingTable t(id_with(0));
    // 20 nodes far from us (first bit differs): one bucket of 8 after splits.
    for (uint32_t i = 0; i < 20; ++i) t.heard_from(NodeEntry{id_with(uint8_t(0x80 | i), uint8_t(i)), addr(i)}, 1000);
    CHECK(t.size() == RoutingTable::K);
    // Near nodes still find room (split buckets).
    for (uint32_t i = 0; i < 4; ++i) CHECK(t.heard_from(NodeEntry{id_with(uint8_t(0x01), uint8_t(i + 1)), addr(100 + i)}, 1000));
    CHECK(t.size() == RoutingTable::K + 4);
    CHECK(t.bucket_count() > 1);
    auto c = t.closest(id_with(0x01), 4);
    REQUIRE(c.size() == 4);
    for (auto& e : c) CHECK(e.id[0] == 0x01);
}

TEST_CASE("routing table: failing nodes turn bad and are replaced by a replacement") {
    RoutingTable t(id_with(0));
    for (uint32_t i = 0; i < 9; ++i) t.heard_from(NodeEntry{id_with(uint8_t(0x80 | i), 0), addr(i)}, 1000);
    REQUIRE(t.size() == 8);
    CHECK_FALSE(t.contains(addr(8)));  // waited as a replacement
    for (int k = 0; k < RoutingTable::kBadFails; ++k) t.failed(addr(0));
    CHECK_FALSE(t.contains(addr(0)));
    CHECK(t.contains(addr(8)));
}

TEST_CASE("routing table: health follows answers and time; one entry per address and id") {
    RoutingTable t(id_with(0));
    NodeEntry n{id_with(0x40), addr(1)};
    CHECK(t.heard_from(n, 0));
    CHECK(t.good_count(1000) == 1);
    CHECK(t.good_count(RoutingTable::kQuestionableMs + 1) == 0);
    CHECK(t.to_ping(RoutingTable::kQuestionableMs + 1, 10).size() == 1);
    CHECK_FALSE(t.heard_from(NodeEntry{id_with(0x41), addr(1)}, 10));  // same address, other id
    CHECK_FALSE(t.heard_from(NodeEntry{id_with(0x40), addr(2)}, 10));  // same id, other address
    CHECK(t.size() == 1);
    CHECK_FALSE(t.heard_from(NodeEntry{id_with(0), addr(3)}, 10));  // our own id
}

TEST_CASE("routing table: unverified nodes only fill free room, stale buckets get a refresh target inside them") {
    RoutingTable t(id_with(0));
    for (uint32_t i = 0; i < 8; ++i) t.heard_from(NodeEntry{id_with(uint8_t(0x80 | i)), addr(i)}, 0);
    for (uint32_t i = 0; i < 8; ++i) t.heard_from(NodeEntry{id_with(uint8_t(0x40 | i)), addr(20 + i)}, 0);
    CHECK_FALSE(t.add_unverified(NodeEntry{id_with(0x90), addr(50)}, 0));
    auto targets = t.stale_buckets(RoutingTable::kQuestionableMs, 12345);
    REQUIRE(targets.size() == t.bucket_count());
    CHECK(common_prefix(targets[0], t.self()) == 0);
    CHECK(t.stale_buckets(RoutingTable::kQuestionableMs + 1, 1).empty());  // refreshed once per interval
}
