// The engine as a daemon: what `btlaunchmany DIR` on a terminal does before
// it attaches the view.  The data dir's lock (btlaunchmany.lock) says
// whether an engine runs for it; if none does, this program starts itself
// again with the same options plus `--display plain`, detached (its own
// session, so a hangup of this terminal never reaches it; stdin from
// /dev/null; stdout and stderr appended to DATA_DIR/engine.log), and waits
// until the engine's RPC socket DATA_DIR/rpc.sock accepts connections.
//
// These calls block (fork, exec, a bounded wait): they run before the loop
// starts, never on it.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "btl/base/result.hpp"

namespace btl::ui {

// True (and the holder's pid, 0 if unknown) when an engine holds the data
// dir's lock now.
bool engine_running(const std::string& data_dir, int* pid = nullptr);

// Runs `program` (a path; "/proc/self/exe" for this very binary, whatever
// PATH says) with argv, detached as above; returns the engine's pid.
Result<pid_t> spawn_engine(const std::string& program, const std::vector<std::string>& argv,
                           const std::string& log_path);

// Waits until the Unix socket at `path` accepts a connection.  Fails when
// `child` exited without another engine taking the data dir, or after
// timeout_s; the error names the log to read.
Status wait_for_engine(const std::string& path, pid_t child, const std::string& data_dir, double timeout_s,
                       const std::string& log_path);

// argv for the engine: this program's options with the display forced to
// plain (a later --display wins over an earlier one).
std::vector<std::string> engine_argv(const std::string& self, const std::vector<std::string>& args);

}  // namespace btl::ui
