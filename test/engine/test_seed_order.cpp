// The order in which a seed serves requests (core/seed_uploads.hpp) and how
// a leecher moves requests off seeds when a leecher has the piece:
// a real Torrent and scripted peers (torrent_harness.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;

// A peer with nothing that asks to be uploaded to (it is unchoked: slots).
void wants_everything(RemotePeer& p) {
    p.simple(MsgId::have_none);
    p.simple(MsgId::interested);
}

std::vector<SentMessage> blocks(RemotePeer& p) { return RemotePeer::of(p.sent(), MsgId::piece); }

// Tokens for `bytes` and a bandwidth pass; returns the blocks `p` got.
std::vector<SentMessage> serve(Harness& h, RemotePeer& p, int64_t bytes) {
    h.host.upload_tokens = bytes;
    h.t->on_bandwidth();
    h.host.pump();
    return blocks(p);
}

// `p` was sent exactly one block, at (piece, begin).
void got_one(const std::vector<SentMessage>& to_p, uint32_t piece, uint32_t begin) {
    REQUIRE(to_p.size() == 1);
    CHECK(to_p[0].piece == piece);
    CHECK(to_p[0].begin == begin);
}
}  // namespace

TEST_CASE("seed order: a piece two leechers ask for goes whole to one of them before any duplicate") {
    // Pieces of two blocks.  Both ask for piece 0; b also for piece 1.  With
    // tokens for four blocks: piece 0 goes whole to one peer, piece 1 to b,
    // and no block goes out twice (counting bytes only, piece 0 was split:
    // one block to each, neither could finish it or pass it on).
    Harness h(make_content(4, 2 * kB), true);
    REQUIRE(h.state() == TorrentState::seeding);
    RemotePeer a(h.host, *h.t, "10.0.0.1"), b(h.host, *h.t, "10.0.0.2");
    wants_everything(a);
    wants_everything(b);
    h.host.upload_tokens = 0;
    for (uint32_t off : {0u, kB}) a.request(0, off, kB);
    for (uint32_t piece : {0u, 1u})
        for (uint32_t off : {0u, kB}) b.request(piece, off, kB);
    h.host.pump();
    auto to_b = serve(h, b, 4 * kB), to_a = blocks(a);
    CHECK(to_a.size() + to_b.size() == 4);
    std::set<std::pair<uint32_t, uint32_t>> distinct;
    std::map<uint32_t, std::set<char>> piece_to;  // piece -> who got blocks of it
    for (const auto& m : to_a) distinct.insert({m.piece, m.begin}), piece_to[m.piece].insert('a');
    for (const auto& m : to_b) distinct.insert({m.piece, m.begin}), piece_to[m.piece].insert('b');
    CHECK(distinct.size() == 4);  // no duplicate
    CHECK(piece_to[0].size() == 1);
    CHECK(piece_to[1] == std::set<char>{'b'});
}

TEST_CASE("seed order: the piece of a leecher that left half-served is fresh for the others again") {
    Harness h(make_content(4, 2 * kB), true);
    auto a = std::make_unique<RemotePeer>(h.host, *h.t, "10.0.0.1");
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    wants_everything(*a);
    wants_everything(b);
    h.host.upload_tokens = kB;
    a->request(0, 0, kB);  // a gets the first block of piece 0: it owns the piece
    h.host.pump();
    REQUIRE(blocks(*a).size() == 1);
    h.host.upload_tokens = 0;
    b.request(0, kB, kB);
    b.request(3, 0, kB);
    h.host.pump();
    a->wire().close("gone");
    h.host.pump();
    REQUIRE_FALSE(a->connected());
    // One token: the front of b's queue is fresh again (while a owned piece
    // 0, the block of piece 3 went first).
    got_one(serve(h, b, kB), 0, kB);
}

TEST_CASE("seed order: while a leecher owns a piece, another's request for it waits for fresh ones") {
    Harness h(make_content(4, 2 * kB), true);
    RemotePeer a(h.host, *h.t, "10.0.0.1"), b(h.host, *h.t, "10.0.0.2");
    wants_everything(a);
    wants_everything(b);
    h.host.upload_tokens = kB;
    a.request(0, 0, kB);
    h.host.pump();
    REQUIRE(blocks(a).size() == 1);
    h.host.upload_tokens = 0;
    b.request(0, kB, kB);
    b.request(3, 0, kB);
    h.host.pump();
    got_one(serve(h, b, kB), 3, 0);
    // With nothing fresh left to ask, the waiting request is served.
    got_one(serve(h, b, kB), 0, kB);
}

