#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "btl/core/piece_picker.hpp"

using namespace btl;

namespace {

Bitfield bits(uint32_t n, std::initializer_list<uint32_t> set) {
    Bitfield b(n);
    for (uint32_t i : set) b.set(i);
    return b;
}

// A picker for n one-block pieces that is already past random-first: we own
// the last 4 pieces.
PiecePicker past_random_first(uint32_t n, uint64_t seed = 1) {
    PiecePicker p(n, 16384, int64_t(n) * 16384, 16384, seed);
    for (uint32_t i = n - 4; i < n; ++i) p.set_have(i);
    return p;
}

}  // namespace

TEST_CASE("picker: piece and block sizes") {
    PiecePicker p(3, 40000, 100000, 16384);
    CHECK(p.num_pieces() == 3);
    CHECK(p.blocks_in_piece(0) == 3);
    CHECK(p.blocks_in_piece(2) == 2);
    CHECK(p.piece_size(0) == 40000);
    CHECK(p.piece_size(2) == 20000);
    CHECK(p.block_length({0, 0}) == 16384);
    CHECK(p.block_length({0, 2}) == 40000 - 32768);
    CHECK(p.block_length({2, 1}) == 20000 - 16384);
    CHECK(p.block_length({2, 2}) == 0);
    PiecePicker q(4, 32768, 4 * 32768, 16384);
    CHECK(q.blocks_in_piece(3) == 2);
    CHECK(q.block_length({3, 1}) == 16384);
    PiecePicker one(1, 1 << 20, 5, 16384);
    CHECK(one.blocks_in_piece(0) == 1);
    CHECK(one.block_length({0, 0}) == 5);
    CHECK(one.check_invariants());
}

TEST_CASE("picker: have, interest, complete") {
    PiecePicker p(10, 16384, 10 * 16384);
    CHECK_FALSE(p.complete());
    CHECK(p.is_interesting(bits(10, {3})));
    CHECK_FALSE(p.is_interesting(Bitfield(10)));
    p.set_have(3);
    CHECK(p.have(3));
    CHECK(p.num_have() == 1);
    CHECK_FALSE(p.is_interesting(bits(10, {3})));
    p.set_piece_priority(4, 0);
    CHECK_FALSE(p.is_interesting(bits(10, {3, 4})));
    CHECK(p.is_interesting(bits(10, {3, 4, 9})));
    for (uint32_t i = 0; i < 10; ++i) p.set_have(i);
    CHECK(p.complete());
    CHECK(p.have_bitfield().all());
    CHECK(p.check_invariants());
}

TEST_CASE("picker: rarest first with availability from bitfields, haves and seeds") {
    PiecePicker p = past_random_first(14);  // wanted: 0..9
    Bitfield all(14, true);
    p.inc_availability(all);
    p.inc_availability(all);
    p.inc_availability(bits(14, {0, 1, 2, 3, 4, 5, 6, 7, 8}));
    p.inc_availability(bits(14, {0, 1, 2, 3, 4, 5, 6}));
    p.add_seed();
    // availability (seeds included): 0-6: 5, 7-8: 4, 9: 3
    CHECK(p.availability(9) == 3);
    CHECK(p.availability(0) == 5);
    std::vector<BlockRef> out;
    CHECK(p.pick(all, 1, 1, out) == 1);
    CHECK(out[0] == BlockRef{9, 0});
    out.clear();
    CHECK(p.pick(all, 2, 1, out) == 2);
    std::set<uint32_t> got{out[0].piece, out[1].piece};
    CHECK(got == std::set<uint32_t>{7, 8});
    // A have message makes piece 5 common; piece 2 loses a peer.
    p.inc_availability(5);
    p.dec_availability(2);
    out.clear();
    p.pick(all, 1, 1, out);
    CHECK(out[0].piece == 2);
    // A peer without the rarest pieces gets the rarest it has.
    out.clear();
    p.pick(bits(14, {0, 5}), 1, 2, out);
    CHECK(out[0].piece == 0);
    CHECK(p.check_invariants());
}

TEST_CASE("picker: random tie-break among equal availability") {
    std::set<uint32_t> first;
    for (uint64_t seed = 0; seed < 40; ++seed) {
        PiecePicker p = past_random_first(104, seed);
        Bitfield all(104, true);
        p.inc_availability(all);
        std::vector<BlockRef> out;
        p.pick(all, 1, 1, out);
        first.insert(out[0].piece);
    }
    CHECK(first.size() > 10);
}

