#include <doctest/doctest.h>
#include <uv.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btl/base/base64.hpp"
#include "btl/rpc/metrics.hpp"
#include "btl/rpc/rpc_methods.hpp"
#include "rpc_test_rig.hpp"

using namespace btl;
using namespace btl::rpc;
using nlohmann::json;

namespace {

Sha1Digest hash_n(int n) {
    Sha1Digest h{};
    h[0] = uint8_t(n);
    h[19] = 0x5a;
    return h;
}

// An engine as a map: what the dispatcher asked is recorded.
struct FakeBackend : RpcBackend {
    std::map<Sha1Digest, TorrentStatus> ts;
    std::map<Sha1Digest, bool> paused_;
    std::vector<const TorrentStatus*> list;
    std::vector<std::string> calls;
    int64_t up = 0, down = 0;
    AddRequest last_add;

    void put(int n, const std::string& name, TorrentState st) {
        TorrentStatus t;
        t.info_hash = hash_n(n);
        t.name = name;
        t.state = st;
        t.total_size = 1000;
        t.have_bytes = 250;
        t.wanted_bytes = 1000;
        t.have_wanted_bytes = 250;
        t.progress = 0.25;
        t.save_path = "/srv/dl/" + name;
        ts[t.info_hash] = t;
    }
    const std::vector<const TorrentStatus*>& torrents() override {
        list.clear();
        for (auto& [h, t] : ts) list.push_back(&t);
        return list;
    }
    bool detail(const Sha1Digest& ih, TorrentStatus& out) override {
        auto it = ts.find(ih);
        if (it == ts.end()) return false;
        out = it->second;
        out.files = {{"a.bin", 600, 0.5}, {"b.bin", 400, 0.0}};
        auto f = files.find(ih);
        if (f != files.end()) out.files = f->second;
        return true;
    }
    bool paused(const Sha1Digest& ih) const override {
        auto it = paused_.find(ih);
        return it != paused_.end() && it->second;
    }
    Status start(const Sha1Digest& ih) override {
        calls.push_back("start " + to_hex(ih));
        paused_[ih] = false;
        ts[ih].state = TorrentState::downloading;
        return Ok{};
    }
    Status stop(const Sha1Digest& ih) override {
        calls.push_back("stop " + to_hex(ih));
        paused_[ih] = true;
        ts[ih].state = TorrentState::stopped;  // as the engine shows a paused torrent
        return Ok{};
    }
    Status verify(const Sha1Digest& ih) override {
        calls.push_back("verify " + to_hex(ih));
        return Ok{};
    }
    Status remove(const Sha1Digest& ih, bool del) override {
        calls.push_back(std::string(del ? "remove+data " : "remove ") + to_hex(ih));
        ts.erase(ih);
        return Ok{};
    }
    void add(AddRequest req, std::function<void(Result<AddResult>)> done) override {
        last_add = req;
        if (req.metainfo != "d4:infod4:name1:xee") return done(make_error("not a valid .torrent"));
        AddResult r;
        r.info_hash = hash_n(99);
        r.name = "x";
        put(99, "x", TorrentState::downloading);
        done(r);
    }
    SessionFacts facts() const override {
        SessionFacts f;
        f.download_dir = "/srv/dl";
        f.peer_port = 6881;
        f.up_limit = up;
        f.down_limit = down;
        f.peer_limit_per_torrent = 60;
        f.dht = true;
        f.encryption = "required";
        f.seed_ratio = 1.5;
        f.download_queue_size = 3;
        f.queue_stalled_minutes = 30;
        f.incomplete_dir = "/srv/part";
        return f;
    }
    void set_rate_limits(int64_t u, int64_t d) override {
        up = u;
        down = d;
    }
    SessionStatus session_status() override { return SessionStatus{}; }
    // Per-file choices over two files, as the engine keeps them.
    std::map<Sha1Digest, std::vector<FileStatus>> files;
    Status change_files(const Sha1Digest& ih, const FileChange& c) override {
        auto& fs = files[ih];
        if (fs.empty()) fs = {{"a.bin", 600, 0.5}, {"b.bin", 400, 0.0}};
        for (uint32_t i : c.files)
            if (i >= fs.size()) return make_error("no file " + std::to_string(i) + " in this torrent");
        std::vector<uint32_t> idx = c.files;
        if (idx.empty()) idx = {0, 1};
        using K = FileChange::Kind;
        if (c.kind == K::sequential) {
            ts[ih].sequential = c.on;
            return Ok{};
        }
        for (uint32_t i : idx) {
            if (c.kind == K::wanted) fs[i].wanted = true;
            if (c.kind == K::unwanted) fs[i].wanted = false;
            if (c.kind == K::priority) fs[i].priority = int(c.priority);
        }
        return Ok{};
    }
};

// Two torrents, alpha downloading and beta seeding; /srv/dl is allowed.
struct Rig : testing::DispatchRig<FakeBackend> {
    Rig() : DispatchRig(options()) {
        b.put(1, "alpha", TorrentState::downloading);
        b.put(2, "beta", TorrentState::seeding);
    }
    static DispatchOptions options() {
        DispatchOptions o;
        o.allowed_dirs = {"/srv/dl"};
        o.session_id = "SID";
        return o;
    }
};

}  // namespace

