// Which addresses a torrent dials, and when again (PeerBook in a real
// Torrent), and one connection per peer: scripted peers, no sockets
// (torrent_harness.hpp).
#include <doctest/doctest.h>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
// The remote end of the connection the torrent dialled last: it accepts and
// answers with its handshake.
ScriptedTransport& answer_dial(Harness& h, const PeerId& id) {
    REQUIRE(!h.host.dialled.empty());
    ScriptedTransport& tr = *h.host.dialled.back();
    tr.connected();
    std::string hs;
    append_handshake(hs, h.t->info_hash(), id, true, false);
    tr.feed(hs);
    return tr;
}

PeerId remote_id(const char* prefix) { return make_peer_id(prefix, 99); }

// Advances the clock to `ms` after the start, one tick per second.
void run_until(Harness& h, int64_t start, int64_t ms) {
    while (h.host.now < start + ms) {
        h.host.now += 1000;
        h.t->tick(h.host.now);
        h.host.pump();
    }
}

bool alive(Harness& h, ScriptedTransport* tr) { return h.host.live.count(tr) && !tr->closing(); }
}  // namespace

TEST_CASE("torrent: a dialled peer that dropped is dialled again 10 s later") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}});
    REQUIRE(h.host.dialled.size() == 1);
    ScriptedTransport& tr = answer_dial(h, remote_id("-XX0001-"));
    CHECK(h.t->status(false).peers == 1);
    tr.close("connection reset by peer");  // the seed went away
    h.host.pump();
    CHECK(h.t->status(false).peers == 0);
    int64_t start = h.host.now;
    run_until(h, start, 9000);
    CHECK(h.host.dialled.size() == 1);
    run_until(h, start, 10'000);
    CHECK(h.host.dialled.size() == 2);
}

TEST_CASE("torrent: a failed dial backs off, and the tracker offering it again dials at once") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}});
    REQUIRE(h.host.dialled.size() == 1);
    h.host.dialled.back()->close("connection refused");  // the seed is not up yet
    h.host.pump();
    int64_t start = h.host.now;
    run_until(h, start, 10'000);
    REQUIRE(h.host.dialled.size() == 2);
    h.host.dialled.back()->close("connection refused");
    h.host.pump();
    start = h.host.now;
    run_until(h, start, 19'000);  // the second wait is 20 s
    CHECK(h.host.dialled.size() == 2);
    h.t->add_peers({{"10.0.0.5", 7000}});  // a fresh announce
    CHECK(h.host.dialled.size() == 3);
}

TEST_CASE("torrent: a re-check dials the peers it dropped again at once") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}});
    answer_dial(h, remote_id("-XX0001-"));
    h.t->recheck();
    h.host.pump();
    CHECK(h.host.dialled.size() == 2);
}

TEST_CASE("torrent: pause and resume dial the known peers again") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}});
    answer_dial(h, remote_id("-XX0001-"));
    h.t->pause();
    h.host.pump();
    CHECK(h.host.dialled.size() == 1);
    h.t->resume();
    h.host.pump();
    CHECK(h.host.dialled.size() == 2);
}

TEST_CASE("torrent: an address being dialled or connected is not dialled twice") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}});
    h.t->add_peers({{"10.0.0.5", 7000}});
    CHECK(h.host.dialled.size() == 1);
    answer_dial(h, remote_id("-XX0001-"));
    h.t->add_peers({{"10.0.0.5", 7000}});
    run_until(h, h.host.now, 120'000);
    CHECK(h.host.dialled.size() == 1);
}

TEST_CASE("torrent: both sides dialled, the peer with the greater id keeps its own dial") {
    // Our id starts "-BL", theirs "-XX": theirs is greater, so the connection
    // it initiated (incoming to us) survives and our dial is dropped.
    Harness h(make_content(4, 32768));
    PeerId theirs = remote_id("-XX0001-");
    RemotePeer in(h.host, *h.t, "10.0.0.5", theirs);
    h.t->add_peers({{"10.0.0.5", 7000}});
    ScriptedTransport& out = answer_dial(h, theirs);
    CHECK(out.closing());
    CHECK(in.connected());
    CHECK_FALSE(in.closing());
    CHECK(h.t->status(false).peers == 1);
    h.host.pump();
    CHECK(h.t->status(false).peers == 1);
    // The dropped address waits for the surviving connection, not for a backoff.
    run_until(h, h.host.now, 120'000);
    CHECK(h.host.dialled.size() == 1);
    in.wire().close("gone");
    h.host.pump();
    CHECK(h.host.dialled.size() == 2);
}

TEST_CASE("torrent: both sides dialled, our dial survives when our id is greater") {
    Harness h(make_content(4, 32768));
    PeerId theirs = remote_id("-AA0001-");  // "-AA" < "-BL"
    h.t->add_peers({{"10.0.0.5", 7000}});
    ScriptedTransport* out = h.host.dialled.back();
    RemotePeer in(h.host, *h.t, "10.0.0.5", theirs);  // its dial arrives first
    CHECK(h.t->status(false).peers == 1);
    answer_dial(h, theirs);
    CHECK(alive(h, out));
    CHECK(in.closing());
    CHECK(h.t->status(false).peers == 1);
    h.host.pump();
    CHECK_FALSE(in.connected());
    CHECK(alive(h, out));
    CHECK(h.t->status(false).peers == 1);
}

TEST_CASE("torrent: a second incoming connection from the same peer id is dropped") {
    Harness h(make_content(4, 32768));
    PeerId id = remote_id("-XX0001-");
    RemotePeer a(h.host, *h.t, "10.0.0.5", id), b(h.host, *h.t, "10.0.0.5", id);
    CHECK_FALSE(a.closing());
    CHECK(b.closing());
    h.host.pump();
    CHECK(h.t->status(false).peers == 1);
}
