// The tracker's libuv TCP layer: accepts connections, feeds bytes to an
// HttpRequestParser and hands complete requests to a TrackerService.
//
// Contract (robustness against hostile clients):
// - At most max_connections are open; a connection beyond the cap is
//   accepted and closed at once (accepting drains the kernel backlog).
// - A request head must arrive within `timeout_ms` of its first byte, and an
//   idle keep-alive connection is closed after `timeout_ms`; trickling bytes
//   does not extend either deadline (slowloris).
// - Buffered input per connection is bounded by HttpLimits; unsent output by
//   max_write_queue when another answer is due (a client that sends requests
//   but never reads answers is dropped); one answer of any size is queued
//   whole.  A connection with unsent output lives while the client reads it:
//   it is closed after `timeout_ms` without progress.
// - After an error answer (400/414/431/...) the write side is shut down and
//   further input discarded for a short grace period, so the client reads
//   the answer instead of a reset.
// - Reads land in one shared buffer and requests are parsed in place; input
//   is copied only when a request spans reads.  Answers go out with
//   uv_try_write, falling back to a queued write only when the socket is full.
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/net/http_request.hpp"
#include "btl/tracker/service.hpp"

namespace btl {

struct ServerConfig {
    std::string bind = "0.0.0.0";
    int port = 6969;
    size_t max_connections = 1000;
    uint64_t timeout_ms = 15000;
    uint64_t drain_ms = 2000;
    size_t max_write_queue = 1 << 20;
    HttpLimits limits;
};

struct ServerStats {
    size_t open = 0;
    uint64_t accepted = 0;
    uint64_t rejected = 0;   // over the connection cap
    uint64_t timed_out = 0;
    uint64_t bad_requests = 0;
};

class TrackerServer {
public:
    TrackerServer(uv_loop_t* loop, TrackerService& svc, ServerConfig cfg);
    ~TrackerServer();
    TrackerServer(const TrackerServer&) = delete;
    TrackerServer& operator=(const TrackerServer&) = delete;

    // Binds and listens; the error names the address.
    Status start();
    // Closes the listener and every connection.
    void stop();
    int bound_port() const { return bound_port_; }
    const ServerStats& stats() const { return stats_; }

private:
    struct Conn;
    static void on_connection(uv_stream_t* server, int status);
    static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
    void accept_one();
    int listen_on(const std::string& ip);  // 0 or a libuv error code
    void handle_data(Conn* c, const char* data, size_t len);
    void send(Conn* c, std::string_view bytes);
    void finish(Conn* c);   // shut down the write side, then drain
    void close_conn(Conn* c);
    void sweep();

    uv_loop_t* loop_;
    TrackerService& svc_;
    ServerConfig cfg_;
    UvHandle<uv_tcp_t> listener_;
    UvHandle<uv_timer_t> sweep_timer_;
    Conn* conns_ = nullptr;          // intrusive list of open connections
    std::vector<Conn*> pool_;        // closed Conn objects kept for reuse
    std::vector<char> read_buf_;
    std::string out_;
    ServerStats stats_;
    int bound_port_ = 0;
};

}  // namespace btl
