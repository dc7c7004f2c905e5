// HttpServer: a small HTTP/1.1 server on the libuv loop for the RPC port
// and its Unix socket.  Requests are framed by net/http_request's bounded
// parser (head and body limits; one error status per mistake, then close);
// the handler answers each request once, at once or later, and the next
// request on a keep-alive connection is read only after that answer (no
// pipelined requests in flight, so one client cannot queue unbounded work).
//
// Bounds: at most kMaxConnections at once (more are closed on accept), an
// idle or slow connection is closed after kIdleMs, the input buffer never
// exceeds the parser's limits.  The Unix socket is created mode 0600 before
// it listens (a stale socket file from a crash is replaced; the caller holds
// the data dir's lock) and removed on close().
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/net/http_request.hpp"

namespace btl::rpc {

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool close = false;  // close the connection after this answer
};

// The standard reason phrase of the statuses this server sends.
const char* http_reason(int status);
// The bytes of a response: status line, headers and Content-Length (the
// head), then the body.
std::string serialize_head(const HttpResponse& r, bool keep_alive);
std::string serialize_response(const HttpResponse& r, bool keep_alive);

class HttpServer {
public:
    static constexpr size_t kMaxConnections = 64;
    static constexpr uint64_t kIdleMs = 60'000;

    struct Client {
        std::string address;  // "ip" for TCP, "unix" for the socket
        bool unix_socket = false;
    };
    // Answers the request once; safe to call after the connection went away.
    using Respond = std::function<void(HttpResponse)>;
    // The request's views are valid only during the call.
    using Handler = std::function<void(const HttpRequest&, const Client&, Respond)>;

    HttpServer(uv_loop_t* loop, HttpLimits limits, Handler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    Status listen_tcp(const std::string& ip, uint16_t port);
    Status listen_unix(const std::string& path);
    void close();
    uint16_t tcp_port() const { return tcp_port_; }

    struct Conn;

private:
    static void on_connection(uv_stream_t* server, int status);
    void accept(uv_stream_t* server, bool unix_socket);
    void on_read(Conn* c, ssize_t n, const uv_buf_t* buf);
    void process(Conn* c);
    void send(Conn* c, HttpResponse&& r, bool keep_alive);
    void drop(Conn* c);
    void sweep();
    void start_sweep();

    uv_loop_t* loop_;
    HttpLimits limits_;
    Handler handler_;
    UvHandle<uv_tcp_t> tcp_;
    UvHandle<uv_pipe_t> pipe_;
    UvHandle<uv_timer_t> sweep_timer_;
    std::string unix_path_;
    uint16_t tcp_port_ = 0;
    std::set<std::shared_ptr<Conn>> conns_;
};

}  // namespace btl::rpc
