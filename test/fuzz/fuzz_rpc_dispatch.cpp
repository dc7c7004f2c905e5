// Transmission-RPC method dispatch: any request body goes to the Dispatcher
// over an in-memory backend holding a few torrents.
//
// Invariants: the answer comes exactly once, it is a JSON object (parsed
// back with nlohmann-json) with a string "result", and "arguments" is an
// object; a numeric tag is echoed.  Nothing throws out of handle().
#include <uv.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btl/rpc/rpc_methods.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

struct MapBackend : rpc::RpcBackend {
    std::map<Sha1Digest, TorrentStatus> ts;
    std::vector<const TorrentStatus*> list;
    int64_t up = 0, down = 0;
    MapBackend() {
        for (int i = 0; i < 3; ++i) {
            TorrentStatus t;
            t.info_hash[0] = uint8_t(i + 1);
            t.name = "t" + std::to_string(i);
            t.state = TorrentState(i);
            t.peers = i;
            t.trackers = {TrackerStatus{"http://127.0.0.1/announce", "ok"}};
            ts[t.info_hash] = t;
        }
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
        out.files = {{"f", 10, 0.5}};
        out.peer_list = {PeerStatus{"127.0.0.1:1", "x", 1, 0, 0, 0, 0.5, "D", false, "tracker"}};
        return true;
    }
    bool paused(const Sha1Digest&) const override { return false; }
    Status start(const Sha1Digest&) override { return Ok{}; }
    Status stop(const Sha1Digest&) override { return Ok{}; }
    Status verify(const Sha1Digest&) override { return Ok{}; }
    Status remove(const Sha1Digest& ih, bool) override {
        ts.erase(ih);
        return Ok{};
    }
    void add(rpc::AddRequest req, std::function<void(Result<rpc::AddResult>)> done) override {
        if (req.metainfo.empty()) return done(make_error("no metainfo"));
        rpc::AddResult r;
        r.name = req.metainfo.substr(0, 8);
        done(r);
    }
    rpc::SessionFacts facts() const override {
        rpc::SessionFacts f;
        f.download_dir = "/srv/dl";
        f.up_limit = up;
        f.down_limit = down;
        return f;
    }
    void set_rate_limits(int64_t u, int64_t d) override {
        up = u;
        down = d;
    }
    SessionStatus session_status() override { return {}; }
    Status set_limits(const Sha1Digest& ih, const TorrentLimits& l) override {
        ts[ih].limits = l;
        return Ok{};
    }
    Status queue_move(const Sha1Digest& ih, int how) override {
        ts[ih].queue_position = how;
        return Ok{};
    }
    Status change_files(const Sha1Digest& ih, const rpc::FileChange& c) override {
        for (uint32_t f : c.files)
            if (f >= 2) return make_error("no file " + std::to_string(f));
        return ts.count(ih) ? Status(Ok{}) : Status(make_error("gone"));
    }
};

}  // namespace

BTL_FUZZ_DECLARE(fuzz_rpc_dispatch) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    MapBackend backend;
    {
        rpc::DispatchOptions o;
        o.allowed_dirs = {"/srv/dl"};
        rpc::Dispatcher d(&loop, backend, o);
        std::string body(reinterpret_cast<const char*>(data), size);
        int answers = 0;
        std::string out;
        d.handle(body, [&](std::string s) {
            ++answers;
            out = std::move(s);
        });
        while (answers == 0 && uv_run(&loop, UV_RUN_ONCE)) {}
        BTL_FUZZ_CHECK(answers == 1);
        auto j = nlohmann::json::parse(out, nullptr, false);
        BTL_FUZZ_CHECK(!j.is_discarded() && j.is_object());
        BTL_FUZZ_CHECK(j.contains("result") && j["result"].is_string());
        BTL_FUZZ_CHECK(j.contains("arguments") && j["arguments"].is_object());
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_rpc_dispatch)
