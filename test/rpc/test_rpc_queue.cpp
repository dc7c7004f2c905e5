// torrent-set's per-torrent limits and goals, queue-move-*, and the fields
// torrent-get shows for them, over a small backend that records the calls.
#include <doctest/doctest.h>
#include <uv.h>

#include <map>
#include <nlohmann/json.hpp>

#include "btl/rpc/rpc_methods.hpp"
#include "btl/rpc/torrent_set.hpp"
#include "rpc_test_rig.hpp"

using namespace btl;
using namespace btl::rpc;
using nlohmann::json;

namespace {

struct QueueBackend : testing::StubBackend {
    std::vector<TorrentStatus> ts;
    std::vector<std::pair<int, int>> moves;  // (torrent index, how)
    QueueBackend() {
        for (int i = 0; i < 3; ++i) {
            TorrentStatus t;
            t.info_hash[0] = uint8_t(i + 1);
            t.name = std::string(1, char('a' + i));
            t.state = i == 0 ? TorrentState::downloading : TorrentState::queued;
            t.queue_position = i;
            ts.push_back(t);
        }
        ts[2].progress = 1;  // a complete one waiting: seed-wait
    }
    int index(const Sha1Digest& ih) const { return ih[0] - 1; }
    const std::vector<const TorrentStatus*>& torrents() override {
        list.clear();
        for (auto& t : ts) list.push_back(&t);
        return list;
    }
    Status set_limits(const Sha1Digest& ih, const TorrentLimits& l) override {
        ts[size_t(index(ih))].limits = l;
        return Ok{};
    }
    Status queue_move(const Sha1Digest& ih, int how) override {
        moves.emplace_back(index(ih), how);
        return Ok{};
    }
};

struct Rig : testing::DispatchRig<QueueBackend> {    json get(int id) {
        json j = call(R"({"method":"torrent-get","arguments":{"ids":[)" + std::to_string(id) +
                      R"(],"fields":["status","queuePosition","isFinished","uploadLimit","uploadLimited",
                      "downloadLimit","downloadLimited","bandwidthPriority","seedRatioLimit","seedRatioMode",
                      "seedIdleLimit","seedIdleMode"]}})");
        REQUIRE(j["arguments"]["torrents"].size() == 1);
        return j["arguments"]["torrents"][0];
    }
};

}  // namespace

TEST_CASE("rpc queue: torrent-get shows queued as download-wait or seed-wait, and the queue position") {
    Rig r;
    CHECK(r.get(1)["status"] == 4);
    CHECK(r.get(2)["status"] == 3);
    CHECK(r.get(3)["status"] == 5);
    CHECK(r.get(3)["queuePosition"] == 2);
    r.b.ts[0].state = TorrentState::finished;
    CHECK(r.get(1)["status"] == 0);
    CHECK(r.get(1)["isFinished"] == true);
}

TEST_CASE("rpc queue: torrent-set applies limits and goals in Transmission's units, and torrent-get returns them") {
    Rig r;
    json j = r.call(R"({"method":"torrent-set","arguments":{"ids":[2],"uploadLimit":45,"uploadLimited":true,
        "downloadLimit":120,"downloadLimited":1,"bandwidthPriority":-1,"seedRatioLimit":2.5,"seedRatioMode":1,
        "seedIdleLimit":30,"seedIdleMode":1}})");
    CHECK(j["result"] == "success");
    const TorrentLimits& l = r.b.ts[1].limits;
    CHECK(l.up_limit == 45'000);
    CHECK(l.up_limited);
    CHECK(l.down_limit == 120'000);
    CHECK(l.down_limited);
    CHECK(l.priority == -1);
    CHECK(l.seed_ratio == 2.5);
    CHECK(l.seed_ratio_mode == 1);
    CHECK(l.seed_idle_minutes == 30);
    CHECK(l.seed_idle_mode == 1);
    json t = r.get(2);
    CHECK(t["uploadLimit"] == 45);
    CHECK(t["downloadLimit"] == 120);
    CHECK(t["downloadLimited"] == true);
    CHECK(t["bandwidthPriority"] == -1);
    CHECK(t["seedRatioLimit"] == 2.5);
    CHECK(t["seedRatioMode"] == 1);
    CHECK(t["seedIdleLimit"] == 30);
    CHECK(t["seedIdleMode"] == 1);
    // Only what is named changes.
    r.call(R"({"method":"torrent-set","arguments":{"ids":[2],"seedRatioMode":2}})");
    CHECK(r.b.ts[1].limits.seed_ratio_mode == 2);
    CHECK(r.b.ts[1].limits.seed_ratio == 2.5);
    CHECK(r.b.ts[1].limits.up_limit == 45'000);
}

TEST_CASE("rpc queue: bad values are refused with the key named, and nothing is applied") {
    Rig r;
    for (const char* bad : {R"("bandwidthPriority":2)", R"("seedRatioMode":3)", R"("uploadLimit":-1)",
                            R"("seedRatioLimit":"x")", R"("seedIdleLimit":1.5)", R"("uploadLimited":"yes")"}) {
        json j = r.call(std::string(R"({"method":"torrent-set","arguments":{"ids":[1],"downloadLimit":9,)") + bad + "}}");
        INFO(bad);
        CHECK(j["result"] != "success");
        CHECK(r.b.ts[0].limits == TorrentLimits{});
    }
    json j = r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"honorsSessionLimits":false}})");
    CHECK(j["result"].get<std::string>().find("honorsSessionLimits") != std::string::npos);
}

TEST_CASE("rpc queue: queue-move-* moves a selection so that it keeps its own order") {
    Rig r;
    CHECK(r.call(R"({"method":"queue-move-top","arguments":{"ids":[2,3]}})")["result"] == "success");
    // Top: the last first, so 2 ends above 3.
    CHECK(r.b.moves == std::vector<std::pair<int, int>>{{2, 0}, {1, 0}});
    r.b.moves.clear();
    r.call(R"({"method":"queue-move-bottom","arguments":{"ids":[3,1]}})");
    CHECK(r.b.moves == std::vector<std::pair<int, int>>{{0, 3}, {2, 3}});
    r.b.moves.clear();
    r.call(R"({"method":"queue-move-up","arguments":{"ids":[2,3]}})");
    CHECK(r.b.moves == std::vector<std::pair<int, int>>{{1, 1}, {2, 1}});
    r.b.moves.clear();
    r.call(R"({"method":"queue-move-down","arguments":{"ids":[1,2]}})");
    CHECK(r.b.moves == std::vector<std::pair<int, int>>{{1, 2}, {0, 2}});
    CHECK(queue_move_kind("queue-move-up") == 1);
    CHECK(is_limits_key("seedIdleMode"));
    CHECK_FALSE(is_limits_key("files-wanted"));
}
