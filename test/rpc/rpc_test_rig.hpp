#pragma once
// Shared by the dispatcher's unit tests: a backend with no torrents that
// accepts every command and refuses adds (a test overrides what it checks),
// and a Dispatcher on a private loop that answers a request body as JSON.
#include <doctest/doctest.h>
#include <uv.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btl/rpc/rpc_methods.hpp"

namespace btl::rpc::testing {

struct StubBackend : RpcBackend {
    std::vector<const TorrentStatus*> list;
    const std::vector<const TorrentStatus*>& torrents() override { return list; }
    bool detail(const Sha1Digest&, TorrentStatus&) override { return false; }
    bool paused(const Sha1Digest&) const override { return false; }
    Status start(const Sha1Digest&) override { return Ok{}; }
    Status stop(const Sha1Digest&) override { return Ok{}; }
    Status verify(const Sha1Digest&) override { return Ok{}; }
    Status remove(const Sha1Digest&, bool) override { return Ok{}; }
    void add(AddRequest, std::function<void(Result<AddResult>)> done) override { done(make_error("no")); }
    SessionFacts facts() const override { return {}; }
    void set_rate_limits(int64_t, int64_t) override {}
    SessionStatus session_status() override { return {}; }
    Status change_files(const Sha1Digest&, const FileChange&) override { return Ok{}; }
};

template <class Backend>
struct DispatchRig {
    uv_loop_t loop{};
    Backend b;
    std::unique_ptr<Dispatcher> d;
    explicit DispatchRig(DispatchOptions o = {}) {
        uv_loop_init(&loop);
        d = std::make_unique<Dispatcher>(&loop, b, std::move(o));
    }
    ~DispatchRig() {
        d.reset();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    DispatchRig(const DispatchRig&) = delete;
    DispatchRig& operator=(const DispatchRig&) = delete;
    // The answer to one request; the loop runs until it comes.
    nlohmann::json call(const std::string& body) {
        std::string out;
        bool got = false;
        d->handle(body, [&](std::string s) {
            out = std::move(s);
            got = true;
        });
        while (!got && uv_run(&loop, UV_RUN_ONCE)) {}
        REQUIRE(got);
        nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return j;
    }
};

}  // namespace btl::rpc::testing
