// What a remote peer may send a real Torrent, and how the torrent serves
// and chokes peers: scripted peers, no sockets (torrent_harness.hpp).
#include <doctest/doctest.h>

#include <algorithm>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;

bool has_message(const std::vector<SentMessage>& ms, MsgId id) {
    return std::any_of(ms.begin(), ms.end(), [&](const SentMessage& m) { return !m.keepalive && m.id == id; });
}

std::string raw_frame(MsgId id, const std::string& payload) {
    uint32_t len = uint32_t(payload.size() + 1);
    std::string f;
    for (int s = 24; s >= 0; s -= 8) f += char((len >> s) & 0xff);
    f += char(id);
    f += payload;
    return f;
}

double peer_progress(Harness& h, const std::string& ip) {
    for (const auto& p : h.t->status(true).peer_list)
        if (p.address.rfind(ip + ":", 0) == 0) return p.progress;
    return -1;
}

// The second flag column: 'U' unchoked and interested, 'u' choked and interested.
bool unchoked(Harness& h, const std::string& ip) {
    for (const auto& p : h.t->status(true).peer_list)
        if (p.address.rfind(ip + ":", 0) == 0) return p.flags.size() > 1 && p.flags[1] == 'U';
    return false;
}
}  // namespace

TEST_CASE("torrent: a bitfield of the wrong size disconnects the peer") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.send(raw_frame(MsgId::bitfield, std::string(2, '\xff')));  // 4 pieces fit in 1 byte
    CHECK(a.closing());
    h.host.pump();
    CHECK_FALSE(a.connected());
    CHECK(h.host.logged("peer 10.0.0.1:50000 disconnected"));
}

TEST_CASE("torrent: a bitfield with spare bits set disconnects the peer") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.send(raw_frame(MsgId::bitfield, std::string(1, '\xff')));  // bits 4-7 are spare
    CHECK(a.closing());
}

TEST_CASE("torrent: bitfields after have_none are merged and only add pieces") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.simple(MsgId::have_none);
    Bitfield first(4), second(4);
    first.set(0);
    second.set(1);
    a.bitfield(first);
    CHECK(peer_progress(h, "10.0.0.1") == doctest::Approx(0.25));
    a.bitfield(second);  // does not take piece 0 back
    CHECK(peer_progress(h, "10.0.0.1") == doctest::Approx(0.5));
    CHECK_FALSE(a.closing());
    CHECK(has_message(a.sent(), MsgId::interested));
}

TEST_CASE("torrent: have_all after have_none makes the peer a seed") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.simple(MsgId::have_none);
    a.have(2);
    a.simple(MsgId::have_all);
    CHECK_FALSE(a.closing());
    CHECK(peer_progress(h, "10.0.0.1") == doctest::Approx(1.0));
    CHECK(h.t->status(false).seeds == 1);
}

TEST_CASE("torrent: have_none after another message disconnects the peer") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.have(1);
    a.simple(MsgId::have_none);
    CHECK(a.closing());
    h.host.pump();
    CHECK(h.host.logged("have_none sent after other messages"));
}

TEST_CASE("torrent: have_all without the fast extension disconnects the peer") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1", false);
    a.simple(MsgId::have_all);
    CHECK(a.closing());
    h.host.pump();
    CHECK(h.host.logged("have_all without the fast extension"));
}

TEST_CASE("torrent: a have for a piece out of range disconnects the peer") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.have(4);
    CHECK(a.closing());
}

TEST_CASE("torrent: unknown message ids are ignored") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.send(raw_frame(MsgId(99), "hello"));
    a.have(1);
    CHECK_FALSE(a.closing());
    CHECK(peer_progress(h, "10.0.0.1") == doctest::Approx(0.25));
}

TEST_CASE("torrent: unrequested blocks beyond the slack disconnect the peer") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    std::string data(kB, 'z');
    // Never unchoked us, so we asked for nothing: 64 late blocks are
    // tolerated (cancelled requests cross blocks on the wire)...
    for (int i = 0; i < 64; ++i) a.block(uint32_t(i % 4), 0, data);
    CHECK_FALSE(a.closing());
    // ...one more is flooding.
    a.block(0, 0, data);
    CHECK(a.closing());
    h.host.pump();
    CHECK(h.host.logged("blocks we did not request"));
    CHECK(h.t->status(false).pieces_have == 0);
}

TEST_CASE("torrent: requests while the peer is choked are rejected with the fast extension") {
    Harness h(make_content(4, 2 * kB), true);
    REQUIRE(h.state() == TorrentState::seeding);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.simple(MsgId::have_none);
    a.sent();
    a.request(1, 0, kB);  // not interested, so still choked
    h.host.pump();
    auto sent = a.sent();
    auto rejects = RemotePeer::of(sent, MsgId::reject);
    REQUIRE(rejects.size() == 1);
    CHECK(rejects[0].piece == 1);
    CHECK(rejects[0].begin == 0);
    CHECK(rejects[0].length == kB);
    CHECK_FALSE(has_message(sent, MsgId::piece));
    CHECK(h.host.store->reads == 0);
}

TEST_CASE("torrent: requests while choked are ignored without the fast extension") {
    Harness h(make_content(4, 2 * kB), true);
    RemotePeer a(h.host, *h.t, "10.0.0.1", false);
    a.sent();
    a.request(1, 0, kB);
    h.host.pump();
    CHECK(a.sent().empty());
    CHECK_FALSE(a.closing());
}