TEST_CASE("rpc methods: torrent-get answers the fields asked, with Transmission's meanings, and echoes the tag") {
    Rig r;
    json j = r.call(R"({"method":"torrent-get","tag":7,"arguments":{"fields":["id","name","status","percentDone","eta","hashString","nonsense"]}})");
    CHECK(j["result"] == "success");
    CHECK(j["tag"] == 7);
    auto& ts = j["arguments"]["torrents"];
    REQUIRE(ts.size() == 2);
    CHECK(ts[0]["id"] == 1);
    CHECK(ts[0]["name"] == "alpha");
    CHECK(ts[0]["status"] == 4);  // downloading
    CHECK(ts[0]["percentDone"] == 0.25);
    CHECK(ts[0]["eta"] == -2);    // downloading at no known rate
    CHECK(ts[0]["hashString"] == to_hex(hash_n(1)));
    CHECK_FALSE(ts[0].contains("nonsense"));
    CHECK(ts[1]["status"] == 6);  // seeding
    CHECK(ts[1]["eta"] == -1);
}

TEST_CASE("rpc methods: ids select by number or hash; the table format has a header row") {
    Rig r;
    json j = r.call(R"({"method":"torrent-get","arguments":{"ids":[2],"fields":["name"]}})");
    REQUIRE(j["arguments"]["torrents"].size() == 1);
    CHECK(j["arguments"]["torrents"][0]["name"] == "beta");
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":")" + to_hex(hash_n(1)) + R"(","fields":["name"]}})");
    CHECK(j["arguments"]["torrents"][0]["name"] == "alpha");
    j = r.call(R"({"method":"torrent-get","arguments":{"format":"table","fields":["id","name"]}})");
    CHECK(j["arguments"]["torrents"][0] == json::array({"id", "name"}));
    CHECK(j["arguments"]["torrents"][2] == json::array({2, "beta"}));
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":["zz"],"fields":["name"]}})");
    CHECK(j["result"] != "success");
}

TEST_CASE("rpc methods: recently-active lists changed torrents and the ids removed") {
    Rig r;
    r.call(R"({"method":"torrent-get","arguments":{"fields":["id"]}})");
    json j = r.call(R"({"method":"torrent-get","arguments":{"ids":"recently-active","fields":["id"]}})");
    CHECK(j["arguments"]["torrents"].size() == 2);  // new within the minute
    r.b.ts.erase(hash_n(1));
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":"recently-active","fields":["id"]}})");
    CHECK(j["arguments"]["removed"] == json::array({1}));
}

TEST_CASE("rpc methods: start, stop, verify and remove reach the backend by id") {
    Rig r;
    r.call(R"({"method":"torrent-get","arguments":{"fields":["id"]}})");
    CHECK(r.call(R"({"method":"torrent-stop","arguments":{"ids":[1]}})")["result"] == "success");
    CHECK(r.b.paused(hash_n(1)));
    json j = r.call(R"({"method":"torrent-get","arguments":{"ids":[1],"fields":["status"]}})");
    CHECK(j["arguments"]["torrents"][0]["status"] == 0);
    r.call(R"({"method":"torrent-start","arguments":{"ids":[1]}})");
    r.call(R"({"method":"torrent-verify","arguments":{"ids":[2]}})");
    r.call(R"({"method":"torrent-remove","arguments":{"ids":[2],"delete-local-data":true}})");
    CHECK(r.b.calls == std::vector<std::string>{"stop " + to_hex(hash_n(1)), "start " + to_hex(hash_n(1)),
                                                "verify " + to_hex(hash_n(2)), "remove+data " + to_hex(hash_n(2))});
}

