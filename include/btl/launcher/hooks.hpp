// Hooks: --on_added, --on_complete, --on_removed.  A hook is a shell
// command run as `/bin/sh -c CMD` with the torrent in its environment
// (BTL_NAME, BTL_INFO_HASH, BTL_SAVE_PATH, BTL_LABEL, BTL_SIZE, beside the
// program's own environment), stdin and stdout on /dev/null, in a process
// group of its own.
//
// run_hook() blocks (it waits for the command): call it on the thread pool
// only.  HookRunner does: it runs one hook at a time on the pool, so hooks
// never hold more than one pool thread (the disk's threads stay free) and
// never block the loop; the others wait in a bounded list (kMaxPending;
// more are dropped with a warning).  A hook still running after its
// timeout (kDefaultTimeoutMs, 5 minutes) is killed with SIGKILL, its whole
// process group with it.  Each run is logged: the exit status (or the
// signal, or the timeout) and the last line the command wrote to stderr.
#pragma once
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/engine/engine_types.hpp"

namespace btl {

struct HookResult {
    bool started = false;     // false: fork/exec failed (error says why)
    bool timed_out = false;
    int exit_status = -1;     // when it exited
    int signal = 0;           // when a signal ended it
    std::string last_stderr;  // the last non-empty line, at most 512 bytes
    std::string error;
};

using HookEnv = std::vector<std::pair<std::string, std::string>>;

// Blocking: runs `cmd` through /bin/sh -c with env added to the environment.
HookResult run_hook(const std::string& cmd, const HookEnv& env, int64_t timeout_ms);
// "exit 0", "exit 3", "killed by signal 9", "timed out after 300 s (killed)", plus
// "; stderr: LINE" when it wrote one.
std::string describe_hook_result(const HookResult& r, int64_t timeout_ms);
// BTL_NAME, BTL_INFO_HASH, BTL_SAVE_PATH, BTL_LABEL, BTL_SIZE of a torrent.
HookEnv hook_env(const TorrentStatus& st, const std::string& label);

class HookRunner {
public:
    static constexpr int64_t kDefaultTimeoutMs = 300'000;
    static constexpr size_t kMaxPending = 1000;
    // `log` gets one line per run: (torrent name, level, message).
    using Log = std::function<void(LogLevel, const std::string& torrent, const std::string& message)>;
    HookRunner(uv_loop_t* loop, Log log, int64_t timeout_ms = kDefaultTimeoutMs);
    // `event` names the hook in the log ("on_complete").
    void run(const std::string& event, const std::string& cmd, const std::string& torrent, HookEnv env);
    size_t pending() const { return queue_.size() + (running_ ? 1 : 0); }

private:
    struct Job {
        std::string event, cmd, torrent;
        HookEnv env;
    };
    void next();
    uv_loop_t* loop_;
    Log log_;
    int64_t timeout_ms_;
    std::deque<Job> queue_;
    bool running_ = false;
    JobOwner jobs_;
};

}  // namespace btl
