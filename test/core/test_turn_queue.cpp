#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "btl/core/turn_queue.hpp"

using namespace btl;

TEST_CASE("at most `limit` turns run per key; the rest wait in request order") {
    TurnQueue q(2);
    std::vector<uint64_t> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(q.request("http://t:1"));
    auto g = q.grant();
    CHECK(g == std::vector<uint64_t>{ids[0], ids[1]});
    CHECK(q.running("http://t:1") == 2);
    CHECK(q.waiting() == 3);
    CHECK(q.grant().empty());  // nothing freed
    q.release(ids[1]);
    CHECK(q.grant() == std::vector<uint64_t>{ids[2]});
    q.release(ids[0]);
    q.release(ids[0]);  // twice: ignored
    CHECK(q.grant() == std::vector<uint64_t>{ids[3]});
    CHECK(q.running("http://t:1") == 2);
}

TEST_CASE("a turn released while still waiting is never granted") {
    TurnQueue q(1);
    uint64_t a = q.request("k"), b = q.request("k"), c = q.request("k");
    CHECK(q.grant() == std::vector<uint64_t>{a});
    q.release(b);
    CHECK(q.waiting() == 1);
    q.release(a);
    CHECK(q.grant() == std::vector<uint64_t>{c});
    q.release(c);
    CHECK(q.running("k") == 0);
    CHECK(q.waiting() == 0);
}

TEST_CASE("keys do not wait for each other") {
    TurnQueue q(1);
    uint64_t a1 = q.request("http://a:80"), a2 = q.request("http://a:80");
    uint64_t b1 = q.request("udp://b:6969");
    auto g = q.grant();
    CHECK(g == std::vector<uint64_t>{a1, b1});
    q.release(b1);
    CHECK(q.grant().empty());  // a is still at its limit
    q.release(a1);
    CHECK(q.grant() == std::vector<uint64_t>{a2});
}

TEST_CASE("10,000 requests against one key never exceed the limit and all get a turn") {
    TurnQueue q(16);
    std::set<uint64_t> waiting, running;
    for (int i = 0; i < 10000; ++i) waiting.insert(q.request("http://127.0.0.1:6969"));
    size_t granted = 0;
    uint64_t last = 0;
    while (!waiting.empty() || !running.empty()) {
        for (uint64_t id : q.grant()) {
            REQUIRE(waiting.erase(id) == 1);
            CHECK(id > last);  // first come, first served
            last = id;
            running.insert(id);
            ++granted;
        }
        REQUIRE(running.size() <= 16);
        REQUIRE(q.running("http://127.0.0.1:6969") == running.size());
        // Finish the oldest half of what runs.
        for (size_t n = (running.size() + 1) / 2; n > 0; --n) {
            q.release(*running.begin());
            running.erase(running.begin());
        }
    }
    CHECK(granted == 10000);
    CHECK(q.waiting() == 0);
}

TEST_CASE("the tracker key is scheme, host and port") {
    CHECK(tracker_key("http://127.0.0.1:6969/announce?x=1") == "http://127.0.0.1:6969");
    CHECK(tracker_key("udp://tracker.example:1337") == "udp://tracker.example:1337");
    CHECK(tracker_key("http://t.example/a/announce") == "http://t.example");
    CHECK(tracker_key("http://t.example?passkey=1") == "http://t.example");
}
