#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <unistd.h>

#include "btl/base/format.hpp"
#include "btl/engine/status_json.hpp"

using namespace btl;

TEST_CASE("format: sizes, rates, eta") {
    CHECK(format_size(17) == "17 B");
    CHECK(format_size(1536) == "1.50 KiB");
    CHECK(format_size(int64_t(312) << 10) == "312 KiB");
    CHECK(format_size(int64_t(3) << 30) == "3.00 GiB");
    CHECK(format_rate(999) == "999 B/s");
    CHECK(format_rate(12.34e6) == "12.3 MB/s");
    CHECK(format_eta(-1) == "-");
    CHECK(format_eta(65) == "1:05");
    CHECK(format_eta(3723) == "1:02:03");
}

TEST_CASE("format: json escaping and the status document") {
    CHECK(json_escape("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
    TorrentStatus t;
    t.name = "x\"y";
    t.state = TorrentState::seeding;
    t.progress = 1;
    t.uploaded = 42;
    SessionStatus s;
    s.torrents = 1;
    std::string j = status_json({t}, s);
    CHECK(j.find("\"name\":\"x\\\"y\"") != std::string::npos);
    CHECK(j.find("\"state\":\"seeding\"") != std::string::npos);
    CHECK(j.find("\"uploaded\":42") != std::string::npos);
    CHECK(j.find("\"totals\":{\"torrents\":1") != std::string::npos);
    CHECK(j.find("\"trackers\":[]") != std::string::npos);
}

TEST_CASE("format: each tracker's status in the status document") {
    TorrentStatus t;
    TrackerStatus liar;
    liar.url = "http://127.0.0.1:1/announce";
    liar.status = "error: tracker said: \"no\"";
    liar.fails = 2;
    liar.next_announce_s = 30;
    liar.next_announce_at = 1795000030;
    TrackerStatus ok;
    ok.url = "udp://127.0.0.1:2";
    ok.status = "ok";
    ok.seeds = 1;
    ok.leechers = 0;
    ok.interval_s = 60;
    ok.next_announce_s = 59;
    ok.next_announce_at = 1795000059;
    t.trackers = {liar, ok};
    std::string j = status_json({t}, SessionStatus{});
    CHECK(j.find("\"trackers\":[{\"url\":\"http://127.0.0.1:1/announce\",\"status\":\"error: tracker said: \\\"no\\\"\","
                 "\"seeds\":-1,\"leechers\":-1,\"fails\":2,\"interval\":-1,\"next_announce_at\":1795000030},"
                 "{\"url\":\"udp://127.0.0.1:2\",\"status\":\"ok\",\"seeds\":1,\"leechers\":0,\"fails\":0,"
                 "\"interval\":60,\"next_announce_at\":1795000059}]}") != std::string::npos);
}

