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

TEST_CASE("torrent: --encryption prefer dials encrypted, and once in plain text at once if that is closed early") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}});
    REQUIRE(h.host.dialled.size() == 1);
    CHECK(h.host.dialled_encrypted[0]);
    h.host.dialled.back()->connected();
    h.host.dialled.back()->close("encryption handshake: connection closed by peer");
    h.host.pump();
    REQUIRE(h.host.dialled.size() == 2);  // no backoff for the other mode
    CHECK_FALSE(h.host.dialled_encrypted[1]);
    // The plain-text try fails too: back to the backoff, and encrypted again.
    h.host.dialled.back()->connected();
    h.host.dialled.back()->close("connection closed by peer");
    h.host.pump();
    CHECK(h.host.dialled.size() == 2);
    int64_t start = h.host.now;
    run_until(h, start, 10'000);
    REQUIRE(h.host.dialled.size() == 3);
    CHECK(h.host.dialled_encrypted[2]);
}

TEST_CASE("torrent: --encryption allow dials in plain text first, then once encrypted") {
    Harness h(make_content(4, 32768));
    h.host.opt.encryption = Encryption::allow;
    h.t->add_peers({{"10.0.0.5", 7000}});
    REQUIRE(h.host.dialled.size() == 1);
    CHECK_FALSE(h.host.dialled_encrypted[0]);
    h.host.dialled.back()->connected();
    h.host.dialled.back()->close("connection closed by peer");
    h.host.pump();
    REQUIRE(h.host.dialled.size() == 2);
    CHECK(h.host.dialled_encrypted[1]);
    answer_dial(h, remote_id("-XX0001-"));  // the encrypted one works
    CHECK(h.t->status(false).peers == 1);
}

TEST_CASE("torrent: --encryption require never dials in plain text") {
    Harness h(make_content(4, 32768));
    h.host.opt.encryption = Encryption::require;
    h.t->add_peers({{"10.0.0.5", 7000}});
    REQUIRE(h.host.dialled.size() == 1);
    CHECK(h.host.dialled_encrypted[0]);
    h.host.dialled.back()->connected();
    h.host.dialled.back()->close("encryption handshake: no verification constant from the peer");
    h.host.pump();
    CHECK(h.host.dialled.size() == 1);  // no second mode to try: the usual backoff
    int64_t start = h.host.now;
    run_until(h, start, 10'000);
    REQUIRE(h.host.dialled.size() == 2);
    CHECK(h.host.dialled_encrypted[1]);
}

TEST_CASE("torrent: a connect that failed is not retried in the other mode") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}});
    h.host.dialled.back()->close("connection refused");
    h.host.pump();
    CHECK(h.host.dialled.size() == 1);
}

TEST_CASE("torrent: the peer list flags an encrypted connection with E") {
    Harness h(make_content(4, 32768));
    h.t->add_peers({{"10.0.0.5", 7000}, {"10.0.0.6", 7000}});
    REQUIRE(h.host.dialled.size() == 2);
    h.host.dialled[0]->encrypted_ = true;
    ScriptedTransport* enc = h.host.dialled[0];
    ScriptedTransport* plain = h.host.dialled[1];
    for (auto* tr : {enc, plain}) {
        tr->connected();
        std::string hs;
        append_handshake(hs, h.t->info_hash(), remote_id(tr == enc ? "-XX0001-" : "-YY0001-"), true, false);
        tr->feed(hs);
    }
    auto st = h.t->status(true);
    REQUIRE(st.peer_list.size() == 2);
    int flagged = 0;
    for (const auto& p : st.peer_list) flagged += p.flags.find('E') != std::string::npos;
    CHECK(flagged == 1);  // only the encrypted one
    enc->encrypted_ = false;
    st = h.t->status(true);
    for (const auto& p : st.peer_list) CHECK(p.flags.find('E') == std::string::npos);
}
