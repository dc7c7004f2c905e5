#pragma once
// Shared by the launcher tests that run a real Session on a private loop:
// a one-piece single-file .torrent for some content, a file written whole,
// a launcher watching a scratch directory, and the loop run for a while or
// until a condition holds.
#include <uv.h>

#include <fstream>
#include <functional>
#include <string>

#include "../engine/session_rig.hpp"
#include "btl/base/sha1.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl::testing {

// A .torrent of one file `name` holding `data` (one piece of up to 16 KiB).
inline std::string one_piece_metainfo(const std::string& name, const std::string& data) {
    auto h = sha1(data);
    std::string pieces(reinterpret_cast<const char*>(h.data()), h.size());
    return "d4:infod6:lengthi" + std::to_string(data.size()) + "e4:name" + std::to_string(name.size()) + ":" + name +
           "12:piece lengthi16384e6:pieces20:" + pieces + "ee";
}

// A launcher watching DIR/watch and saving in DIR/data, adding files at once.
inline LauncherOptions watching(const std::string& dir) {
    LauncherOptions lo;
    lo.dir = dir + "/watch";
    lo.save_in = dir + "/data";
    lo.quiet_ms = 0;
    return lo;
}

inline void put(const std::string& path, const std::string& body) { std::ofstream(path, std::ios::binary) << body; }

// Runs the loop for about `ms` (the session's tick is 1 s).
inline void run_for(uv_loop_t* loop, int64_t ms) {
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + uint64_t(ms);
    while (uv_now(loop) < end) {
        uv_timer_t t;
        uv_timer_init(loop, &t);
        uv_timer_start(&t, [](uv_timer_t*) {}, 20, 0);
        uv_run(loop, UV_RUN_ONCE);
        uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
        uv_run(loop, UV_RUN_NOWAIT);
        uv_update_time(loop);
    }
}

inline bool run_until(uv_loop_t* loop, int64_t limit_ms, const std::function<bool()>& pred) {
    for (int64_t waited = 0; waited < limit_ms && !pred(); waited += 50) run_for(loop, 50);
    return pred();
}

}  // namespace btl::testing
