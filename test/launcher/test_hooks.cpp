#include <doctest/doctest.h>
#include <uv.h>

#include <chrono>

#include "btl/launcher/hooks.hpp"

using namespace btl;

TEST_CASE("hooks: the command sees the BTL_* environment; exit status and the last stderr line come back") {
    TorrentStatus st;
    st.name = "a b'c";
    st.info_hash[0] = 0xab;
    st.save_path = "/srv/dl/a b";
    st.total_size = 12345;
    HookEnv env = hook_env(st, "movies");
    auto r = run_hook(
        R"(test "$BTL_NAME" = "a b'c" && test "$BTL_SAVE_PATH" = "/srv/dl/a b" && test "$BTL_SIZE" = 12345 &&)"
        R"( test "$BTL_LABEL" = movies && test ${#BTL_INFO_HASH} = 40 && echo one >&2 && echo "two $BTL_SIZE" >&2;)"
        " exit 3",
        env, 10'000);
    CHECK(r.started);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_status == 3);
    CHECK(r.last_stderr == "two 12345");
    CHECK(describe_hook_result(r, 10'000) == "exit 3; stderr: two 12345");
}

TEST_CASE("hooks: a command past its timeout is killed with its children") {
    auto t0 = std::chrono::steady_clock::now();
    // The child holds stderr open: the wait must not depend on EOF.
    auto r = run_hook("sleep 30 & sleep 30", {}, 300);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.timed_out);
    CHECK(ms < 5000);
    CHECK(describe_hook_result(r, 300).find("timed out after 0 s (killed)") == 0);
}

TEST_CASE("hooks: HookRunner runs hooks one at a time on the pool and logs each outcome") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::vector<std::string> lines;
    {
        HookRunner runner(&loop, [&](LogLevel, const std::string& t, const std::string& m) { lines.push_back(t + ": " + m); },
                          10'000);
        runner.run("on_added", "true", "x", {});
        runner.run("on_complete", "echo oops >&2; exit 1", "y", {});
        runner.run("on_removed", "", "z", {});  // no command: nothing runs
        CHECK(runner.pending() == 2);
        uv_run(&loop, UV_RUN_DEFAULT);
        CHECK(runner.pending() == 0);
    }
    uv_loop_close(&loop);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "x: on_added hook: exit 0");
    CHECK(lines[1] == "y: on_complete hook: exit 1; stderr: oops");
}