TEST_CASE("picker: random first ignores rarity until 4 pieces are complete") {
    std::set<uint32_t> picked;
    for (uint64_t seed = 0; seed < 30; ++seed) {
        PiecePicker p(100, 16384, 100 * 16384, 16384, seed);
        Bitfield all(100, true);
        p.inc_availability(all);
        p.inc_availability(all);
        p.dec_availability(50);  // the unique rarest piece
        std::vector<BlockRef> out;
        p.pick(all, 1, 1, out);
        picked.insert(out[0].piece);
    }
    CHECK(picked.size() > 10);  // not always piece 50

    PiecePicker p = past_random_first(100, 3);
    Bitfield all(100, true);
    p.inc_availability(all);
    p.inc_availability(all);
    p.dec_availability(50);
    std::vector<BlockRef> out;
    p.pick(all, 1, 1, out);
    CHECK(out[0].piece == 50);
}

TEST_CASE("picker: only pieces the peer has; peers with few pieces") {
    PiecePicker p(1000, 16384, 1000 * 16384, 16384, 5);
    Bitfield few = bits(1000, {17, 600, 999});
    p.inc_availability(few);
    std::vector<BlockRef> out;
    CHECK(p.pick(few, 10, 1, out) == 3);
    std::set<uint32_t> got;
    for (auto b : out) got.insert(b.piece);
    CHECK(got == std::set<uint32_t>{17, 600, 999});
    out.clear();
    CHECK(p.pick(few, 10, 1, out) == 0);  // nothing left; not endgame either
    CHECK_FALSE(p.in_endgame());
    CHECK(p.check_invariants());
}

TEST_CASE("picker: partial pieces are finished first") {
    PiecePicker p(10, 4 * 16384, 10 * 4 * 16384, 16384, 7);
    for (uint32_t i = 6; i < 10; ++i) p.set_have(i);
    Bitfield all(10, true);
    p.inc_availability(all);
    p.inc_availability(all);
    std::vector<BlockRef> a, b;
    CHECK(p.pick(all, 2, 1, a) == 2);
    CHECK(a[0].piece == a[1].piece);
    CHECK(p.num_partial() == 1);
    CHECK(p.pick(all, 3, 2, b) == 3);
    CHECK(b[0].piece == a[0].piece);  // the other two blocks of the same piece
    CHECK(b[1].piece == a[0].piece);
    CHECK(b[2].piece != a[0].piece);  // then a new one
    std::set<uint32_t> blocks{a[0].block, a[1].block, b[0].block, b[1].block};
    CHECK(blocks.size() == 4);
    CHECK(p.num_partial() == 2);
    CHECK(p.check_invariants());
}

TEST_CASE("picker: abort makes blocks pickable again") {
    PiecePicker p = past_random_first(6);  // wanted 0, 1
    Bitfield all(6, true);
    p.inc_availability(all);
    std::vector<BlockRef> out;
    CHECK(p.pick(all, 5, 1, out) == 2);
    CHECK(p.outstanding(out[0]) == 1);
    p.abort_request(out[0], 1);
    CHECK(p.outstanding(out[0]) == 0);
    CHECK(p.num_partial() == 1);  // the piece went back to not-started
    p.abort_request(out[0], 1);   // twice: ignored
    p.abort_request(out[1], 99);  // not its request: ignored
    CHECK(p.outstanding(out[1]) == 1);
    std::vector<BlockRef> again;
    CHECK(p.pick(all, 1, 2, again) == 1);
    CHECK(again[0] == out[0]);
    CHECK(p.check_invariants());
}

