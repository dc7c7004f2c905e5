// The curses view attached to an engine in another process (RemoteModel),
// as `btlaunchmany --attach` and `btlaunchmany DIR` on a terminal run it.
//
// Ends in one of three ways, each exit status 0: `d` (or `q` then `d`)
// detaches and the engine keeps running; a hangup, SIGINT or SIGTERM
// detaches the same way (an SSH drop or a killed tmux must never stop the
// downloads); `q` then `y` sends session-close and returns once the engine
// no longer answers (at most stop_wait_s), so a caller may rely on it being
// gone.  An engine that is not there yet, or goes away, is waited for: the
// view says so in its footer and carries on when it answers.
#pragma once
#include <uv.h>

#include "btl/rpc/rpc_client.hpp"

namespace btl::ui {

struct AttachOptions {
    rpc::RpcEndpoint endpoint;
    double interval_s = 1;
    double stop_wait_s = 30;
};

// Runs `loop` until the view ends; returns the exit status.  The caller
// must setlocale(LC_ALL, "") first.
int run_attached_view(uv_loop_t* loop, const AttachOptions& o);

}  // namespace btl::ui
