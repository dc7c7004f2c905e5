// The announcer's pure policy: how long a failing tracker waits before it is
// asked again, and which interval a (possibly lying) tracker's answer buys.
#include <doctest/doctest.h>
#include <unistd.h>

#include "btl/core/tracker_client_codec.hpp"
#include "btl/engine/announcer.hpp"

using namespace btl;

TEST_CASE("announcer: a failing tracker backs off 15 s doubling to 30 min") {
    CHECK(tracker_retry_delay_s(1) == 15);
    CHECK(tracker_retry_delay_s(2) == 30);
    CHECK(tracker_retry_delay_s(3) == 60);
    CHECK(tracker_retry_delay_s(7) == 960);
    CHECK(tracker_retry_delay_s(8) == 1800);
    CHECK(tracker_retry_delay_s(9) == 1800);
    CHECK(tracker_retry_delay_s(1000000) == 1800);  // no shift overflow
    CHECK(tracker_retry_delay_s(0) == 15);
    CHECK(tracker_retry_delay_s(-3) == 15);
}

TEST_CASE("announcer: intervals from lying trackers are clamped to [1 min, 4 h]") {
    auto interval_of = [](std::string body) {
        auto r = parse_announce_response(body);
        REQUIRE(r.ok());
        return announce_interval_s(*r);
    };
    CHECK(interval_of("d8:intervali0ee") == 60);
    CHECK(interval_of("d8:intervali-1ee") == 60);
    CHECK(interval_of("d8:intervali1ee") == 60);
    CHECK(interval_of("d8:intervali1800ee") == 1800);
    CHECK(interval_of("d8:intervali4611686018427387904ee") == 4 * 3600);
    CHECK(interval_of("de") == 1800);  // no interval: the default
    // A min interval above the interval wins (the tracker asked for it) ...
    CHECK(interval_of("d8:intervali100e12:min intervali900ee") == 900);
    // ... but it cannot silence us either.
    CHECK(interval_of("d8:intervali100e12:min intervali99999999ee") == 4 * 3600);
    CHECK(interval_of("d8:intervali0e12:min intervali0ee") == 60);
    // UDP announces go through the same clamp.
    std::string pkt("\x00\x00\x00\x01" "\x00\x00\x00\x07" "\x00\x00\x00\x00" "\x00\x00\x00\x00" "\x00\x00\x00\x00", 20);
    auto u = parse_udp_response(pkt);
    REQUIRE(u.ok());
    CHECK(u->announce.raw_interval == 0);
    CHECK(announce_interval_s(u->announce) == 60);
    pkt[8] = '\xff';
    u = parse_udp_response(pkt);
    REQUIRE(u.ok());
    CHECK(announce_interval_s(u->announce) == 4 * 3600);
}

TEST_CASE("announcer: peers from a lying tracker are capped and filtered") {
    // 50,000 compact peers, a 6n+1 list, port 0 entries.
    std::string many;
    for (int i = 0; i < 50000; ++i) {
        many += std::string{char(127), char(100 + (i >> 16)), char((i >> 8) & 255), char(i & 255)};
        many += std::string{char(0), char(9)};
    }
    auto r = parse_announce_response("d5:peers" + std::to_string(many.size()) + ":" + many + "e");
    REQUIRE(r.ok());
    CHECK(r->peers.size() == 1000);
    CHECK(r->peers[0].to_string() == "127.100.0.0:9");
    r = parse_announce_response("d5:peers7:" + std::string("\x7f\x00\x00\x01\x1a\xe1\x01", 7) + "e");
    REQUIRE(!r.ok());
    CHECK(r.error().message == "compact peers length 7 is not a multiple of 6");
    std::string zero("\x7f\x00\x00\x01\x00\x00" "\x7f\x00\x00\x02\x1a\xe1", 12);
    r = parse_announce_response("d5:peers12:" + zero + "e");
    REQUIRE(r.ok());
    REQUIRE(r->peers.size() == 1);
    CHECK(r->peers[0].to_string() == "127.0.0.2:6881");
}

TEST_CASE("announcer: every move of generation() is reported through on_change") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uint64_t changes = 0;
    {
        Announcer::Hooks hooks;
        hooks.make_request = [] {
            AnnounceRequest r;
            r.port = 6881;
            r.left = 1;
            return r;
        };
        hooks.on_peers = [](const std::vector<PeerEndpoint>&) {};
        hooks.on_log = [](LogLevel, const std::string&) {};
        hooks.on_change = [&] { ++changes; };
        // A UDP tracker on a closed loopback port: refused at once.
        Announcer a(&loop, {{"udp://127.0.0.1:9/announce"}}, HttpOptions{}, std::move(hooks));
        a.start();
        CHECK(changes >= 1);
        CHECK(changes == a.generation());
        for (int i = 0; i < 200 && a.generation() < 2; ++i) uv_run(&loop, UV_RUN_NOWAIT), usleep(10'000);
        CHECK(a.generation() >= 2);  // the refusal came back
        CHECK(changes == a.generation());
        bool stopped = false;
        a.stop(100, [&] { stopped = true; });
        for (int i = 0; i < 100 && !stopped; ++i) uv_run(&loop, UV_RUN_NOWAIT), usleep(10'000);
        CHECK(changes == a.generation());
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}
