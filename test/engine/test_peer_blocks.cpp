// Received blocks are kept as slices of the read slab (net/read_slab.hpp):
// what a peer sends may only ever become an accepted block when it is
// complete, requested and of the right length, and nothing it does leaves
// a slab behind or changes another block's bytes.
#include <doctest/doctest.h>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;

std::string stored(const Harness& h) {
    const auto& b = h.host.store->bytes();
    return std::string(b.begin(), b.end());
}
std::string piece_frame(uint32_t piece, uint32_t begin, std::string_view data) {
    std::string f;
    append_piece_header(f, piece, begin, uint32_t(data.size()));
    f.append(data);
    return f;
}
}  // namespace

TEST_CASE("peer blocks: blocks are written from the slab they were read into, without copies, intact") {
    const int64_t live0 = live_recv_slabs();
    {
        Harness h(make_content(4, 4 * kB));
        RemotePeer a(h.host, *h.t, "10.0.0.1");
        a.bitfield(all_pieces(4));
        a.simple(MsgId::unchoke);
        auto reqs = RemotePeer::of(a.sent(), MsgId::request);
        REQUIRE(reqs.size() == 16);
        // Every block in one stream, fed in odd-sized chunks; nothing is
        // written until the test pumps, so later reads land while earlier
        // blocks still wait for their write.
        std::string stream;
        for (const auto& r : reqs) stream += piece_frame(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
        const uint64_t copies0 = shared_bytes_copies();
        for (size_t at = 0; at < stream.size(); at += 5000) a.send(stream.substr(at, 5000));
        CHECK(shared_bytes_copies() == copies0);
        CHECK(live_recv_slabs() - live0 >= 4);  // blocks in flight hold their slabs
        h.host.pump();
        CHECK(h.t->status(false).pieces_have == 4);
        CHECK(stored(h) == h.c.data);
        CHECK(h.host.banned.empty());
    }
    CHECK(live_recv_slabs() == live0);
}

TEST_CASE("peer blocks: an unrequested block is dropped and never written") {
    const int64_t live0 = live_recv_slabs();
    {
        Harness h(make_content(2, 2 * kB));
        RemotePeer a(h.host, *h.t, "10.0.0.1");
        a.bitfield(all_pieces(2));  // interested, but choked: nothing requested yet
        const uint64_t copies0 = shared_bytes_copies();
        a.block(1, kB, std::string(kB, 'X'));
        h.host.pump();
        CHECK(h.host.store->block_writes == 0);
        CHECK(shared_bytes_copies() == copies0);
        CHECK(a.connected());  // one late block is tolerated
        // The honest download that follows is not disturbed.
        a.simple(MsgId::unchoke);
        for (const auto& r : RemotePeer::of(a.sent(), MsgId::request))
            a.block(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
        h.host.pump();
        CHECK(stored(h) == h.c.data);
    }
    CHECK(live_recv_slabs() == live0);
}

TEST_CASE("peer blocks: a short or oversized block is a violation; the other peer's blocks stay intact") {
    const int64_t live0 = live_recv_slabs();
    {
        Harness h(make_content(1, 2 * kB));
        RemotePeer a(h.host, *h.t, "10.0.0.1"), b(h.host, *h.t, "10.0.0.2");
        a.bitfield(all_pieces(1));
        a.simple(MsgId::unchoke);
        REQUIRE(RemotePeer::of(a.sent(), MsgId::request).size() == 2);
        b.bitfield(all_pieces(1));
        b.simple(MsgId::unchoke);
        REQUIRE(RemotePeer::of(b.sent(), MsgId::request).size() == 2);  // endgame
        b.block(0, 0, h.block_of(0, 0, kB));     // honest, waits for its write
        a.block(0, kB, std::string(100, 'S'));  // short
        CHECK(a.closing());
        CHECK(a.wire().close_reason().find("block of 100 bytes, expected 16384") != std::string::npos);
        RemotePeer c(h.host, *h.t, "10.0.0.3");
        c.bitfield(all_pieces(1));
        c.simple(MsgId::unchoke);
        c.send(piece_frame(0, kB, std::string(kB + 1, 'H')));  // longer than any block: refused by its length
        CHECK(c.closing());
        CHECK(c.wire().close_reason().find("protocol error") != std::string::npos);
        b.block(0, kB, h.block_of(0, kB, kB));
        h.host.pump();
        CHECK(h.t->status(false).pieces_have == 1);
        CHECK(stored(h) == h.c.data);
    }
    CHECK(live_recv_slabs() == live0);
}

TEST_CASE("peer blocks: a connection lost in the middle of a block leaves nothing behind") {
    const int64_t live0 = live_recv_slabs();
    {
        Harness h(make_content(1, 2 * kB));
        RemotePeer a(h.host, *h.t, "10.0.0.1");
        a.bitfield(all_pieces(1));
        a.simple(MsgId::unchoke);
        auto reqs = RemotePeer::of(a.sent(), MsgId::request);
        REQUIRE(reqs.size() == 2);
        std::string f = piece_frame(0, 0, h.block_of(0, 0, kB));
        a.send(f.substr(0, f.size() / 2));
        a.wire().close("connection closed by peer");
        h.host.pump();
        CHECK_FALSE(a.connected());
        CHECK(h.host.store->block_writes == 0);
        // Its requests went back: the next peer gets both blocks.
        RemotePeer b(h.host, *h.t, "10.0.0.2");
        b.bitfield(all_pieces(1));
        b.simple(MsgId::unchoke);
        for (const auto& r : RemotePeer::of(b.sent(), MsgId::request))
            b.block(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
        h.host.pump();
        CHECK(stored(h) == h.c.data);
    }
    CHECK(live_recv_slabs() == live0);
}
