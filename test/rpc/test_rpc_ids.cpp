// Transmission ids and "recently-active" from a backend's change feed: the
// dispatcher reads every torrent once, then only what the feed says changed,
// so an idle engine's view polls cost nothing per torrent.
#include <doctest/doctest.h>
#include <uv.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btl/rpc/rpc_methods.hpp"
#include "rpc_test_rig.hpp"

using namespace btl;
using namespace btl::rpc;
using nlohmann::json;

namespace {

Sha1Digest ih_of(int n) {
    Sha1Digest h{};
    h[0] = uint8_t(n);
    h[1] = uint8_t(n >> 8);
    h[19] = 0x33;
    return h;
}

// A backend with a change feed; counts the full reads.
struct FeedBackend : testing::StubBackend {
    std::map<Sha1Digest, TorrentStatus> ts;
    std::vector<TorrentChange> log;  // the feed; a cursor is an index into it
    bool feed_lost = false;
    int full_reads = 0, finds = 0;

    void put(int n) {
        TorrentStatus t;
        t.info_hash = ih_of(n);
        t.name = "t" + std::to_string(n);
        t.state = TorrentState::seeding;
        ts[t.info_hash] = t;
        log.push_back({t.info_hash, false});
    }
    void drop(int n) {
        ts.erase(ih_of(n));
        log.push_back({ih_of(n), true});
    }
    const std::vector<const TorrentStatus*>& torrents() override {
        ++full_reads;
        list.clear();
        for (auto& [h, t] : ts) list.push_back(&t);
        return list;
    }
    bool changes(uint64_t& cursor, std::vector<TorrentChange>& out) override {
        if (feed_lost) {
            feed_lost = false;
            cursor = log.size();
            return false;
        }
        out.insert(out.end(), log.begin() + std::ptrdiff_t(cursor), log.end());
        cursor = log.size();
        return true;
    }
    const TorrentStatus* find(const Sha1Digest& ih) override {
        ++finds;
        auto it = ts.find(ih);
        return it == ts.end() ? nullptr : &it->second;
    }
};

struct FeedRig : testing::DispatchRig<FeedBackend> {
    json recent() {
        return call(R"({"method":"torrent-get","arguments":{"ids":"recently-active","fields":["id","name"]}})");
    }
};

}  // namespace

TEST_CASE("ids: a change feed stamps the changed torrents and forgets the removed ones") {
    IdTable t;
    t.apply({{ih_of(1), false}, {ih_of(2), false}, {ih_of(3), false}}, 1000);
    CHECK(t.id_of(ih_of(1)) == 1);
    CHECK(t.id_of(ih_of(3)) == 3);
    CHECK(t.recent(1000).size() == 3);
    t.apply({{ih_of(1), false}}, 30'000);  // changed again: last in the window
    auto r = t.recent(62'000);             // 2 and 3 are past the minute
    REQUIRE(r.size() == 1);
    CHECK(r[0] == ih_of(1));
    t.apply({{ih_of(2), true}}, 62'000);
    CHECK(t.hash_of(2) == nullptr);
    CHECK(t.recently_removed(62'000) == std::vector<int>{2});
    t.apply({{ih_of(2), false}}, 63'000);  // back: a new id, as after a full sync
    CHECK(t.id_of(ih_of(2)) == 4);
    CHECK(t.recent(200'000).empty());
}

TEST_CASE("rpc methods: with a change feed, recently-active reads only what changed") {
    FeedRig r;
    for (int i = 1; i <= 500; ++i) r.b.put(i);
    json all = r.call(R"({"method":"torrent-get","arguments":{"fields":["id","name"]}})");
    CHECK(all["arguments"]["torrents"].size() == 500);
    int id9 = 0;
    for (const auto& t : all["arguments"]["torrents"])
        if (t["name"] == "t9") id9 = t["id"].get<int>();
    const int full = r.b.full_reads;  // the whole list was asked for: read
    // The loop's clock stands still in this test, so all 500 are still
    // within the minute (IdTable's test moves the window); what matters
    // here: the poll never reads the whole list again.
    json j = r.recent();
    CHECK(j["arguments"]["torrents"].size() == 500);  // new within the minute
    CHECK(r.b.full_reads == full);
    // One changes, one goes, one comes.
    r.b.log.push_back({ih_of(7), false});
    r.b.ts[ih_of(7)].name = "seven";
    r.b.drop(9);
    r.b.put(501);
    r.b.finds = 0;
    j = r.recent();
    CHECK(r.b.full_reads == full);
    CHECK(r.b.finds == 500);  // the window: 499 left of the first 500, and 501
    CHECK(j["arguments"]["removed"] == json::array({id9}));
    bool seven = false, fresh = false;
    for (const auto& t : j["arguments"]["torrents"]) {
        seven = seven || t["name"] == "seven";
        fresh = fresh || t["id"] == 501;
    }
    CHECK(seven);
    CHECK(fresh);
    // The feed lost track: one full read, then the feed again.
    r.b.feed_lost = true;
    r.recent();
    CHECK(r.b.full_reads > full);
    const int after = r.b.full_reads;
    r.recent();
    CHECK(r.b.full_reads == after);
}

TEST_CASE("ids: the id torrent-add hands out holds while the backend is still loading the torrent") {
    IdTable t;
    t.sync({}, 0);
    const int id = t.reserve(ih_of(5), 1000);
    t.sync({}, 2000);  // a full read before the torrent is listed
    REQUIRE(t.hash_of(id) != nullptr);
    CHECK(*t.hash_of(id) == ih_of(5));
    TorrentStatus st;
    st.info_hash = ih_of(5);
    t.sync({&st}, 3000);
    CHECK(t.id_of(ih_of(5)) == id);
    t.sync({}, 4000);  // listed once, then gone: removed as any other
    CHECK(t.hash_of(id) == nullptr);
    CHECK(t.recently_removed(4000) == std::vector<int>{id});
    // One that never shows up (it failed to load) is let go in the end.
    const int lost = t.reserve(ih_of(6), 10'000);
    t.sync({}, 10'000 + IdTable::kReservedMs - 1);
    CHECK(t.hash_of(lost) != nullptr);
    t.sync({}, 10'000 + IdTable::kReservedMs);
    CHECK(t.hash_of(lost) == nullptr);
}

namespace {

// Accepts every add but lists the torrent only when the test says so, as
// the launcher does while its watch directory loads the file.
struct LateBackend : FeedBackend {
    void add(AddRequest, std::function<void(Result<AddResult>)> done) override {
        AddResult r;
        r.info_hash = ih_of(42);
        r.name = "late";
        done(r);
    }
};

}  // namespace

TEST_CASE("rpc methods: torrent-add's id is the torrent's id once it is listed, whatever came between") {
    testing::DispatchRig<LateBackend> r;
    r.b.put(1);
    json added = r.call(R"({"method":"torrent-add","arguments":{"metainfo":"ZDQ6aW5mb2RlZQ=="}})");
    REQUIRE(added["result"] == "success");
    const int id = added["arguments"]["torrent-added"]["id"];
    // The first torrent-get reads every torrent; "late" is not among them yet.
    json j = r.call(R"({"method":"torrent-get","arguments":{"fields":["id","name"]}})");
    CHECK(j["arguments"]["torrents"].size() == 1);
    r.b.put(42);
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":[)" + std::to_string(id) + R"(],"fields":["id","hashString"]}})");
    REQUIRE(j["arguments"]["torrents"].size() == 1);
    CHECK(j["arguments"]["torrents"][0]["id"] == id);
    CHECK(j["arguments"]["torrents"][0]["hashString"] == to_hex(ih_of(42)));
}