TEST_CASE("rpc methods: torrent-add decodes metainfo, refuses a download-dir outside the save directory") {
    Rig r;
    std::string meta = base64_encode("d4:infod4:name1:xee");
    json j = r.call(R"({"method":"torrent-add","arguments":{"metainfo":")" + meta + R"(","paused":true}})");
    CHECK(j["result"] == "success");
    CHECK(j["arguments"]["torrent-added"]["name"] == "x");
    CHECK(j["arguments"]["torrent-added"]["hashString"] == to_hex(hash_n(99)));
    CHECK(r.b.last_add.paused);
    j = r.call(R"({"method":"torrent-add","arguments":{"metainfo":")" + meta + R"(","download-dir":"/srv/dl/../etc"}})");
    CHECK(j["result"].get<std::string>().find("outside") != std::string::npos);
    j = r.call(R"({"method":"torrent-add","arguments":{"metainfo":")" + meta + R"(","download-dir":"/srv/dl/sub"}})");
    CHECK(j["result"] == "success");
    CHECK(r.b.last_add.download_dir == "/srv/dl/sub");
    j = r.call(R"({"method":"torrent-add","arguments":{"metainfo":"!!"}})");
    CHECK(j["result"] == "torrent-add: metainfo is not valid base64");
    j = r.call(R"({"method":"torrent-add","arguments":{"filename":"relative.torrent"}})");
    CHECK(j["result"] != "success");
}

TEST_CASE("rpc methods: session-set limits in kB/s with switches; session-get reports them") {
    Rig r;
    CHECK(r.call(R"({"method":"session-set","arguments":{"speed-limit-down":300,"speed-limit-down-enabled":true}})")["result"] ==
          "success");
    CHECK(r.b.down == 300'000);
    CHECK(r.b.up == 0);
    json j = r.call(R"({"method":"session-get"})");
    CHECK(j["arguments"]["speed-limit-down"] == 300);
    CHECK(j["arguments"]["speed-limit-down-enabled"] == true);
    CHECK(j["arguments"]["speed-limit-up-enabled"] == false);
    CHECK(j["arguments"]["rpc-version"].get<int>() >= 15);
    CHECK(j["arguments"]["download-dir"] == "/srv/dl");
    r.call(R"({"method":"session-set","arguments":{"speed-limit-down-enabled":false}})");
    CHECK(r.b.down == 0);
    j = r.call(R"({"method":"session-get","arguments":{"fields":["version"]}})");
    CHECK(j["arguments"].size() == 1);
}

TEST_CASE("rpc methods: session-get reports the engine's settings as they are, not fixed values") {
    Rig r;
    json a = r.call(R"({"method":"session-get"})")["arguments"];
    CHECK(a["dht-enabled"] == true);
    CHECK(a["pex-enabled"] == false);
    CHECK(a["encryption"] == "required");
    CHECK(a["seedRatioLimited"] == true);
    CHECK(a["seedRatioLimit"].get<double>() == doctest::Approx(1.5));
    CHECK(a["idle-seeding-limit-enabled"] == false);
    CHECK(a["download-queue-enabled"] == true);
    CHECK(a["download-queue-size"] == 3);
    CHECK(a["seed-queue-enabled"] == false);
    CHECK(a["queue-stalled-minutes"] == 30);
    CHECK(a["incomplete-dir-enabled"] == true);
    CHECK(a["incomplete-dir"] == "/srv/part");
    // Read only over RPC: changing one is refused by name, not ignored.
    json j = r.call(R"({"method":"session-set","arguments":{"seedRatioLimit":3}})");
    CHECK(j["result"].get<std::string>().find("seedRatioLimit") != std::string::npos);
}

TEST_CASE("rpc methods: torrent-set files-wanted/unwanted, priorities and sequentialDownload") {
    Rig r;
    json j = r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"files-unwanted":[1],"priority-high":[0]}})");
    CHECK(j["result"] == "success");
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":[1],"fields":["fileStats","wanted","priorities","files"]}})");
    REQUIRE(j["result"] == "success");
    const json& t = j["arguments"]["torrents"][0];
    CHECK(t["fileStats"][0]["wanted"] == true);
    CHECK(t["fileStats"][0]["priority"] == 1);
    CHECK(t["fileStats"][1]["wanted"] == false);
    CHECK(t["fileStats"][1]["priority"] == 0);
    CHECK(t["fileStats"][0]["bytesCompleted"] == 300);
    CHECK(t["wanted"] == json::parse("[1,0]"));
    CHECK(t["priorities"] == json::parse("[1,0]"));
    CHECK(t["files"][1]["name"] == "b.bin");
    // An empty list means every file (Transmission's rule).
    CHECK(r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"priority-low":[]}})")["result"] == "success");
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":[1],"fields":["priorities"]}})");
    CHECK(j["arguments"]["torrents"][0]["priorities"] == json::parse("[-1,-1]"));
    // A file past the end: an error naming it.
    j = r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"files-wanted":[7]}})");
    CHECK(j["result"].get<std::string>().find("no file 7") != std::string::npos);
    // A bad value or an unknown key beside a good one changes nothing.
    j = r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"files-wanted":[1],"priority-high":"x"}})");
    CHECK(j["result"].get<std::string>().find("priority-high") != std::string::npos);
    j = r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"files-wanted":[1],"trackerReplace":[]}})");
    CHECK(j["result"].get<std::string>().find("trackerReplace") != std::string::npos);
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":[1],"fields":["wanted"]}})");
    CHECK(j["arguments"]["torrents"][0]["wanted"] == json::parse("[1,0]"));
    CHECK(r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"files-wanted":[-1]}})")["result"] != "success");
    // Sequential download.
    CHECK(r.call(R"({"method":"torrent-set","arguments":{"ids":[2],"sequentialDownload":true}})")["result"] == "success");
    j = r.call(R"({"method":"torrent-get","arguments":{"ids":[1,2],"fields":["id","sequentialDownload"]}})");
    CHECK(j["arguments"]["torrents"][0]["sequentialDownload"] == false);
    CHECK(j["arguments"]["torrents"][1]["sequentialDownload"] == true);
    CHECK(r.call(R"({"method":"torrent-set","arguments":{"ids":[2],"sequentialDownload":"yes"}})")["result"] != "success");
}