TEST_CASE("picker: received blocks, completion, late and duplicate data") {
    PiecePicker p(1, 2 * 16384, 2 * 16384);
    Bitfield all(1, true);
    p.inc_availability(all);
    std::vector<BlockRef> out;
    CHECK(p.pick(all, 5, 1, out) == 2);
    auto r = p.mark_received(out[0], 1);
    CHECK(r.accepted);
    CHECK_FALSE(r.piece_complete);
    CHECK(r.cancel.empty());
    CHECK_FALSE(p.mark_received(out[0], 1).accepted);  // duplicate
    CHECK_FALSE(p.mark_received({0, 7}, 1).accepted);  // no such block
    CHECK_FALSE(p.mark_received({5, 0}, 1).accepted);  // no such piece
    // Arrives from another peer than the one asked (e.g. re-requested): fine.
    r = p.mark_received(out[1], 2);
    CHECK(r.accepted);
    CHECK(r.piece_complete);
    CHECK(r.cancel == std::vector<PeerKey>{1});
    p.piece_passed(0);
    CHECK(p.complete());
    CHECK(p.num_partial() == 0);
    CHECK_FALSE(p.mark_received(out[0], 1).accepted);  // we have it
    CHECK(p.check_invariants());
}

TEST_CASE("picker: endgame duplicates and cancels") {
    PiecePicker p(1, 2 * 16384, 2 * 16384);
    Bitfield all(1, true);
    p.inc_availability(all);
    std::vector<BlockRef> out;
    CHECK_FALSE(p.in_endgame());
    CHECK(p.pick(all, 10, 1, out) == 2);
    CHECK(p.in_endgame());
    out.clear();
    CHECK(p.pick(all, 10, 1, out) == 0);  // never twice from the same peer
    CHECK(p.pick(all, 10, 2, out) == 2);
    CHECK(p.pick(all, 10, 3, out) == 2);
    CHECK(p.pick(all, 10, 4, out) == 0);  // at most 3 outstanding per block
    CHECK(p.outstanding({0, 0}) == 3);
    auto r = p.mark_received({0, 0}, 2);
    CHECK(r.accepted);
    std::sort(r.cancel.begin(), r.cancel.end());
    CHECK(r.cancel == std::vector<PeerKey>{1, 3});
    CHECK(p.outstanding({0, 0}) == 0);
    // A peer that lost its request (choke) can take the other block.
    p.abort_request({0, 1}, 3);
    out.clear();
    CHECK(p.pick(all, 10, 4, out) == 1);
    CHECK(out[0] == BlockRef{0, 1});
    CHECK(p.check_invariants());
    // Peers without the piece get nothing in endgame.
    CHECK(p.pick(Bitfield(1), 10, 5, out) == 0);
}

TEST_CASE("picker: endgame prefers the least duplicated blocks") {
    PiecePicker p = past_random_first(6);
    Bitfield all(6, true);
    p.inc_availability(all);
    std::vector<BlockRef> out;
    p.pick(all, 2, 1, out);  // both wanted pieces
    out.clear();
    p.pick(all, 1, 2, out);  // one duplicate
    REQUIRE(out.size() == 1);
    BlockRef dup = out[0];
    out.clear();
    p.pick(all, 1, 3, out);
    REQUIRE(out.size() == 1);
    CHECK(out[0] != dup);  // the block with one request, not the one with two
}

TEST_CASE("picker: piece_failed returns contributors and restarts the piece") {
    PiecePicker p(2, 3 * 16384, 6 * 16384, 16384, 9);
    Bitfield all(2, true);
    p.inc_availability(all);
    std::vector<BlockRef> a, b, c;
    p.pick(all, 1, 10, a);
    p.pick(all, 1, 20, b);
    p.pick(all, 1, 10, c);
    uint32_t piece = a[0].piece;
    REQUIRE(b[0].piece == piece);
    REQUIRE(c[0].piece == piece);
    p.mark_received(a[0], 10);
    p.mark_received(b[0], 20);
    auto r = p.mark_received(c[0], 10);
    CHECK(r.piece_complete);
    auto peers = p.piece_failed(piece);
    std::sort(peers.begin(), peers.end());
    CHECK(peers == std::vector<PeerKey>{10, 20});
    CHECK_FALSE(p.have(piece));
    CHECK_FALSE(p.in_progress(piece));
    CHECK(p.check_invariants());
    std::vector<BlockRef> again;
    CHECK(p.pick(all, 6, 30, again) == 6);
    CHECK(again[0].piece == piece);
    CHECK(p.check_invariants());
}