namespace {
std::set<uint32_t> pieces_of(const std::vector<SentMessage>& ms, MsgId id) {
    std::set<uint32_t> out;
    for (const auto& m : RemotePeer::of(ms, id)) out.insert(m.piece);
    return out;
}
}  // namespace

TEST_CASE("seed order: a leecher announcing a piece we ask of a seed takes those requests over") {
    const uint32_t n = 64;  // 128 blocks: the first requests are far from endgame
    Harness h(make_content(n, 2 * kB));
    RemotePeer seed(h.host, *h.t, "10.0.0.1"), leech(h.host, *h.t, "10.0.0.2");
    seed.bitfield(all_pieces(n));
    seed.simple(MsgId::unchoke);
    auto asked = pieces_of(seed.sent(), MsgId::request);
    REQUIRE(asked.size() >= 2);
    const uint32_t p = *asked.begin();
    leech.simple(MsgId::have_none);
    leech.simple(MsgId::unchoke);
    leech.have(p);
    h.host.pump();
    auto to_seed = seed.sent();
    auto cancelled = pieces_of(to_seed, MsgId::cancel);
    CHECK(cancelled == std::set<uint32_t>{p});
    CHECK(RemotePeer::of(to_seed, MsgId::cancel).size() == 2);  // both blocks of p
    // The leecher is asked for p instead (and the seed for other pieces).
    CHECK(pieces_of(leech.sent(), MsgId::request).count(p) == 1);
    CHECK(pieces_of(to_seed, MsgId::request).count(p) == 0);
}

TEST_CASE("seed order: a piece announced by another seed, or in endgame, stays asked of the seed") {
    SUBCASE("another seed") {
        const uint32_t n = 64;
        Harness h(make_content(n, 2 * kB));
        RemotePeer seed(h.host, *h.t, "10.0.0.1"), other(h.host, *h.t, "10.0.0.2");
        seed.bitfield(all_pieces(n));
        seed.simple(MsgId::unchoke);
        auto asked = pieces_of(seed.sent(), MsgId::request);
        REQUIRE_FALSE(asked.empty());
        Bitfield most = all_pieces(n);
        most.clear(*asked.begin());
        other.bitfield(most);
        other.have(*asked.begin());  // now a seed: moving between seeds gains nothing
        h.host.pump();
        CHECK(RemotePeer::of(seed.sent(), MsgId::cancel).empty());
    }
    SUBCASE("endgame") {
        Harness h(make_content(2, 2 * kB));  // 4 blocks: all asked of the seed at once
        RemotePeer seed(h.host, *h.t, "10.0.0.1"), leech(h.host, *h.t, "10.0.0.2");
        seed.bitfield(all_pieces(2));
        seed.simple(MsgId::unchoke);
        REQUIRE(RemotePeer::of(seed.sent(), MsgId::request).size() == 4);
        leech.simple(MsgId::have_none);
        leech.have(0);
        h.host.pump();
        CHECK(RemotePeer::of(seed.sent(), MsgId::cancel).empty());
    }
}

TEST_CASE("seed order: a request for a piece started for another peer goes before duplicates") {
    // A leecher that never cancels (other clients) must not wait at the
    // seed behind duplicates for a piece it picked at the same time as
    // another leecher.
    Harness h(make_content(4, 2 * kB), true);
    RemotePeer a(h.host, *h.t, "10.0.0.1"), b(h.host, *h.t, "10.0.0.2");
    wants_everything(a);
    wants_everything(b);
    h.host.upload_tokens = 3 * kB;
    a.request(1, 0, kB);
    a.request(1, kB, kB);
    a.request(0, 0, kB);  // piece 1 went out whole; piece 0 is a's
    h.host.pump();
    REQUIRE(blocks(a).size() == 3);
    h.host.upload_tokens = 0;
    b.request(1, 0, kB);   // a duplicate
    b.request(0, kB, kB);  // unsent: started for a
    h.host.pump();
    got_one(serve(h, b, kB), 0, kB);
}