TEST_CASE("rpc methods: what the engine cannot do is an error naming it, never a silent success") {
    Rig r;
    json j = r.call(R"({"method":"torrent-set","arguments":{"ids":[1],"downloadLimit":5}})");
    CHECK(j["result"].get<std::string>().find("downloadLimit") != std::string::npos);
    CHECK(r.call(R"({"method":"port-test"})")["result"] != "success");
    CHECK(r.call(R"({"method":"no-such"})")["result"] == "method name not recognized");
    CHECK(r.call(R"({"method":"session-set","arguments":{"dht-enabled":true}})")["result"] != "success");
    CHECK(r.call(R"({"method":"torrent-get","arguments":{"fields":"id"}})")["result"] == "success");
    CHECK(r.call(R"({"method":"session-set","arguments":{"speed-limit-down":"x"}})")["result"] != "success");
}

TEST_CASE("rpc methods: bad JSON, deep nesting and wrong shapes get one clear result") {
    Rig r;
    CHECK(r.call("{")["result"] == "request is not a JSON object");
    CHECK(r.call("[1]")["result"] == "request is not a JSON object");
    CHECK(r.call(std::string(100000, '['))["result"] == "request nests deeper than 32 levels");
    CHECK(r.call(R"({"arguments":{}})")["result"] == "no method name");
    CHECK(json_depth_ok(R"({"a":"[[[[[[[["})", 2));
}

TEST_CASE("rpc methods: free-space answers from the file system on the pool") {
    Rig r;
    json j = r.call(R"({"method":"free-space","arguments":{"path":"/"}})");
    CHECK(j["result"] == "success");
    CHECK(j["arguments"]["size-bytes"].get<int64_t>() > 0);
    CHECK(j["arguments"]["total_size"].get<int64_t>() >= j["arguments"]["size-bytes"].get<int64_t>());
    CHECK(r.call(R"({"method":"free-space","arguments":{"path":"/no/such/dir"}})")["result"] != "success");
}

TEST_CASE("metrics: session series, states, bounded per-torrent series with escaped labels") {
    TorrentStatus a, b;
    a.info_hash = hash_n(1);
    a.name = "quote\" back\\ nl\n";
    a.state = TorrentState::downloading;
    a.down_rate = 100;
    b.info_hash = hash_n(2);
    b.name = "b";
    b.state = TorrentState::seeding;
    MetricsInput in;
    in.torrents = {&a, &b};
    in.paused = {false, true};
    in.max_torrents = 1;
    in.disk_path = "/srv";
    in.disk_free = 5;
    in.disk_total = 10;
    std::string t = prometheus_text(in);
    CHECK(t.find("btl_torrents{state=\"downloading\"} 1\n") != std::string::npos);
    CHECK(t.find("btl_torrents{state=\"paused\"} 1\n") != std::string::npos);
    CHECK(t.find("btl_disk_free_bytes{path=\"/srv\"} 5\n") != std::string::npos);
    CHECK(t.find("btl_torrent_series_omitted 1\n") != std::string::npos);
    CHECK(t.find("name=\"quote\\\" back\\\\ nl\\n\"") != std::string::npos);
    CHECK(t.find("info_hash=\"" + to_hex(hash_n(2))) == std::string::npos);  // beyond the bound
    CHECK(t.find("btl_loop_handles") == std::string::npos);  // not known: not shown
    in.loop_handles = 42;
    in.loop_timers = 7;
    t = prometheus_text(in);
    CHECK(t.find("# TYPE btl_loop_handles gauge\nbtl_loop_handles 42\n") != std::string::npos);
    CHECK(t.find("# TYPE btl_loop_timers gauge\nbtl_loop_timers 7\n") != std::string::npos);
}
