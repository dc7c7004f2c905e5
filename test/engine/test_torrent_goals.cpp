// Seeding goals, the queue's hold and per-torrent upload caps on a real
// Torrent with scripted peers (torrent_harness.hpp).
#include <doctest/doctest.h>

#include <algorithm>

#include "btl/disk/resume.hpp"
#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;

// A leecher that asks for every block of the torrent once.
void pull_all(Harness& h, RemotePeer& a) {
    a.simple(MsgId::have_none);
    a.simple(MsgId::interested);
    for (uint32_t p = 0; p < h.c.mi.num_pieces(); ++p)
        for (uint32_t b = 0; b < h.c.mi.piece_length; b += kB) a.request(p, b, kB);
    h.host.pump();
}
}  // namespace

TEST_CASE("goals: a seed that uploads its ratio becomes finished, closes its peers and stays so") {
    Harness h(make_content(4, 2 * kB), true);
    h.host.opt.seed_ratio = 2.0;
    REQUIRE(h.state() == TorrentState::seeding);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    pull_all(h, a);
    h.host.now += 1000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::seeding);  // one copy out: ratio 1
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    pull_all(h, b);
    h.host.now += 1000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::finished);
    CHECK(h.t->finished());
    CHECK(h.host.logged("seed ratio 2.00 reached (goal 2.00)"));
    h.host.pump();
    CHECK_FALSE(b.connected());
    CHECK_FALSE(h.t->accepting_peers());
    // Started again by the user: seeds, and the met goal is not applied to that run.
    h.t->resume();
    CHECK(h.state() == TorrentState::seeding);
    h.host.now += 1000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::seeding);
    // A new goal applies again.
    h.t->set_seed_ratio(0.5);
    h.host.now += 1000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::finished);
}

TEST_CASE("goals: the torrent's own mode overrides the global ratio: unlimited never finishes") {
    Harness h(make_content(2, 2 * kB), true);
    h.host.opt.seed_ratio = 0.1;
    TorrentLimits l;
    l.seed_ratio_mode = 2;
    h.t->set_limits(l);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    pull_all(h, a);
    h.host.now += 1000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::seeding);
    CHECK(h.t->seed_ratio_goal() == 0);
    l.seed_ratio_mode = 0;  // back to the global 0.1
    h.t->set_limits(l);
    h.host.now += 1000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::finished);
}

TEST_CASE("goals: a label's seed ratio replaces the global one; the torrent's own mode still wins") {
    Harness h(make_content(2, 2 * kB), true);
    h.host.opt.seed_ratio = 0;  // forever
    h.t->set_label_seed_ratio(0.5);
    CHECK(h.t->seed_ratio_goal() == doctest::Approx(0.5));
    TorrentLimits l;
    l.seed_ratio_mode = 2;
    h.t->set_limits(l);
    CHECK(h.t->seed_ratio_goal() == 0);
    l.seed_ratio_mode = 0;
    h.t->set_limits(l);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    pull_all(h, a);
    h.host.now += 1000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::finished);
}

TEST_CASE("goals: a seed idle for its idle goal finishes; it keeps ticking while it waits") {
    Harness h(make_content(2, 2 * kB), true);
    h.t->set_seed_idle_minutes(2);
    CHECK(h.t->seed_idle_goal_ms() == 120'000);
    h.host.now += 60'000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::seeding);
    CHECK(h.host.active);  // not put to sleep: the goal is watched
    h.host.now += 61'000;
    h.t->tick(h.host.now);
    CHECK(h.state() == TorrentState::finished);
    CHECK(h.host.logged("nothing uploaded for 2 min"));
}

TEST_CASE("queue: a queued torrent is held after its check, and set_queued(false) starts it") {
    Harness h(make_content(4, 2 * kB), true);
    h.t->set_queued(true);
    CHECK(h.state() == TorrentState::queued);
    CHECK_FALSE(h.t->accepting_peers());
    CHECK_FALSE(h.t->paused());
    h.t->pause();  // the user's pause stays a pause
    CHECK(h.state() == TorrentState::stopped);
    h.t->resume();
    CHECK(h.state() == TorrentState::queued);  // still waits for its slot
    h.t->set_queued(false);
    CHECK(h.state() == TorrentState::seeding);
    CHECK(h.t->accepting_peers());
}

TEST_CASE("limits: a torrent's own upload cap holds blocks back until its tokens are back") {
    Harness h(make_content(4, 2 * kB), true);
    TorrentLimits l;
    l.up_limited = true;
    l.up_limit = kB;  // 16 KiB/s: one block per second (burst one second)
    h.t->set_limits(l);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.simple(MsgId::have_none);
    a.simple(MsgId::interested);
    h.host.now += 1000;  // the bucket fills
    for (uint32_t b = 0; b < 3; ++b) a.request(b, 0, kB);
    h.host.pump();
    CHECK(RemotePeer::of(a.sent(), MsgId::piece).size() == 1);
    h.host.now += 1000;
    h.t->on_bandwidth();
    h.host.pump();
    CHECK(RemotePeer::of(a.sent(), MsgId::piece).size() == 1);
    l.up_limited = false;  // lifted: the rest goes out
    h.t->set_limits(l);
    h.host.pump();
    CHECK(RemotePeer::of(a.sent(), MsgId::piece).size() == 1);
}

TEST_CASE("resume: queue, goal and limit keys survive encode and decode; older files lack them") {
    ResumeData r;
    r.num_pieces = 0;
    r.queue_key = 41;
    r.finished = true;
    r.goals_waived = true;
    r.seed_ratio_milli = 1500;
    r.seed_ratio_mode = 1;
    r.seed_idle_minutes = 30;
    r.seed_idle_mode = 2;
    r.up_limit = 50'000;
    r.down_limit = 70'000;
    r.up_limited = true;
    r.priority = -1;
    auto d = decode_resume(encode_resume(r));
    REQUIRE(d.ok());
    CHECK(d->queue_key == 41);
    CHECK(d->finished);
    CHECK(d->goals_waived);
    CHECK(d->seed_ratio_milli == 1500);
    CHECK(d->seed_ratio_mode == 1);
    CHECK(d->seed_idle_minutes == 30);
    CHECK(d->seed_idle_mode == 2);
    CHECK(d->up_limit == 50'000);
    CHECK(d->down_limit == 70'000);
    CHECK(d->up_limited);
    CHECK_FALSE(d->down_limited);
    CHECK(d->priority == -1);
    // A bad value is one clear error naming the key.
    std::string bad = encode_resume(r);
    size_t at = bad.find("8:priorityi-1e");
    REQUIRE(at != std::string::npos);
    bad.replace(at, 14, "8:priorityi7e");
    auto e = decode_resume(bad);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message.find("priority") != std::string::npos);
}
