#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "btl/core/piece_picker.hpp"
#include "btl/core/piece_priority.hpp"

using namespace btl;

namespace {

// Picks one new piece at a time from `peer` until nothing is left, passing
// each at once; returns the pieces in the order they were started.
std::vector<uint32_t> drain(PiecePicker& p, const Bitfield& peer, bool seed) {
    std::vector<uint32_t> order;
    if (seed) p.add_seed(); else p.inc_availability(peer);
    for (int guard = 0; guard < 10000; ++guard) {
        std::vector<BlockRef> out;
        if (p.pick(peer, 1, 1, out) == 0) break;
        REQUIRE(out.size() == 1);
        auto r = p.mark_received(out[0], 1);
        if (r.piece_complete) {
            order.push_back(out[0].piece);
            p.piece_passed(out[0].piece);
        }
    }
    return order;
}

}  // namespace

TEST_CASE("piece priority: a piece takes the highest priority of the wanted files it touches") {
    // Pieces of 100 bytes; files: [0,150) [150,150) empty [150,380) [380,400) [400,1000)
    FileLayout l({150, 0, 230, 20, 600}, 100);
    REQUIRE(l.num_pieces() == 10);
    std::vector<FileChoice> f(5);
    CHECK(all_default(f));
    auto pr = piece_priorities(l, f);
    CHECK(pr == std::vector<uint8_t>(10, uint8_t(kPieceNormal)));

    f[0].wanted = false;                    // pieces 0, 1 (1 is shared with file 2)
    f[2].priority = FilePriority::high;     // pieces 1..3
    f[3].priority = FilePriority::low;      // piece 3
    f[4].wanted = false;                    // pieces 4..9
    CHECK_FALSE(all_default(f));
    pr = piece_priorities(l, f);
    CHECK(pr[0] == 0);
    CHECK(pr[1] == kPieceHigh);  // shared by an unwanted file and a wanted one: wanted
    CHECK(pr[2] == kPieceHigh);
    CHECK(pr[3] == kPieceHigh);  // high beats low
    for (int i = 4; i < 10; ++i) CHECK(pr[size_t(i)] == 0);

    f[2].wanted = false;
    pr = piece_priorities(l, f);
    CHECK(pr[1] == 0);
    CHECK(pr[3] == kPieceLow);   // only the low file is left wanted there
    CHECK(pr[2] == 0);

    // The empty file and missing choices change nothing.
    pr = piece_priorities(l, {});
    CHECK(pr == std::vector<uint8_t>(10, uint8_t(kPieceNormal)));
}

TEST_CASE("piece priority: pad files never make a piece wanted") {
    FileLayout l({100, 100, 100}, 100, {false, true, false});
    std::vector<FileChoice> f(3);
    f[0].wanted = false;
    f[2].wanted = false;
    auto pr = piece_priorities(l, f);
    CHECK(pr == std::vector<uint8_t>{0, 0, 0});
}

TEST_CASE("piece priority: levels, names and Transmission's numbers") {
    CHECK(raise(FilePriority::low) == FilePriority::normal);
    CHECK(raise(FilePriority::high) == FilePriority::high);
    CHECK(lower(FilePriority::normal) == FilePriority::low);
    CHECK(lower(FilePriority::low) == FilePriority::low);
    CHECK(std::string(priority_name(FilePriority::high)) == "high");
    FilePriority p{};
    CHECK(priority_from_int(-1, p));
    CHECK(p == FilePriority::low);
    CHECK(priority_from_int(1, p));
    CHECK(p == FilePriority::high);
    CHECK_FALSE(priority_from_int(2, p));
    CHECK_FALSE(priority_from_int(-2, p));
    CHECK(piece_level(FilePriority::low) < piece_level(FilePriority::normal));
    CHECK(piece_level(FilePriority::normal) < piece_level(FilePriority::high));
}

TEST_CASE("piece priority: BEP 53 so= selects only the listed files") {
    auto f = select_only(6, {{0, 0}, {2, 3}, {5, 900}});
    REQUIRE(f.size() == 6);
    CHECK(f[0].wanted);
    CHECK_FALSE(f[1].wanted);
    CHECK(f[2].wanted);
    CHECK(f[3].wanted);
    CHECK_FALSE(f[4].wanted);
    CHECK(f[5].wanted);
    auto all = select_only(3, {});
    CHECK(all_default(all));
    auto none = select_only(2, {{7, 9}});  // every index past the end
    CHECK_FALSE(none[0].wanted);
    CHECK_FALSE(none[1].wanted);
}

TEST_CASE("picker priorities: unwanted never requested, high before normal before low, done when wanted are") {
    const uint32_t n = 12;
    PiecePicker p(n, 16384, int64_t(n) * 16384, 16384, 7);
    for (uint32_t i = 0; i < 4; ++i) p.set_have(i);  // past random-first
    // 4..5 unwanted, 6..7 low, 8..9 normal, 10..11 high
    for (uint32_t i = 4; i < 6; ++i) p.set_piece_priority(i, 0);
    for (uint32_t i = 6; i < 8; ++i) p.set_piece_priority(i, kPieceLow);
    for (uint32_t i = 8; i < 10; ++i) p.set_piece_priority(i, kPieceNormal);
    for (uint32_t i = 10; i < 12; ++i) p.set_piece_priority(i, kPieceHigh);
    CHECK_FALSE(p.wanted_complete());
    Bitfield all(n, true);
    auto order = drain(p, all, false);
    REQUIRE(order.size() == 6);
    CHECK(std::set<uint32_t>(order.begin(), order.begin() + 2) == std::set<uint32_t>{10, 11});
    CHECK(std::set<uint32_t>(order.begin() + 2, order.begin() + 4) == std::set<uint32_t>{8, 9});
    CHECK(std::set<uint32_t>(order.begin() + 4, order.end()) == std::set<uint32_t>{6, 7});
    CHECK(p.wanted_complete());
    CHECK_FALSE(p.complete());
    CHECK_FALSE(p.is_interesting(all));
    // Wanted again: the picker has work again.
    p.set_piece_priority(5, kPieceNormal);
    CHECK_FALSE(p.wanted_complete());
    CHECK(p.is_interesting(all));
    std::vector<BlockRef> out;
    REQUIRE(p.pick(all, 4, 2, out) == 1);
    CHECK(out[0].piece == 5);
    CHECK(p.check_invariants());
}

