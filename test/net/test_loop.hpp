#pragma once
// A private libuv loop for the network tests, run by polling until a
// condition holds (real sockets: the other side may be a thread).
#include <uv.h>

#include <chrono>
#include <functional>

namespace btl::testing {

struct Loop {
    uv_loop_t loop;
    Loop() { uv_loop_init(&loop); }
    ~Loop() {
        uv_run(&loop, UV_RUN_DEFAULT);  // let close callbacks free the handles
        uv_loop_close(&loop);
    }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    // Runs until pred() or the wall-clock limit; true if pred() held.
    bool run_until(const std::function<bool()>& pred, int limit_ms = 5000) {
        auto t0 = std::chrono::steady_clock::now();
        while (!pred()) {
            if (std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(limit_ms)) return false;
            uv_run(&loop, UV_RUN_NOWAIT);
            uv_sleep(1);
        }
        return true;
    }
};

}  // namespace btl::testing