TEST_CASE("picker: a piece that failed its hash check is asked for again before new pieces") {
    PiecePicker p = past_random_first(40);
    Bitfield all(40, true);
    p.inc_availability(all);
    p.inc_availability(all);
    std::vector<BlockRef> first;
    REQUIRE(p.pick(all, 1, 7, first) == 1);
    const uint32_t piece = first[0].piece;
    REQUIRE(p.mark_received(first[0], 7).piece_complete);  // one-block pieces
    p.piece_failed(piece);
    CHECK(p.check_invariants());
    // 35 others are as rare: only the restart makes it the next pick.
    std::vector<BlockRef> next;
    REQUIRE(p.pick(all, 1, 8, next) == 1);
    CHECK(next[0].piece == piece);
    // Its request given up, it is not started any more (rarest first again).
    p.abort_request(next[0], 8);
    CHECK_FALSE(p.in_progress(piece));
    // An unwanted piece that fails is not asked for again.
    p.set_piece_priority(piece, 0);
    CHECK_FALSE(p.in_progress(piece));
    CHECK(p.check_invariants());
}

TEST_CASE("picker: priorities") {
    PiecePicker p = past_random_first(24);
    Bitfield all(24, true);
    p.inc_availability(all);
    p.inc_availability(all);
    p.dec_availability(3);               // rarest
    p.set_piece_priority(3, 0);          // but skipped
    p.set_piece_priority(12, 7);         // highest priority beats rarity
    std::vector<BlockRef> out;
    p.pick(all, 1, 1, out);
    CHECK(out[0].piece == 12);
    out.clear();
    p.pick(all, 30, 1, out);
    for (auto b : out) CHECK(b.piece != 3);
    CHECK(out.size() == 18);
    CHECK(p.check_invariants());
    p.set_piece_priority(3, 1);
    out.clear();
    p.pick(all, 30, 1, out);
    CHECK(out.size() == 1);
    CHECK(out[0].piece == 3);
    CHECK(p.check_invariants());
}

TEST_CASE("picker: availability beyond the bucket cap") {
    PiecePicker p = past_random_first(8);
    Bitfield all(8, true);
    for (int i = 0; i < 1100; ++i) p.inc_availability(all);
    p.inc_availability(1);
    CHECK(p.availability(1) == 1101);
    CHECK(p.check_invariants());
    for (int i = 0; i < 1100; ++i) p.dec_availability(all);
    p.dec_availability(all);  // below zero: ignored
    CHECK(p.availability(1) == 0);
    CHECK(p.check_invariants());
}

TEST_CASE("picker: a download runs to completion") {
    // Every block requested is eventually delivered; the picker must lead
    // to a complete torrent without stalls.
    PiecePicker p(50, 3 * 16384, 50 * 3 * 16384 - 100, 16384, 77);
    std::vector<Bitfield> has(5, Bitfield(50, true));
    for (auto& h : has) p.inc_availability(h);
    std::vector<std::pair<BlockRef, PeerKey>> inflight;
    int rounds = 0;
    while (!p.complete() && rounds++ < 10000) {
        for (PeerKey k = 0; k < 5; ++k) {
            std::vector<BlockRef> out;
            p.pick(has[k], 4, k, out);
            for (auto b : out) inflight.push_back({b, k});
        }
        for (size_t i = 0; i < inflight.size() && i < 7; ++i) {
            auto r = p.mark_received(inflight[i].first, inflight[i].second);
            if (r.piece_complete) p.piece_passed(inflight[i].first.piece);
        }
        inflight.erase(inflight.begin(), inflight.begin() + long(std::min<size_t>(7, inflight.size())));
    }
    CHECK(p.complete());
    CHECK(p.num_partial() == 0);
}

