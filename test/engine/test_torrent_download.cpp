// A real Torrent downloading from scripted peers: no sockets, no files
// (torrent_harness.hpp).  Pieces here are 32 KiB, two 16 KiB blocks.
#include <doctest/doctest.h>

#include <algorithm>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;

bool has_message(const std::vector<SentMessage>& ms, MsgId id, uint32_t piece = UINT32_MAX, uint32_t begin = UINT32_MAX) {
    return std::any_of(ms.begin(), ms.end(), [&](const SentMessage& m) {
        return !m.keepalive && m.id == id && (piece == UINT32_MAX || m.piece == piece) &&
               (begin == UINT32_MAX || m.begin == begin);
    });
}

std::string stored(const Harness& h) {
    const auto& b = h.host.store->bytes();
    return std::string(b.begin(), b.end());
}

// The peer says it has everything and unchokes us; returns our requests.
std::vector<SentMessage> seed_unchokes(RemotePeer& p, uint32_t pieces) {
    p.bitfield(all_pieces(pieces));
    p.simple(MsgId::unchoke);
    return RemotePeer::of(p.sent(), MsgId::request);
}
}  // namespace

TEST_CASE("torrent: a piece assembled from blocks of two peers is verified") {
    Harness h(make_content(1, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1"), b(h.host, *h.t, "10.0.0.2");
    auto ra = seed_unchokes(a, 1);
    REQUIRE(ra.size() == 2);  // both blocks asked of the first peer
    auto rb = seed_unchokes(b, 1);
    REQUIRE(rb.size() == 2);  // endgame: the second peer is asked too
    a.block(0, 0, h.block_of(0, 0, kB));
    b.block(0, kB, h.block_of(0, kB, kB));
    h.host.pump();
    auto st = h.t->status(false);
    CHECK(st.pieces_have == 1);
    CHECK(st.have_bytes == 2 * kB);
    CHECK(h.host.store->writes == 1);
    CHECK(stored(h) == h.c.data);
    CHECK(h.host.banned.empty());
}

TEST_CASE("torrent: endgame sends a cancel to the other peer when a duplicate block arrives") {
    Harness h(make_content(1, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1"), b(h.host, *h.t, "10.0.0.2");
    seed_unchokes(a, 1);
    REQUIRE(seed_unchokes(b, 1).size() == 2);
    a.block(0, 0, h.block_of(0, 0, kB));
    auto to_b = b.sent();
    CHECK(has_message(to_b, MsgId::cancel, 0, 0));
    CHECK_FALSE(has_message(to_b, MsgId::cancel, 0, kB));
    b.block(0, kB, h.block_of(0, kB, kB));
    CHECK(has_message(a.sent(), MsgId::cancel, 0, kB));
}

TEST_CASE("torrent: a piece that fails its hash check from one peer bans that peer") {
    Harness h(make_content(1, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    REQUIRE(seed_unchokes(a, 1).size() == 2);
    std::string junk(kB, 'x');
    a.block(0, 0, junk);
    a.block(0, kB, junk);
    h.host.pump();
    CHECK(h.host.banned.count("10.0.0.1") == 1);
    CHECK(h.host.logged("piece 0 failed its hash check"));
    CHECK_FALSE(a.connected());
    CHECK(h.t->status(false).pieces_have == 0);
    CHECK(h.host.store->writes == 0);
}

TEST_CASE("torrent: smart ban finds the liar among two senders once the piece passes") {
    Harness h(make_content(1, 2 * kB));
    RemotePeer liar(h.host, *h.t, "10.0.0.1"), honest(h.host, *h.t, "10.0.0.2");
    seed_unchokes(liar, 1);
    seed_unchokes(honest, 1);
    liar.block(0, 0, std::string(kB, 'x'));
    honest.block(0, kB, h.block_of(0, kB, kB));
    h.host.pump();
    // Two senders: nobody can be blamed yet.
    CHECK(h.host.banned.empty());
    CHECK(h.host.logged("failed its hash check"));
    // The piece is asked again; the honest peer sends all of it.
    liar.sent();
    auto again = RemotePeer::of(honest.sent(), MsgId::request);
    REQUIRE(again.size() == 2);
    honest.block(0, 0, h.block_of(0, 0, kB));
    honest.block(0, kB, h.block_of(0, kB, kB));
    h.host.pump();
    CHECK(h.t->complete());
    CHECK(h.host.banned.count("10.0.0.1") == 1);
    CHECK(h.host.banned.count("10.0.0.2") == 0);
    CHECK(h.host.logged("sent a bad block of piece 0"));
}

TEST_CASE("torrent: completion fires once and the torrent becomes a seed") {
    Harness h(make_content(3, 2 * kB, kB));
    CHECK(h.state() == TorrentState::downloading);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    auto reqs = seed_unchokes(a, 3);
    REQUIRE(reqs.size() == 5);
    for (const auto& r : reqs) a.block(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
    h.host.pump();
    CHECK(h.t->complete());
    CHECK(h.state() == TorrentState::seeding);
    CHECK(h.t->status(false).progress == doctest::Approx(1.0));
    CHECK(stored(h) == h.c.data);
    h.t->tick(h.host.now);
    h.host.pump();
    CHECK(h.host.count_logged("download complete") == 1);
    CHECK(h.host.store->saves >= 1);  // resume data saved on completion
    // Both sides are seeds now: the peer is let go.
    CHECK_FALSE(a.connected());
}

TEST_CASE("torrent: interest follows what the peer has that we still need") {
    Harness h(make_content(2, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    CHECK(RemotePeer::of(a.sent(), MsgId::have_none).size() == 1);  // we have nothing yet
    a.simple(MsgId::have_none);
    CHECK_FALSE(has_message(a.sent(), MsgId::interested));
    a.have(1);
    CHECK(has_message(a.sent(), MsgId::interested));
    a.simple(MsgId::unchoke);
    auto reqs = RemotePeer::of(a.sent(), MsgId::request);
    REQUIRE(reqs.size() == 2);
    for (const auto& r : reqs) CHECK(r.piece == 1);  // only what it has
    for (const auto& r : reqs) a.block(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
    h.host.pump();
    // It has nothing more we need.
    CHECK(has_message(a.sent(), MsgId::not_interested));
}

TEST_CASE("torrent: a peer that goes away gives its requests to the next peer") {
    Harness h(make_content(1, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    REQUIRE(seed_unchokes(a, 1).size() == 2);
    a.wire().close("remote closed");
    h.host.pump();
    REQUIRE_FALSE(a.connected());
    CHECK(h.host.closed == 1);
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    auto rb = seed_unchokes(b, 1);
    CHECK(rb.size() == 2);
}

TEST_CASE("torrent: disk full stops the download and keeps seeding the pieces we have") {
    Harness h(make_content(3, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    auto reqs = seed_unchokes(a, 3);
    REQUIRE(reqs.size() == 6);
    a.block(0, 0, h.block_of(0, 0, kB));
    a.block(0, kB, h.block_of(0, kB, kB));
    h.host.pump();
    REQUIRE(h.t->status(false).pieces_have == 1);
    a.sent();
    h.host.store->write_errno = ENOSPC;
    a.block(1, 0, h.block_of(1, 0, kB));
    a.block(1, kB, h.block_of(1, kB, kB));
    h.host.pump();
    auto st = h.t->status(false);
    CHECK(st.state == TorrentState::error);
    CHECK(st.retry_in_s >= 0);
    CHECK(st.pieces_have == 1);
    auto to_a = a.sent();
    CHECK(has_message(to_a, MsgId::not_interested));
    CHECK(RemotePeer::of(to_a, MsgId::cancel).size() == 2);  // piece 2's requests
    CHECK(a.connected());
    // A leecher is still served piece 0.
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    b.simple(MsgId::have_none);
    b.simple(MsgId::interested);
    CHECK(has_message(b.sent(), MsgId::unchoke));
    b.request(0, kB, kB);
    h.host.pump();
    auto blocks = RemotePeer::of(b.sent(), MsgId::piece);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0].payload == h.block_of(0, kB, kB));
}

TEST_CASE("torrent: after a full disk, free space found on a later tick resumes the download") {
    Harness h(make_content(2, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    seed_unchokes(a, 2);
    h.host.store->write_errno = ENOSPC;
    a.block(0, 0, h.block_of(0, 0, kB));
    a.block(0, kB, h.block_of(0, kB, kB));
    h.host.pump();
    REQUIRE(h.t->status(false).state == TorrentState::error);
    a.sent();
    h.host.store->write_errno = 0;
    h.host.store->free_bytes = int64_t(1) << 30;
    h.host.now += h.host.opt.disk_retry_interval_ms + 1000;
    h.t->tick(h.host.now);
    h.host.pump();
    CHECK(h.t->status(false).state == TorrentState::downloading);
    CHECK(h.host.logged("resuming the download"));
    auto to_a = a.sent();
    CHECK(has_message(to_a, MsgId::interested));
    CHECK(has_message(to_a, MsgId::request));
}

TEST_CASE("torrent: pause closes every peer and resume starts the swarm again") {
    Harness h(make_content(2, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    REQUIRE(h.t->accepting_peers());
    h.t->pause();
    CHECK(a.closing());
    h.host.pump();
    CHECK_FALSE(a.connected());
    CHECK(h.t->paused());
    CHECK(h.state() == TorrentState::stopped);
    CHECK_FALSE(h.t->accepting_peers());
    h.t->resume();
    CHECK_FALSE(h.t->paused());
    CHECK(h.state() == TorrentState::downloading);
    CHECK(h.t->accepting_peers());
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    CHECK(seed_unchokes(b, 2).size() == 4);
}

TEST_CASE("torrent: a torrent added paused stays stopped until resumed") {
    Harness h(make_content(2, 2 * kB), false, true);
    CHECK(h.state() == TorrentState::stopped);
    CHECK_FALSE(h.t->accepting_peers());
    h.t->resume();
    CHECK(h.state() == TorrentState::downloading);
}

TEST_CASE("torrent: outgoing connections take a slot and give it back when they close") {
    Harness h(make_content(1, 2 * kB));
    h.host.banned.insert("10.0.0.9");
    h.t->add_peers({PeerEndpoint{"10.0.0.8", 6881}, PeerEndpoint{"10.0.0.9", 6881}});
    CHECK(h.host.opened == 1);  // the banned address is never dialled
    REQUIRE(h.host.dialled.size() == 1);
    h.host.dialled[0]->close("connect failed");
    h.host.pump();
    CHECK(h.host.connect_finished == 1);
    CHECK(h.host.closed == 1);
}

TEST_CASE("torrent: an outgoing peer gets our handshake once connected") {
    Harness h(make_content(1, 2 * kB));
    h.t->add_peers({PeerEndpoint{"10.0.0.8", 6881}});
    REQUIRE(h.host.dialled.size() == 1);
    ScriptedTransport* tr = h.host.dialled[0];
    tr->connected();
    CHECK(h.host.connect_finished == 1);
    std::string theirs;
    append_handshake(theirs, h.c.mi.info_hash, make_peer_id("-XX0001-", 3), true, false);
    tr->feed(theirs);
    auto sent = tr->take_sent();  // our handshake is skipped, then have_none
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].id == MsgId::have_none);
    CHECK_FALSE(tr->closing());
}
