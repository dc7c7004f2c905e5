// Pieces assembled on disk (engine/torrent_write.cpp, disk/block_assembler):
// blocks reach the store as they arrive, a piece is had only after its
// verdict, and resume data never claims a piece whose blocks sit unverified
// in the files.
#include <doctest/doctest.h>

#include <algorithm>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;

bool sent_have(const std::vector<SentMessage>& ms, uint32_t piece) {
    return std::any_of(ms.begin(), ms.end(),
                       [&](const SentMessage& m) { return !m.keepalive && m.id == MsgId::have && m.piece == piece; });
}

bool bit(const std::string& bits, uint32_t piece) {
    return piece / 8 < bits.size() && (uint8_t(bits[piece / 8]) & (0x80 >> (piece % 8))) != 0;
}
}  // namespace

TEST_CASE("torrent assembly: blocks are stored as they arrive; the piece is had only after its verdict") {
    Harness h(make_content(2, 4 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1"), b(h.host, *h.t, "10.0.0.2");
    a.bitfield(all_pieces(2));
    a.simple(MsgId::unchoke);
    b.simple(MsgId::have_none);
    a.block(0, 0, h.block_of(0, 0, kB));
    a.block(0, kB, h.block_of(0, kB, kB));
    a.block(0, 2 * kB, h.block_of(0, 2 * kB, kB));
    h.t->tick(h.host.now);  // a tick flushes a partial batch
    h.host.pump();
    CHECK(h.host.store->block_writes == 3);
    CHECK(std::string(h.host.store->bytes().begin(), h.host.store->bytes().begin() + 3 * kB) == h.c.data.substr(0, 3 * kB));
    CHECK(h.t->status(false).pieces_have == 0);
    CHECK(h.host.store->writes == 0);
    CHECK_FALSE(sent_have(b.sent(), 0));
    CHECK(h.host.store->partial_pieces() == 1);
    a.block(0, 3 * kB, h.block_of(0, 3 * kB, kB));
    h.host.pump();
    CHECK(h.t->status(false).pieces_have == 1);
    CHECK(h.host.store->writes == 1);
    CHECK(sent_have(b.sent(), 0));
    CHECK(h.host.store->partial_pieces() == 0);
    // In order, every block was hashed from its own buffer: nothing read back.
    CHECK(h.host.store->read_backs == 0);
}

TEST_CASE("torrent assembly: blocks arriving in reverse order still verify the piece") {
    Harness h(make_content(1, 4 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.bitfield(all_pieces(1));
    a.simple(MsgId::unchoke);
    for (uint32_t i = 4; i-- > 0;) {
        a.block(0, i * kB, h.block_of(0, i * kB, kB));
        h.t->tick(h.host.now);  // one write job per block: the worst order for the hasher
        h.host.pump();
    }
    CHECK(h.t->status(false).pieces_have == 1);
    CHECK(h.host.store->block_writes == 4);
    CHECK(std::string(h.host.store->bytes().begin(), h.host.store->bytes().end()) == h.c.data);
    CHECK(BlockAssembler::held_bytes() == 0);  // the held blocks were released
    CHECK(h.t->status(false).state == TorrentState::seeding);
}

TEST_CASE("torrent assembly: resume data never claims a piece whose blocks are on disk unverified; a restart re-checks") {
    auto c = make_content(2, 2 * kB);
    std::vector<uint8_t> on_disk;
    {
        Harness h(c);
        RemotePeer a(h.host, *h.t, "10.0.0.1");
        a.bitfield(all_pieces(2));
        a.simple(MsgId::unchoke);
        a.block(0, 0, h.block_of(0, 0, kB));
        a.block(0, kB, h.block_of(0, kB, kB));
        a.block(1, 0, h.block_of(1, 0, kB));  // piece 1: half of it
        h.host.pump();
        h.t->pause();  // flushes the batch and saves resume data
        h.host.pump();
        REQUIRE(h.host.store->saves >= 1);
        CHECK(h.host.store->block_writes == 3);
        CHECK(bit(h.host.store->last_have_bits, 0));
        CHECK_FALSE(bit(h.host.store->last_have_bits, 1));
        on_disk = h.host.store->bytes();
    }
    // Piece 1's first block is in the file; it is still not claimed after a
    // "crash" (the data as it was) and a restart that checks the files.
    REQUIRE(std::string(on_disk.begin() + 2 * kB, on_disk.begin() + 3 * kB) == c.data.substr(2 * kB, kB));
    Harness r(c);
    r.host.store->fill(std::string(on_disk.begin(), on_disk.end()));
    r.t->recheck();
    r.host.pump();
    CHECK(r.t->status(false).pieces_have == 1);
    CHECK(r.t->status(false).state == TorrentState::downloading);
}

TEST_CASE("torrent assembly: a re-check forgets a partly written piece; its blocks are asked for again") {
    Harness h(make_content(1, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.bitfield(all_pieces(1));
    a.simple(MsgId::unchoke);
    a.block(0, 0, h.block_of(0, 0, kB));
    h.t->tick(h.host.now);
    h.host.pump();
    CHECK(h.host.store->partial_pieces() == 1);
    h.t->recheck();
    h.host.pump();
    CHECK(h.host.store->partial_pieces() == 0);
    CHECK(h.t->status(false).pieces_have == 0);
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    b.bitfield(all_pieces(1));
    b.simple(MsgId::unchoke);
    auto reqs = RemotePeer::of(b.sent(), MsgId::request);
    CHECK(reqs.size() == 2);
    b.block(0, 0, h.block_of(0, 0, kB));
    b.block(0, kB, h.block_of(0, kB, kB));
    h.host.pump();
    CHECK(h.t->status(false).pieces_have == 1);
}

TEST_CASE("torrent assembly: past kHoldReadingBytes of unwritten blocks the sockets stop being read, until the disk catches up") {
    // 48 pieces of 1 MiB; 8 peers answer every request while the store
    // runs no job (a disk that does not keep up).
    Harness h(make_content(48, 1u << 20));
    std::vector<std::unique_ptr<RemotePeer>> ps;
    for (int i = 0; i < 8; ++i) {
        ps.push_back(std::make_unique<RemotePeer>(h.host, *h.t, "10.0.1." + std::to_string(i + 1)));
        ps.back()->bitfield(all_pieces(48));
        ps.back()->simple(MsgId::unchoke);
    }
    size_t delivered = 0;
    bool more = true;
    while (more) {
        more = false;
        for (auto& p : ps) {
            for (const auto& r : RemotePeer::of(p->sent(), MsgId::request)) {
                p->block(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
                ++delivered;
                more = true;
            }
        }
    }
    // Requests stopped at the first cap; the ones already out kept coming.
    CHECK(h.t->disk_backlogged());
    CHECK(int64_t(delivered) * kB >= Torrent::kHoldReadingBytes);
    for (auto& p : ps) CHECK_FALSE(p->wire().reading());
    h.host.pump();  // the disk catches up: every job runs
    CHECK_FALSE(h.t->disk_backlogged());
    for (auto& p : ps) CHECK(p->wire().reading());
    // The pieces that were complete passed their hash check.
    CHECK(h.t->status(false).pieces_have > 0);
}
