#include "btl/launcher/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace btl {

namespace {

int64_t mono_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The environment the hook gets: ours, with env's names replaced or added.
std::vector<std::string> build_env(const HookEnv& env) {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        std::string_view s(*e);
        bool replaced = false;
        for (const auto& [k, v] : env)
            if (s.size() > k.size() && s.substr(0, k.size()) == k && s[k.size()] == '=') replaced = true;
        if (!replaced) out.emplace_back(s);
    }
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

void keep_last_line(std::string& tail, std::string& last) {
    // Complete lines leave `tail`; the last non-empty one is kept.
    size_t nl;
    while ((nl = tail.find('\n')) != std::string::npos) {
        std::string line = tail.substr(0, nl);
        tail.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) last = line.substr(0, 512);
    }
    if (tail.size() > 4096) tail.erase(0, tail.size() - 4096);  // a line without end: keep its end
}

// Waits for the child until the deadline; kills its group past it.
void reap(pid_t pid, int64_t deadline, HookResult& r) {
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return;
        if (mono_ms() >= deadline) {
            r.timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        usleep(20'000);
    }
    if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
}

}  // namespace

HookResult run_hook(const std::string& cmd, const HookEnv& env, int64_t timeout_ms) {
    HookResult r;
    // Everything the child needs is built before fork(): after it, in a
    // threaded process, only async-signal-safe calls are allowed.
    std::vector<std::string> envs = build_env(env);
    std::vector<char*> envp;
    for (auto& s : envs) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string sh = "/bin/sh", dash_c = "-c", command = cmd;
    char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    pid_t pid = fork();
    if (pid < 0) {
        r.error = std::string("fork: ") + std::strerror(errno);
        close(err[0]);
        close(err[1]);
        return r;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(err[1], 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execve("/bin/sh", argv, envp.data());
        _exit(127);
    }
    close(err[1]);
    r.started = true;
    const int64_t deadline = mono_ms() + timeout_ms;
    std::string tail;
    char buf[4096];
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) break;
        pollfd p{err[0], POLLIN, 0};
        int n = poll(&p, 1, int(std::min<int64_t>(left, 1000)));
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        ssize_t got = read(err[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;  // every writer closed stderr
        tail.append(buf, size_t(got));
        keep_last_line(tail, r.last_stderr);
    }
    close(err[0]);
    tail += '\n';
    keep_last_line(tail, r.last_stderr);
    reap(pid, deadline, r);
    return r;
}

std::string describe_hook_result(const HookResult& r, int64_t timeout_ms) {
    std::string s;
    if (!r.started) return "could not start: " + r.error;
    if (r.timed_out) s = "timed out after " + std::to_string(timeout_ms / 1000) + " s (killed)";
    else if (r.signal) s = "killed by signal " + std::to_string(r.signal);
    else s = "exit " + std::to_string(r.exit_status);
    if (!r.last_stderr.empty()) s += "; stderr: " + r.last_stderr;
    return s;
}

HookEnv hook_env(const TorrentStatus& st, const std::string& label) {
    return {{"BTL_NAME", st.name},
            {"BTL_INFO_HASH", to_hex(st.info_hash)},
            {"BTL_SAVE_PATH", st.save_path},
            {"BTL_LABEL", label},
            {"BTL_SIZE", std::to_string(st.total_size)}};
}

HookRunner::HookRunner(uv_loop_t* loop, Log log, int64_t timeout_ms)
    : loop_(loop), log_(std::move(log)), timeout_ms_(timeout_ms) {}

void HookRunner::run(const std::string& event, const std::string& cmd, const std::string& torrent, HookEnv env) {
    if (cmd.empty()) return;
    if (queue_.size() >= kMaxPending) {
        log_(LogLevel::warning, torrent, event + " hook dropped: " + std::to_string(kMaxPending) + " hooks are waiting");
        return;
    }
    queue_.push_back(Job{event, cmd, torrent, std::move(env)});
    next();
}

void HookRunner::next() {
    if (running_ || queue_.empty()) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    running_ = true;
    auto work = [cmd = job.cmd, env = std::move(job.env), t = timeout_ms_] { return run_hook(cmd, env, t); };
    auto done = [this, event = job.event, torrent = job.torrent](Result<HookResult> r) {
        running_ = false;
        if (!r.ok()) {
            log_(LogLevel::error, torrent, event + " hook: " + r.error().message);
        } else {
            bool ok = r->started && !r->timed_out && !r->signal && r->exit_status == 0;
            log_(ok ? LogLevel::info : LogLevel::warning, torrent,
                 event + " hook: " + describe_hook_result(*r, timeout_ms_));
        }
        next();
    };
    if (Status q = queue_job(loop_, jobs_.token(), std::move(work), done); !q.ok()) done(q.error());
}

}  // namespace btl
