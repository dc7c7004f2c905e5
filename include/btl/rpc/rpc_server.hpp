// RpcServer: btlaunchmany's remote control.  Serves Transmission's RPC at
// /transmission/rpc and Prometheus metrics at /metrics over HTTP/1.1, on a
// TCP port and on the Unix socket DATA_DIR/rpc.sock, and runs each request
// through the checks of DESIGN.md "RPC security principles" in this order:
//
//  1. the path (404), 2. the Host header (421: DNS rebinding; nothing runs),
//  3. the password when --rpc_auth is set (401; a wrong one is logged and
//     answered only after a delay that grows with consecutive failures, so
//     guessing is slow), 4. for /transmission/rpc the
//     X-Transmission-Session-Id handshake (409 with the id: a cross-site
//     form cannot read it), 5. the method (POST for RPC, GET for metrics).
//
// The Unix socket is mode 0600: only our user can connect, so it asks no
// password (the file's permission is the credential); the other checks
// apply.  start() refuses a non-loopback --rpc_bind without --rpc_auth.
#pragma once
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/result.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/rpc/http_server.hpp"
#include "btl/rpc/rpc_backend.hpp"
#include "btl/rpc/rpc_methods.hpp"

namespace btl::rpc {

struct RpcServerOptions {
    std::string bind = "127.0.0.1";
    uint16_t port = 9091;          // 0: no TCP port
    std::string unix_path;         // "": no Unix socket
    std::string auth;              // "USER:PASS" or ""
    std::vector<std::string> host_whitelist;
    bool allow_any_dir = false;
    std::vector<std::string> allowed_dirs;
    std::string version = "btlaunchmany";
    size_t max_body = 16 << 20;    // a 12 MB .torrent in base64
    size_t metrics_torrents = 100;
    std::function<void()> on_session_close;
    // The port was not asked for (the default): when it is taken, say so in
    // the log and serve the Unix socket only, rather than refuse to run.
    bool tcp_optional = false;
};

// Checks what start() would refuse: a bad --rpc_auth or a public bind
// without a password.  One line naming the option.
[[nodiscard]] Status check_rpc_options(const RpcServerOptions& o);

class RpcServer {
public:
    RpcServer(uv_loop_t* loop, RpcBackend& backend, RpcServerOptions opt, EventSink* log);
    ~RpcServer();
    Status start();
    void stop();
    uint16_t tcp_port() const { return http_ ? http_->tcp_port() : 0; }
    const std::string& session_id() const { return session_id_; }

private:
    void on_request(const HttpRequest& req, const HttpServer::Client& client, HttpServer::Respond respond);
    void answer_metrics(HttpServer::Respond respond);
    void refuse_login(const HttpServer::Client& client, HttpServer::Respond respond);

    uv_loop_t* loop_;
    RpcBackend& backend_;
    RpcServerOptions opt_;
    EventSink* log_;
    std::string session_id_;
    std::unique_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<HttpServer> http_;
    uint64_t requests_ = 0, auth_failures_ = 0;
    int failures_in_row_ = 0;
    int64_t last_failure_log_ms_ = -1;
    uint64_t unlogged_failures_ = 0;
    std::vector<UvHandle<uv_timer_t>> delays_;  // answers held back after a failed login
    JobOwner jobs_;
};

}  // namespace btl::rpc
