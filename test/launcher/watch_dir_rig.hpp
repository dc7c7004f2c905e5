#pragma once
// Shared by the WatchDir tests: a handler that records what it is told,
// files dated a minute back (already quiet), and the loop polled until a
// condition holds (the pool's jobs run on other threads).
#include <utime.h>

#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "btl/launcher/watch_dir.hpp"

namespace btl::testing {

struct WatchRecorder : WatchDir::Handler {
    std::map<std::string, int> ready;
    std::map<std::string, FileStamp> stamps;
    std::vector<std::string> removed;
    std::vector<std::string> errors;
    void on_file_ready(const std::string& name, const std::string&, FileStamp st) override {
        ++ready[name];
        stamps[name] = st;
    }
    void on_file_removed(const std::string& name) override { removed.push_back(name); }
    void on_watch_error(const std::string& m) override { errors.push_back(m); }
};

// Dates a file or directory a minute back.
inline void set_old(const std::string& path) {
    struct utimbuf t {};
    t.actime = t.modtime = ::time(nullptr) - 60;
    ::utime(path.c_str(), &t);
}

template <class F>
bool poll_until(uv_loop_t* loop, F done, int max_ms = 20000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
    while (!done() && std::chrono::steady_clock::now() < end) {
        uv_run(loop, UV_RUN_NOWAIT);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
}

}  // namespace btl::testing