TEST_CASE("torrent: a request for a piece we do not have disconnects the peer") {
    Harness h(make_content(4, 2 * kB));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.request(2, 0, kB);
    CHECK(a.closing());
    h.host.pump();
    CHECK(h.host.logged("we do not have"));
}

TEST_CASE("torrent: an unchoked peer is uploaded the block read from storage") {
    Harness h(make_content(4, 2 * kB), true);
    REQUIRE(h.state() == TorrentState::seeding);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    CHECK(RemotePeer::of(a.sent(), MsgId::have_all).size() == 1);
    a.simple(MsgId::have_none);
    a.simple(MsgId::interested);
    CHECK(has_message(a.sent(), MsgId::unchoke));
    a.request(2, kB, kB);
    h.host.pump();
    auto blocks = RemotePeer::of(a.sent(), MsgId::piece);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0].piece == 2);
    CHECK(blocks[0].begin == kB);
    CHECK(blocks[0].payload == h.block_of(2, kB, kB));
    CHECK(h.host.store->reads == 1);
    CHECK(h.t->status(false).uploaded == kB);
}

TEST_CASE("torrent: a block is not uploaded while the global upload limit has no tokens") {
    Harness h(make_content(4, 2 * kB), true);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.simple(MsgId::have_none);
    a.simple(MsgId::interested);
    h.host.upload_tokens = 0;
    a.request(0, 0, kB);
    h.host.pump();
    CHECK_FALSE(has_message(a.sent(), MsgId::piece));
    h.host.upload_tokens = kB;
    h.t->on_bandwidth();
    h.host.pump();
    CHECK(RemotePeer::of(a.sent(), MsgId::piece).size() == 1);
}

TEST_CASE("torrent: interested peers are unchoked up to the upload slots plus one") {
    Harness h(make_content(4, 2 * kB), true);
    h.host.opt.max_uploads = 2;
    std::vector<std::unique_ptr<RemotePeer>> ps;
    for (int i = 0; i < 5; ++i) {
        ps.push_back(std::make_unique<RemotePeer>(h.host, *h.t, "10.0.1." + std::to_string(i + 1)));
        ps.back()->simple(MsgId::have_none);
        ps.back()->simple(MsgId::interested);
    }
    int n = 0;
    for (int i = 0; i < 5; ++i) n += unchoked(h, "10.0.1." + std::to_string(i + 1));
    CHECK(n == 3);
    CHECK(unchoked(h, "10.0.1.1"));
    CHECK_FALSE(unchoked(h, "10.0.1.5"));
}

TEST_CASE("torrent: a choke round unchokes the peers we download fastest from") {
    Harness h(make_content(8, 2 * kB));
    h.host.opt.max_uploads = 2;
    Bitfield all(8);
    all.set_all();
    std::vector<std::unique_ptr<RemotePeer>> ps;
    for (int i = 0; i < 6; ++i) {
        ps.push_back(std::make_unique<RemotePeer>(h.host, *h.t, "10.0.2." + std::to_string(i + 1)));
        ps.back()->bitfield(all);
        ps.back()->simple(MsgId::interested);
    }
    // The first three took the free slots; peers 4 and 5 upload to us;
    // peer 6 only waits.
    CHECK(unchoked(h, "10.0.2.1"));
    CHECK_FALSE(unchoked(h, "10.0.2.4"));
    SentMessage delivered;
    delivered.piece = UINT32_MAX;
    for (int i : {3, 4}) {
        auto& p = *ps[size_t(i)];
        p.sent();
        p.simple(MsgId::unchoke);
        auto reqs = RemotePeer::of(p.sent(), MsgId::request);
        auto r = std::find_if(reqs.begin(), reqs.end(), [&](const SentMessage& m) {
            return m.piece != delivered.piece || m.begin != delivered.begin;
        });
        REQUIRE(r != reqs.end());
        p.block(r->piece, r->begin, h.block_of(r->piece, r->begin, r->length));
        delivered = *r;
    }
    for (int i = 0; i < 10; ++i) h.t->tick(h.host.now);  // the tenth tick runs the choker
    CHECK(unchoked(h, "10.0.2.4"));
    CHECK(unchoked(h, "10.0.2.5"));
    // The optimistic slot goes to an interested peer that was choked.
    CHECK(unchoked(h, "10.0.2.6"));
    for (int i = 1; i <= 3; ++i) CHECK_FALSE(unchoked(h, "10.0.2." + std::to_string(i)));
}

TEST_CASE("torrent: a complete torrent checks its data and seeds without downloading") {
    Harness h(make_content(4, 2 * kB), true);
    CHECK(h.state() == TorrentState::seeding);
    CHECK(h.t->complete());
    CHECK(h.host.logged("checked: 4 of 4 pieces present"));
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.simple(MsgId::have_none);
    CHECK_FALSE(has_message(a.sent(), MsgId::interested));
    // A seed meeting a seed: nothing to trade.
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    b.simple(MsgId::have_all);
    CHECK(b.closing());
}

TEST_CASE("torrent: a block whose piece changed on disk is not uploaded and the torrent asks for a re-check") {
    Harness h(make_content(4, 2 * kB), true);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.simple(MsgId::have_none);
    a.simple(MsgId::interested);
    a.sent();
    h.host.store->corrupt(size_t(3) * 2 * kB + 5);
    a.request(3, 0, kB);
    h.host.pump();
    CHECK_FALSE(has_message(a.sent(), MsgId::piece));
    auto st = h.t->status(false);
    CHECK(st.state == TorrentState::error);
    CHECK(st.needs_recheck);
    CHECK_FALSE(a.connected());
    CHECK(h.host.logged("file changed"));
}
