// libuv side of the RPC port; see btl/rpc/http_server.hpp.
#include "btl/rpc/http_server.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace btl::rpc {

struct HttpServer::Conn : std::enable_shared_from_this<HttpServer::Conn> {
    explicit Conn(const HttpLimits& lim) : parser(lim) {}
    HttpServer* server = nullptr;
    uv_stream_t* stream = nullptr;  // a uv_tcp_t or uv_pipe_t we allocated
    Client client;
    std::string in;
    HttpRequestParser parser;
    uint64_t last_active = 0;
    bool busy = false;     // a request is with the handler
    bool in_process = false;  // process() is on the stack: an answer given at once must not recurse
    bool closing = false;
};

namespace {

struct WriteReq {
    uv_write_t req;
    std::string head, body;  // the body is moved in, not copied
};

std::string peer_ip(uv_tcp_t* t) {
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getpeername(t, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
    char buf[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET)
        uv_ip4_name(reinterpret_cast<sockaddr_in*>(&ss), buf, sizeof buf);
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&ss), buf, sizeof buf);
    return buf;
}

}  // namespace

const char* http_reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 409: return "Conflict";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 421: return "Misdirected Request";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string serialize_head(const HttpResponse& r, bool keep_alive) {
    std::string out;
    out.reserve(256);
    out += "HTTP/1.1 " + std::to_string(r.status) + " " + http_reason(r.status) + "\r\n";
    out += "Server: btlaunchmany\r\nContent-Type: " + r.content_type + "\r\n";
    for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    return out;
}

std::string serialize_response(const HttpResponse& r, bool keep_alive) { return serialize_head(r, keep_alive) + r.body; }

HttpServer::HttpServer(uv_loop_t* loop, HttpLimits limits, Handler handler)
    : loop_(loop), limits_(limits), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { close(); }