TEST_CASE("picker priorities: random first pieces come from the highest priority too") {
    for (uint64_t seed = 1; seed < 20; ++seed) {
        PiecePicker p(40, 16384, 40 * 16384, 16384, seed);
        for (uint32_t i = 0; i < 40; ++i) p.set_piece_priority(i, i == 17 || i == 30 ? kPieceHigh : kPieceNormal);
        Bitfield all(40, true);
        p.add_seed();
        std::vector<BlockRef> out;
        REQUIRE(p.pick(all, 2, 1, out) == 2);
        CHECK(std::set<uint32_t>{out[0].piece, out[1].piece} == std::set<uint32_t>{17, 30});
        // A peer without the high pieces still gets a normal one.
        Bitfield some(40);
        some.set(3);
        p.inc_availability(some);
        out.clear();
        REQUIRE(p.pick(some, 1, 2, out) == 1);
        CHECK(out[0].piece == 3);
        CHECK(p.check_invariants());
    }
}

TEST_CASE("picker priorities: rarest first within a level") {
    const uint32_t n = 10;
    PiecePicker p(n, 16384, int64_t(n) * 16384, 16384, 3);
    for (uint32_t i = 0; i < 4; ++i) p.set_have(i);
    for (uint32_t i = 4; i < n; ++i) p.set_piece_priority(i, kPieceNormal);
    p.set_piece_priority(9, kPieceLow);
    // Availability: piece 9 rarest (1) but low; 7 has 2, the rest 3.
    Bitfield a(n, true), b(n, true), c(n, true);
    b.clear(9);
    c.clear(9);
    c.clear(7);
    p.inc_availability(a);
    p.inc_availability(b);
    p.inc_availability(c);
    std::vector<BlockRef> out;
    REQUIRE(p.pick(a, 1, 1, out) == 1);
    CHECK(out[0].piece == 7);  // rarest of the normal ones, not the rarer low one
}

TEST_CASE("picker: sequential download starts pieces in index order") {
    const uint32_t n = 200;
    PiecePicker p(n, 16384, int64_t(n) * 16384, 16384, 11);
    p.set_sequential(true);
    CHECK(p.sequential());
    Bitfield all(n, true);
    auto order = drain(p, all, true);
    REQUIRE(order.size() == n);
    for (uint32_t i = 0; i < n; ++i) CHECK(order[i] == i);
    CHECK(p.complete());

    // Rarest first (the default) does not: the same drain is shuffled.
    PiecePicker q(n, 16384, int64_t(n) * 16384, 16384, 11);
    auto rf = drain(q, all, true);
    REQUIRE(rf.size() == n);
    CHECK_FALSE(std::is_sorted(rf.begin(), rf.end()));
}

TEST_CASE("picker: sequential respects priorities, peers' pieces and returned pieces") {
    const uint32_t n = 150;  // more than two 64-piece words
    PiecePicker p(n, 16384, int64_t(n) * 16384, 16384, 5);
    p.set_sequential(true);
    for (uint32_t i = 0; i < n; ++i) p.set_piece_priority(i, kPieceNormal);
    for (uint32_t i = 0; i < 10; ++i) p.set_piece_priority(i, 0);
    p.set_piece_priority(140, kPieceHigh);
    Bitfield peer(n);
    for (uint32_t i = 0; i < n; ++i)
        if (i != 10 && i != 70) peer.set(i);
    p.inc_availability(peer);
    std::vector<BlockRef> out;
    REQUIRE(p.pick(peer, 1, 1, out) == 1);
    CHECK(out[0].piece == 140);  // high first
    out.clear();
    REQUIRE(p.pick(peer, 1, 1, out) == 1);
    CHECK(out[0].piece == 11);   // 0..9 unwanted, the peer lacks 10
    out.clear();
    REQUIRE(p.pick(peer, 1, 1, out) == 1);
    CHECK(out[0].piece == 12);
    // 11's request is aborted: it is first again.
    p.abort_request({11, 0}, 1);
    out.clear();
    REQUIRE(p.pick(peer, 1, 1, out) == 1);
    CHECK(out[0].piece == 11);
    // Piece 3 becomes wanted: it comes before everything else.
    p.set_piece_priority(3, kPieceNormal);
    out.clear();
    REQUIRE(p.pick(peer, 1, 1, out) == 1);
    CHECK(out[0].piece == 3);
    // Switching back to rarest first keeps working.
    p.set_sequential(false);
    out.clear();
    CHECK(p.pick(peer, 1, 1, out) == 1);
    CHECK(p.check_invariants());
}