// 50 peers keep `depth` requests outstanding each and 16 blocks arrive per
// peer per round, like a real swarm with deep pipelines; the endgame at the
// end therefore starts with ~50*depth blocks in flight.
static void picker_benchmark(uint32_t n, int64_t piece_length, bool with_seeds, size_t depth) {
    PiecePicker p(n, piece_length, int64_t(n) * piece_length, 16384, 4242);
    std::mt19937_64 rng(99);
    const uint32_t npeers = 50;
    std::vector<Bitfield> has(npeers, Bitfield(n));
    for (uint32_t k = 0; k < npeers; ++k) {
        if (with_seeds && k % 5 == 0) {
            has[k].set_all();
            p.add_seed();
        } else {
            uint64_t pct = 20 + rng() % 70;
            for (uint32_t i = 0; i < n; ++i)
                if (rng() % 100 < pct) has[k].set(i);
            p.inc_availability(has[k]);
        }
    }
    std::vector<std::vector<BlockRef>> queues(npeers);
    size_t blocks = 0, calls = 0;
    auto t0 = std::chrono::steady_clock::now();
    std::vector<BlockRef> out;
    while (!p.complete()) {
        for (uint32_t k = 0; k < npeers; ++k) {
            out.clear();
            if (queues[k].size() < depth) {
                blocks += p.pick(has[k], depth - queues[k].size(), k, out);
                ++calls;
            }
            queues[k].insert(queues[k].end(), out.begin(), out.end());
            size_t deliver = std::min<size_t>(16, queues[k].size());
            for (size_t i = 0; i < deliver; ++i) {
                auto r = p.mark_received(queues[k][i], k);
                if (r.piece_complete) p.piece_passed(queues[k][i].piece);
            }
            queues[k].erase(queues[k].begin(), queues[k].begin() + long(deliver));
            // a have now and then keeps availability moving
            uint32_t h = uint32_t(rng() % n);
            if (!has[k].all() && !has[k].get(h)) {
                has[k].set(h);
                p.inc_availability(h);
            }
        }
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("piece picker: %u pieces of %lld KiB, %s, depth %zu: %zu blocks in %zu pick calls, %.3f s = %.0f "
                "blocks/s, %.0f calls/s\n",
                n, (long long)(piece_length / 1024), with_seeds ? "10 seeds + 40 partial peers" : "50 partial peers",
                depth, blocks, calls, s, double(blocks) / s, double(calls) / s);
    CHECK(p.complete());
    CHECK(double(blocks) / s > 100000);
}

TEST_CASE("picker: performance, 65536 pieces, 50 peers") {
    picker_benchmark(65536, 16384, true, 16);
    picker_benchmark(65536, 16384, false, 16);
    picker_benchmark(65536, 16384, false, 250);
    picker_benchmark(256, 4 << 20, false, 250);  // 1 GiB too, as 256-block pieces
}

TEST_CASE("picker: a peer whose only new piece is hidden among many others") {
    // We have 0..2047; peer A has those plus 4000, peer B has the rest except
    // 4000.  A's walk through the availability-1 bucket would miss ~2000
    // times; the bounded walk switches to A's bits and still finds 4000.
    const uint32_t n = 4096;
    PiecePicker p(n, 16384, int64_t(n) * 16384, 16384, 11);
    Bitfield a(n), b(n);
    for (uint32_t i = 0; i < 2048; ++i) {
        p.set_have(i);
        a.set(i);
    }
    a.set(4000);
    for (uint32_t i = 2048; i < n; ++i)
        if (i != 4000) b.set(i);
    p.inc_availability(a);
    p.inc_availability(b);
    std::vector<BlockRef> out;
    CHECK(p.pick(a, 4, 1, out) == 1);
    CHECK(out[0].piece == 4000);
    CHECK(p.pick(a, 4, 1, out) == 0);
    CHECK(p.check_invariants());
}

TEST_CASE("picker: a seed is not asked to finish pieces other peers have while rarer ones wait") {
    // 8 pieces of 4 blocks; past random-first (we own 4..7).
    const uint32_t blk = 16384;
    PiecePicker p(8, 4 * blk, 8 * 4 * blk, blk, 3);
    for (uint32_t i = 4; i < 8; ++i) p.set_have(i);
    Bitfield seed(8, true), leecher = bits(8, {0});
    p.inc_availability(seed);     // the seed, counted like any peer
    p.inc_availability(leecher);  // a leecher with piece 0
    std::vector<BlockRef> out;
    // Piece 0 begun from the leecher (one block), then its request lost.
    REQUIRE(p.pick(leecher, 1, 1, out) == 1);
    CHECK(out[0].piece == 0);
    p.abort_request(out[0], 1);
    REQUIRE(p.pick(leecher, 1, 1, out) == 1);  // in progress again, 3 blocks open
    out.clear();
    // The seed gets the pieces only it has (1..3), not piece 0's open blocks.
    REQUIRE(p.pick(seed, 12, 2, out) == 12);
    for (const auto& b : out) CHECK(b.piece != 0);
    // Nothing rarer left to start: now the seed may finish piece 0.
    out.clear();
    CHECK(p.pick(seed, 3, 2, out) == 3);
    for (const auto& b : out) CHECK(b.piece == 0);
    CHECK(p.check_invariants());
}
