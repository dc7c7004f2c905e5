// Push-based change tracking on a real Torrent (torrent_harness.hpp): every
// source of a row change tells the host once (TorrentHost::status_changed)
// until the mark is cleared, and what changes with time alone (rates
// decaying, "stalled") is marked by the ticks of an active torrent.
#include <doctest/doctest.h>

#include <functional>
#include <optional>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;

// Clears the mark, runs `what`, and returns how often the host heard of it.
int marks(Harness& h, const std::function<void()>& what) {
    h.t->clear_change_mark();
    h.host.changes = 0;
    what();
    return h.host.changes;
}
}  // namespace

TEST_CASE("changes: a torrent tells its host once until the mark is read, then again") {
    Harness h(make_content(4, 2 * kB), true);
    REQUIRE(h.state() == TorrentState::seeding);
    h.t->clear_change_mark();
    h.host.changes = 0;
    h.t->pause();
    CHECK(h.host.changes == 1);
    CHECK(h.t->change_marked());
    h.t->set_label("movies");  // marked already: the consumer reads both at once
    h.t->resume();
    CHECK(h.host.changes == 1);
    h.t->clear_change_mark();
    h.t->set_label("films");
    CHECK(h.host.changes == 2);
}

TEST_CASE("changes: each source of a row change marks the torrent exactly once") {
    Harness h(make_content(4, 2 * kB), true);
    REQUIRE(h.state() == TorrentState::seeding);
    CHECK(marks(h, [&] { h.t->pause(); }) == 1);
    CHECK(marks(h, [&] { h.t->resume(); }) == 1);
    CHECK(marks(h, [&] { h.t->set_label("x"); }) == 1);
    TorrentLimits l;
    l.up_limited = true;
    l.up_limit = 1000;
    CHECK(marks(h, [&] { h.t->set_limits(l); }) == 1);
    CHECK(marks(h, [&] { h.t->set_sequential(true); }) == 1);
    CHECK(marks(h, [&] { CHECK(h.t->set_files_wanted({0}, true).ok()); }) == 1);
    CHECK(marks(h, [&] { h.t->set_queued(true); }) == 1);
    CHECK(marks(h, [&] { h.t->set_queued(false); }) == 1);
    CHECK(marks(h, [&] {
              h.host.now += 1000;
              h.t->tick(h.host.now);
          }) == 1);
    // A peer arriving shows in the row; its traffic shows on the ticks of
    // the now active torrent (one mark a second, not one per block).
    std::optional<RemotePeer> a;
    CHECK(marks(h, [&] {
              a.emplace(h.host, *h.t, "10.0.0.1");
              h.host.pump();
          }) == 1);
    CHECK(h.t->status(false).peers == 1);
    a->simple(MsgId::have_none);
    a->simple(MsgId::interested);
    a->request(0, 0, kB);
    h.host.pump();
    CHECK(h.host.active);
    CHECK(marks(h, [&] { h.t->recheck(); }) == 1);
}

TEST_CASE("changes: the rates of a torrent decay to 0 on its ticks, and the last tick marks it once more") {
    Harness h(make_content(8, 2 * kB), true);
    REQUIRE(h.state() == TorrentState::seeding);
    {
        RemotePeer a(h.host, *h.t, "10.0.0.1");
        a.simple(MsgId::have_none);
        a.simple(MsgId::interested);
        for (uint32_t p = 0; p < 8; ++p)
            for (uint32_t b = 0; b < 2 * kB; b += kB) a.request(p, b, kB);
        h.host.pump();
        REQUIRE(h.t->status(false).up_rate > 0);
    }
    h.host.pump();  // the peer is gone
    REQUIRE(h.host.active);
    int ticks = 0;
    // Active while its rate is not 0: every tick marks it, so the decaying
    // rate is shown each second, and the tick that sees it reach 0 too.
    double rate = 1;
    while (rate > 0 && ticks < 30) {
        REQUIRE(h.host.active);
        h.host.now += 1000;
        CHECK(marks(h, [&] { h.t->tick(h.host.now); }) == 1);
        rate = h.t->status(false).up_rate;
        ++ticks;
    }
    CHECK(rate == 0);
    CHECK(ticks > 1);
}

TEST_CASE("changes: a download without peers keeps ticking until it shows stalled, marked on that tick") {
    Harness h(make_content(4, 2 * kB));
    REQUIRE(h.state() == TorrentState::downloading);
    REQUIRE(h.host.active);
    int64_t start = h.host.now;
    TorrentState last = h.state();
    while (h.host.active && h.host.now - start < 60'000) {
        h.host.now += 1000;
        int m = marks(h, [&] { h.t->tick(h.host.now); });
        CHECK(m == 1);
        last = h.state();
    }
    CHECK_FALSE(h.host.active);
    CHECK(last == TorrentState::stalled);
    CHECK(h.host.now - start <= Torrent::kStalledAfterMs + 2000);
}

TEST_CASE("changes: peers offered that are all us leave an idle torrent idle and unmarked") {
    Harness h(make_content(4, 2 * kB));
    REQUIRE(h.state() == TorrentState::downloading);
    while (h.host.active) {
        h.host.now += 1000;
        h.t->tick(h.host.now);
    }
    REQUIRE(h.state() == TorrentState::stalled);
    h.host.note_self_address("10.9.9.9:6881");
    PeerEndpoint self;
    self.ip = "10.9.9.9";
    self.port = 6881;
    CHECK(marks(h, [&] { h.t->add_peers({self}, PeerSource::dht); }) == 0);
    CHECK_FALSE(h.host.active);
    // A real address: the torrent wakes to dial it.
    PeerEndpoint other;
    other.ip = "10.9.9.10";
    other.port = 6881;
    h.t->add_peers({other}, PeerSource::dht);
    CHECK(h.host.active);
}