Status HttpServer::listen_tcp(const std::string& ip, uint16_t port) {
    sockaddr_storage addr{};
    int rc = ip.find(':') != std::string::npos
                 ? uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                 : uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0) return make_error("--rpc_bind: " + ip + " is not an IP address");
    tcp_ = UvHandle<uv_tcp_t>::create([this](uv_tcp_t* h) { return uv_tcp_init(loop_, h); }, &rc);
    if (!tcp_) return make_error("RPC: cannot create a socket: " + uv_error_string(rc));
    tcp_->data = this;
    rc = uv_tcp_bind(tcp_.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
    if (rc == 0) rc = uv_listen(tcp_.stream(), 128, on_connection);
    if (rc != 0) {
        tcp_.reset();
        return make_error("RPC: cannot listen on " + ip + ":" + std::to_string(port) + ": " + uv_error_string(rc));
    }
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(tcp_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    tcp_port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                  : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    start_sweep();
    return Ok{};
}

Status HttpServer::listen_unix(const std::string& path) {
    // libuv would cut a longer path short and bind somewhere else.
    if (path.size() >= sizeof(sockaddr_un{}.sun_path))
        return make_error("RPC: " + path + " is too long for a Unix socket (at most " +
                          std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes)");
    int rc = 0;
    pipe_ = UvHandle<uv_pipe_t>::create([this](uv_pipe_t* h) { return uv_pipe_init(loop_, h, 0); }, &rc);
    if (!pipe_) return make_error("RPC: cannot create a socket: " + uv_error_string(rc));
    pipe_->data = this;
    ::unlink(path.c_str());  // a socket left by a crash; the data dir's lock is ours
    rc = uv_pipe_bind(pipe_.get(), path.c_str());
    // Mode 0600 before listen(): until then nobody can connect.
    if (rc == 0 && ::chmod(path.c_str(), 0600) != 0) rc = -errno;
    if (rc == 0) rc = uv_listen(pipe_.stream(), 128, on_connection);
    if (rc != 0) {
        pipe_.reset();
        ::unlink(path.c_str());
        return make_error("RPC: cannot listen on " + path + ": " + uv_error_string(rc));
    }
    unix_path_ = path;
    start_sweep();
    return Ok{};
}

void HttpServer::start_sweep() {
    if (sweep_timer_) return;
    sweep_timer_ = UvHandle<uv_timer_t>::create([this](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    if (!sweep_timer_) return;
    sweep_timer_->data = this;
    uv_timer_start(sweep_timer_.get(), [](uv_timer_t* t) {
        if (auto* self = static_cast<HttpServer*>(t->data)) self->sweep();
    }, 5000, 5000);
    uv_unref(sweep_timer_.handle());
}

void HttpServer::close() {
    tcp_.reset();
    pipe_.reset();
    sweep_timer_.reset();
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
    unix_path_.clear();
    auto all = conns_;
    for (const auto& c : all) drop(c.get());
}

void HttpServer::on_connection(uv_stream_t* server, int status) {
    auto* self = static_cast<HttpServer*>(server->data);
    if (!self || status < 0) return;
    self->accept(server, server->type == UV_NAMED_PIPE);
}

void HttpServer::accept(uv_stream_t* server, bool unix_socket) {
    uv_stream_t* s;
    if (unix_socket) {
        auto* p = new uv_pipe_t{};
        uv_pipe_init(loop_, p, 0);
        s = reinterpret_cast<uv_stream_t*>(p);
    } else {
        auto* t = new uv_tcp_t{};
        uv_tcp_init(loop_, t);
        s = reinterpret_cast<uv_stream_t*>(t);
    }
    auto free_stream = [](uv_handle_t* h) {
        if (h->type == UV_NAMED_PIPE) delete reinterpret_cast<uv_pipe_t*>(h);
        else delete reinterpret_cast<uv_tcp_t*>(h);
    };
    if (uv_accept(server, s) != 0 || conns_.size() >= kMaxConnections) {
        uv_close(reinterpret_cast<uv_handle_t*>(s), free_stream);
        return;
    }
    auto c = std::make_shared<Conn>(limits_);
    c->server = this;
    c->stream = s;
    c->client.unix_socket = unix_socket;
    c->client.address = unix_socket ? "unix" : peer_ip(reinterpret_cast<uv_tcp_t*>(s));
    c->last_active = uv_now(loop_);
    s->data = c.get();
    conns_.insert(c);
    uv_read_start(
        s,
        [](uv_handle_t*, size_t, uv_buf_t* b) {
            static char buf[64 * 1024];  // the loop thread is the only reader
            *b = uv_buf_init(buf, sizeof buf);
        },
        [](uv_stream_t* st, ssize_t n, const uv_buf_t* b) {
            auto* conn = static_cast<Conn*>(st->data);
            if (conn) conn->server->on_read(conn, n, b);
        });
}

void HttpServer::on_read(Conn* c, ssize_t n, const uv_buf_t* buf) {
    if (n < 0) return drop(c);
    if (n == 0) return;
    c->in.append(buf->base, size_t(n));
    c->last_active = uv_now(loop_);
    // More than a whole request can hold is a client ignoring our answers.
    if (c->in.size() > limits_.max_head_bytes + limits_.max_body + 65536) return drop(c);
    if (!c->busy) process(c);
}

void HttpServer::process(Conn* c) {
    auto hold = c->shared_from_this();  // a synchronous answer may drop the connection
    c->in_process = true;
    struct Reset {
        Conn* c;
        ~Reset() { c->in_process = false; }
    } reset{c};
    while (!c->closing && !c->busy && !c->in.empty()) {
        HttpParse p = c->parser.parse(c->in);
        if (p == HttpParse::incomplete) return;
        if (p == HttpParse::error) {
            HttpResponse r;
            r.status = c->parser.error_status();
            r.content_type = "text/plain";
            r.body = std::string(c->parser.error_reason()) + "\n";
            send(c, std::move(r), false);
            return;
        }
        const HttpRequest& req = c->parser.request();
        const bool keep = req.keep_alive;
        c->busy = true;
        std::weak_ptr<Conn> weak = c->weak_from_this();
        size_t used = c->parser.consumed();
        Respond respond = [this, weak, keep, used](HttpResponse r) {
            auto conn = weak.lock();
            if (!conn || conn->closing) return;
            conn->busy = false;
            conn->in.erase(0, used);
            conn->parser.reset();
            bool keep_alive = keep && !r.close;
            send(conn.get(), std::move(r), keep_alive);
            // Answered at once: the loop in process() reads on; answered
            // later: start reading the next request here.  (Recursing would
            // let thousands of tiny pipelined requests overflow the stack.)
            if (keep_alive && !conn->in_process) process(conn.get());
        };
        handler_(req, c->client, std::move(respond));
    }
}

void HttpServer::send(Conn* c, HttpResponse&& r, bool keep_alive) {
    auto* w = new WriteReq{};
    w->head = serialize_head(r, keep_alive);
    w->body = std::move(r.body);
    uv_buf_t b[2] = {uv_buf_init(w->head.data(), unsigned(w->head.size())),
                     uv_buf_init(w->body.data(), unsigned(w->body.size()))};
    w->req.data = keep_alive ? nullptr : c;
    int rc = uv_write(&w->req, c->stream, b, w->body.empty() ? 1 : 2,
                      [](uv_write_t* req, int) { delete reinterpret_cast<WriteReq*>(req); });
    if (rc != 0) {
        delete w;
        return drop(c);
    }
    if (!keep_alive) {
        c->closing = true;
        uv_read_stop(c->stream);
        // uv_close waits for the write above to finish or fail.
        uv_shutdown_t* sh = new uv_shutdown_t{};
        sh->data = this;
        if (uv_shutdown(sh, c->stream, [](uv_shutdown_t* s, int) {
                auto* conn = static_cast<Conn*>(s->handle->data);
                auto* self = static_cast<HttpServer*>(s->data);
                delete s;
                if (conn && self) self->drop(conn);
            }) != 0) {
            delete sh;
            drop(c);
        }
    }
}

void HttpServer::drop(Conn* c) {
    uv_handle_t* h = reinterpret_cast<uv_handle_t*>(c->stream);
    h->data = nullptr;
    if (!uv_is_closing(h))
        uv_close(h, [](uv_handle_t* p) {
            if (p->type == UV_NAMED_PIPE) delete reinterpret_cast<uv_pipe_t*>(p);
            else delete reinterpret_cast<uv_tcp_t*>(p);
        });
    c->closing = true;
    for (auto it = conns_.begin(); it != conns_.end(); ++it)
        if (it->get() == c) {
            conns_.erase(it);
            break;
        }
}

void HttpServer::sweep() {
    uint64_t now = uv_now(loop_);
    std::vector<Conn*> idle;
    for (const auto& c : conns_)
        if (!c->busy && now - c->last_active > kIdleMs) idle.push_back(c.get());
    for (Conn* c : idle) drop(c);
}

}  // namespace btl::rpc
