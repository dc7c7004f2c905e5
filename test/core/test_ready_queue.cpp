#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "btl/core/ready_queue.hpp"

using namespace btl;

namespace {
FileStamp stamp(int64_t size, int64_t mtime) { return FileStamp{size, mtime}; }
}  // namespace

TEST_CASE("a file is not ready before its quiet interval has passed") {
    ReadyQueue q(1000);
    q.observe("a.torrent", stamp(100, 1), 0);
    CHECK(q.due(999).empty());
    CHECK(q.next_deadline() == 1000);
    CHECK_FALSE(q.confirm("a.torrent", stamp(100, 1), 500));
}

TEST_CASE("an unchanged file is delivered once after the quiet interval") {
    ReadyQueue q(1000);
    q.observe("a.torrent", stamp(100, 1), 0);
    REQUIRE(q.due(1000) == std::vector<std::string>{"a.torrent"});
    CHECK(q.confirm("a.torrent", stamp(100, 1), 1000));
    CHECK(q.delivered("a.torrent"));
    CHECK(q.due(5000).empty());
    CHECK_FALSE(q.confirm("a.torrent", stamp(100, 1), 6000));
    CHECK(q.next_deadline() == -1);
}

TEST_CASE("a file still growing restarts the quiet interval at every change") {
    ReadyQueue q(1000);
    for (int i = 0; i < 10; ++i) q.observe("slow.torrent", stamp(100 * (i + 1), i), i * 300);
    // Last change at 2700: nothing due before 3700.
    CHECK(q.due(3699).empty());
    CHECK(q.due(3700).size() == 1);
}

TEST_CASE("a change seen by the confirming stat is not delivered and restarts the interval") {
    ReadyQueue q(1000);
    q.observe("a.torrent", stamp(100, 1), 0);
    REQUIRE(q.due(1000).size() == 1);
    CHECK_FALSE(q.confirm("a.torrent", stamp(200, 2), 1000));
    CHECK(q.due(1999).empty());
    CHECK(q.confirm("a.torrent", stamp(200, 2), 2000));
}

TEST_CASE("a delivered file is delivered again only when it changes") {
    ReadyQueue q(1000);
    q.observe("a.torrent", stamp(100, 1), 0);
    CHECK(q.confirm("a.torrent", stamp(100, 1), 1000));
    q.observe("a.torrent", stamp(100, 1), 30000);  // a rescan sees the same file
    CHECK(q.due(90000).empty());
    q.observe("a.torrent", stamp(100, 2), 90000);   // rewritten (same size, new mtime)
    CHECK(q.due(90999).empty());
    CHECK(q.confirm("a.torrent", stamp(100, 2), 91000));
}

TEST_CASE("forget reports whether the file had been delivered") {
    ReadyQueue q(1000);
    q.observe("pending.torrent", stamp(1, 1), 0);
    q.observe("done.torrent", stamp(1, 1), 0);
    CHECK(q.confirm("done.torrent", stamp(1, 1), 1000));
    CHECK_FALSE(q.forget("pending.torrent"));
    CHECK(q.forget("done.torrent"));
    CHECK_FALSE(q.forget("never.torrent"));
    CHECK_FALSE(q.known("done.torrent"));
}

TEST_CASE("files become due independently, earliest deadline first") {
    ReadyQueue q(1000);
    q.observe("b.torrent", stamp(1, 1), 500);
    q.observe("a.torrent", stamp(1, 1), 200);
    CHECK(q.next_deadline() == 1200);
    CHECK(q.due(1200) == std::vector<std::string>{"a.torrent"});
    CHECK(q.due(1500).size() == 2);
}

TEST_CASE("the name filter takes .torrent files and ignores dotfiles and temporaries") {
    CHECK(wanted_watch_name("ubuntu.iso.torrent"));
    CHECK(wanted_watch_name("日本語.torrent"));
    CHECK_FALSE(wanted_watch_name(".hidden.torrent"));
    CHECK_FALSE(wanted_watch_name(".torrent"));
    CHECK_FALSE(wanted_watch_name("a.torrent.tmp"));
    CHECK_FALSE(wanted_watch_name("a.torrent.part"));
    CHECK_FALSE(wanted_watch_name("a.torrent~"));
    CHECK_FALSE(wanted_watch_name("notes.txt"));
    CHECK_FALSE(wanted_watch_name(""));
}

TEST_CASE("a file whose mtime is already older than the quiet interval is due at once, still confirmed") {
    ReadyQueue q(1000);
    q.observe("old.torrent", stamp(100, 1), 5000, 3'600'000);
    q.observe("young.torrent", stamp(100, 2), 5000, 400);
    CHECK(q.due(5000) == std::vector<std::string>{"old.torrent"});
    CHECK(q.next_deadline() == 5000);
    // The confirming look must still see the same stamp.
    CHECK_FALSE(q.confirm("old.torrent", stamp(120, 3), 5010));
    CHECK(q.due(5500).empty());
    CHECK(q.due(6010) == std::vector<std::string>{"old.torrent", "young.torrent"});
    // young: 400 ms unchanged already, so due 600 ms after it was seen.
    ReadyQueue r(1000);
    r.observe("young.torrent", stamp(100, 2), 5000, 400);
    CHECK(r.due(5599).empty());
    CHECK(r.due(5600) == std::vector<std::string>{"young.torrent"});
    CHECK(r.confirm("young.torrent", stamp(100, 2), 5600));
}

TEST_CASE("due and next_deadline stay exact through any mix of observe, confirm and forget") {
    // A reference model scanned in full on every question, against the
    // queue's deadline index, over random operations on a few names.
    struct Ref {
        FileStamp seen, delivered;
        int64_t since = 0;
    };
    std::map<std::string, Ref> ref;
    ReadyQueue q(1000);
    uint64_t x = 88172645463325252ull;
    auto rnd = [&](uint64_t n) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return x % n;
    };
    int64_t now = 0;
    for (int step = 0; step < 20000; ++step) {
        now += int64_t(rnd(300));
        std::string name = "t" + std::to_string(rnd(40)) + ".torrent";
        FileStamp st{int64_t(rnd(3)), int64_t(rnd(2))};
        switch (rnd(4)) {
            case 0:
            case 1: {
                int64_t age = int64_t(rnd(2000));
                q.observe(name, st, now, age);
                auto [it, fresh] = ref.try_emplace(name);
                if (fresh || !(it->second.seen == st)) {
                    it->second.seen = st;
                    it->second.since = now - std::min<int64_t>(age, 1000);
                }
                break;
            }
            case 2: {
                auto it = ref.find(name);
                bool want = it != ref.end() && it->second.seen == st && now - it->second.since >= 1000 &&
                            !(it->second.delivered == st);
                CHECK(q.confirm(name, st, now) == want);
                if (want) it->second.delivered = st;
                if (it == ref.end()) ref[name] = Ref{st, FileStamp{}, now};
                else if (!(it->second.seen == st)) it->second.seen = st, it->second.since = now;
                break;
            }
            case 3: {
                auto it = ref.find(name);
                bool was = it != ref.end() && it->second.delivered.size >= 0;
                CHECK(q.forget(name) == was);
                if (it != ref.end()) ref.erase(it);
                break;
            }
        }
        std::vector<std::string> due;
        int64_t deadline = -1;
        for (const auto& [n, r] : ref) {
            if (r.seen == r.delivered) continue;
            if (now - r.since >= 1000) due.push_back(n);
            if (deadline < 0 || r.since + 1000 < deadline) deadline = r.since + 1000;
        }
        REQUIRE(q.due(now) == due);
        REQUIRE(q.next_deadline() == deadline);
    }
}
