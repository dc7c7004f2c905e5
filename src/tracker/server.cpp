// libuv TCP layer of the tracker; see btl/tracker/server.hpp.
#include "btl/tracker/server.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <ctime>

namespace btl {

struct TrackerServer::Conn {
    explicit Conn(const HttpLimits& lim) : parser(lim) {}
    TrackerServer* server = nullptr;
    UvHandle<uv_tcp_t> tcp;
    PeerAddr remote;
    std::string in;              // unconsumed input when a request spans reads
    HttpRequestParser parser;
    uint64_t last_active = 0;    // uv_now of the last completed exchange or accept
    uint64_t request_start = 0;  // uv_now of the first byte of a pending request
    bool partial = false;        // some bytes of a request are buffered
    bool draining = false;       // answer sent, waiting for the client to close
    size_t queued = 0;           // unsent output seen by the last sweep (progress check)
    Conn* prev = nullptr;
    Conn* next = nullptr;
};

namespace {

PeerAddr to_peer_addr(const sockaddr_storage& ss) {
    PeerAddr a;
    if (ss.ss_family == AF_INET) {
        const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
        a = PeerAddr::from_v4(ntohl(s4->sin_addr.s_addr));
    } else if (ss.ss_family == AF_INET6) {
        const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        a.len = 16;
        std::memcpy(a.bytes.data(), &s6->sin6_addr, 16);
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a.bytes.data(), mapped, 12) == 0) {
            uint32_t v4;
            std::memcpy(&v4, a.bytes.data() + 12, 4);
            a = PeerAddr::from_v4(ntohl(v4));
        }
    }
    return a;
}

struct WriteReq {
    uv_write_t req;
    std::string data;
};

}  // namespace

TrackerServer::TrackerServer(uv_loop_t* loop, TrackerService& svc, ServerConfig cfg)
    : loop_(loop), svc_(svc), cfg_(std::move(cfg)), read_buf_(64 * 1024) {
    out_.reserve(8192);
}

TrackerServer::~TrackerServer() {
    stop();
    for (Conn* c : pool_) delete c;
}

int TrackerServer::listen_on(const std::string& ip) {
    sockaddr_storage addr{};
    int rc = ip.find(':') != std::string::npos
                 ? uv_ip6_addr(ip.c_str(), cfg_.port, reinterpret_cast<sockaddr_in6*>(&addr))
                 : uv_ip4_addr(ip.c_str(), cfg_.port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0) return UV_EINVAL;
    listener_ = UvHandle<uv_tcp_t>::create([this](uv_tcp_t* h) { return uv_tcp_init(loop_, h); }, &rc);
    if (!listener_) return rc;
    listener_->data = this;
    // An IPv6 socket without UV_TCP_IPV6ONLY takes IPv4 too (as ::ffff:a.b.c.d,
    // unmapped in to_peer_addr).
    rc = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
    if (rc == 0) rc = uv_listen(listener_.stream(), 1024, on_connection);
    if (rc != 0) listener_.reset();
    return rc;
}

Status TrackerServer::start() {
    std::string where = cfg_.bind + ":" + std::to_string(cfg_.port);
    int rc = UV_EINVAL;
    // The default "any IPv4 address" listens on both stacks (BEP 7): one
    // dual-stack socket on [::], or 0.0.0.0 alone on a host without IPv6.
    if (cfg_.bind == "0.0.0.0") {
        rc = listen_on("::");
        if (rc != 0 && rc != UV_EAFNOSUPPORT && rc != UV_EADDRNOTAVAIL && rc != UV_EPROTONOSUPPORT)
            return make_error("cannot listen on " + where + ": " + uv_error_string(rc));
    }
    if (!listener_) rc = listen_on(cfg_.bind);
    if (rc == UV_EINVAL) return make_error("invalid bind address " + cfg_.bind);
    if (rc != 0) return make_error("cannot listen on " + where + ": " + uv_error_string(rc));
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    bound_port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    sweep_timer_ = UvHandle<uv_timer_t>::create([this](uv_timer_t* h) { return uv_timer_init(loop_, h); });
    if (sweep_timer_) {
        sweep_timer_->data = this;
        uint64_t period = cfg_.timeout_ms / 4 < 1000 ? (cfg_.timeout_ms / 4 ? cfg_.timeout_ms / 4 : 1) : 1000;
        uv_timer_start(
            sweep_timer_.get(),
            [](uv_timer_t* t) {
                if (auto* self = static_cast<TrackerServer*>(t->data)) self->sweep();
            },
            period, period);
    }
    return Ok{};
}

void TrackerServer::stop() {
    listener_.reset();
    sweep_timer_.reset();
    while (conns_) close_conn(conns_);
}

void TrackerServer::on_connection(uv_stream_t* server, int status) {
    auto* self = static_cast<TrackerServer*>(server->data);
    if (!self || status < 0) return;
    self->accept_one();
}

void TrackerServer::accept_one() {
    int rc = 0;
    auto tcp = UvHandle<uv_tcp_t>::create([this](uv_tcp_t* h) { return uv_tcp_init(loop_, h); }, &rc);
    if (!tcp) return;
    if (uv_accept(listener_.stream(), tcp.stream()) != 0) return;
    if (stats_.open >= cfg_.max_connections) {
        ++stats_.rejected;
        return;  // tcp's destructor closes it
    }
    Conn* c;
    if (!pool_.empty()) {
        c = pool_.back();
        pool_.pop_back();
    } else {
        c = new Conn(cfg_.limits);
    }
    c->server = this;
    c->tcp = std::move(tcp);
    c->tcp->data = c;
    sockaddr_storage ss{};
    int len = sizeof ss;
    uv_tcp_getpeername(c->tcp.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    c->remote = to_peer_addr(ss);
    c->last_active = uv_now(loop_);
    c->partial = c->draining = false;
    c->queued = 0;
    c->prev = nullptr;
    c->next = conns_;
    if (conns_) conns_->prev = c;
    conns_ = c;
    ++stats_.open;
    ++stats_.accepted;
    uv_tcp_nodelay(c->tcp.get(), 1);
    uv_read_start(
        c->tcp.stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            auto* conn = static_cast<Conn*>(h->data);
            if (!conn) {
                *buf = uv_buf_init(nullptr, 0);
                return;
            }
            auto& rb = conn->server->read_buf_;
            *buf = uv_buf_init(rb.data(), static_cast<unsigned>(rb.size()));
        },
        on_read);
}

void TrackerServer::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
    auto* c = static_cast<Conn*>(s->data);
    if (!c) return;
    TrackerServer* self = c->server;
    if (nread < 0) {
        self->close_conn(c);
        return;
    }
    if (nread == 0 || c->draining) return;
    self->handle_data(c, buf->base, static_cast<size_t>(nread));
}

void TrackerServer::handle_data(Conn* c, const char* data, size_t len) {
    const uint64_t now_ms = uv_now(loop_);
    if (!c->partial) c->request_start = now_ms;
    std::string_view pending;
    const bool buffered = !c->in.empty();
    if (buffered) {
        c->in.append(data, len);
        pending = c->in;
    } else {
        pending = {data, len};
    }
    out_.clear();
    bool close_after = false;
    const int64_t now = static_cast<int64_t>(::time(nullptr));
    while (!pending.empty()) {
        HttpParse r = c->parser.parse(pending);
        if (r == HttpParse::incomplete) break;
        if (r == HttpParse::error) {
            ++stats_.bad_requests;
            TrackerService::error_response(c->parser.error_status(), c->parser.error_reason(), out_);
            close_after = true;
            break;
        }
        bool keep = svc_.handle(c->parser.request(), c->remote, now, out_);
        pending.remove_prefix(c->parser.consumed());
        c->parser.reset();
        c->request_start = now_ms;
        c->last_active = now_ms;
        if (!keep) {
            close_after = true;
            break;
        }
    }
    if (close_after) {
        c->in.clear();
        c->partial = false;
    } else if (buffered) {
        c->in.erase(0, c->in.size() - pending.size());
        c->partial = !c->in.empty();
    } else {
        c->in.assign(pending);
        c->partial = !pending.empty();
    }
    if (!out_.empty()) send(c, out_);
    if (close_after && c->tcp) finish(c);
}

void TrackerServer::send(Conn* c, std::string_view bytes) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
    int n = 0;
    if (uv_stream_get_write_queue_size(c->tcp.stream()) == 0) {
        n = uv_try_write(c->tcp.stream(), &b, 1);
        if (n == static_cast<int>(bytes.size())) return;
        if (n < 0 && n != UV_EAGAIN) {
            close_conn(c);
            return;
        }
        if (n < 0) n = 0;
    }
    // The bound is on answers still unsent when another is due (a client that
    // pipelines requests and never reads); one answer larger than the socket
    // takes (a full scrape of 100,000 torrents is 7 MB) is queued whole.
    if (uv_stream_get_write_queue_size(c->tcp.stream()) > cfg_.max_write_queue) {
        close_conn(c);
        return;
    }
    auto* wr = new WriteReq;
    wr->data.assign(bytes.substr(static_cast<size_t>(n)));
    b = uv_buf_init(wr->data.data(), static_cast<unsigned>(wr->data.size()));
    int rc = uv_write(&wr->req, c->tcp.stream(), &b, 1, [](uv_write_t* req, int status) {
        auto* w = reinterpret_cast<WriteReq*>(req);
        auto* conn = static_cast<Conn*>(req->handle->data);
        delete w;
        if (conn && status < 0) conn->server->close_conn(conn);
    });
    if (rc != 0) {
        delete wr;
        close_conn(c);
    }
}

void TrackerServer::finish(Conn* c) {
    c->draining = true;
    c->last_active = uv_now(loop_);
    auto* req = new uv_shutdown_t;
    if (uv_shutdown(req, c->tcp.stream(), [](uv_shutdown_t* r, int) { delete r; }) != 0) {
        delete req;
        close_conn(c);
    }
}

void TrackerServer::close_conn(Conn* c) {
    if (!c->tcp) return;
    c->tcp.reset();
    if (c->prev) c->prev->next = c->next;
    else conns_ = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = nullptr;
    --stats_.open;
    c->parser.reset();
    c->partial = c->draining = false;
    c->queued = 0;
    if (c->in.capacity() > 64 * 1024) std::string().swap(c->in);
    c->in.clear();
    if (pool_.size() < 256) pool_.push_back(c);
    else delete c;
}

void TrackerServer::sweep() {
    const uint64_t now = uv_now(loop_);
    for (Conn* c = conns_; c;) {
        Conn* next = c->next;
        // A client reading a large answer is making progress: its deadlines
        // count from the last sweep that saw the unsent output shrink.
        const size_t queued = c->tcp ? uv_stream_get_write_queue_size(c->tcp.stream()) : 0;
        if (queued != c->queued) {
            if (queued < c->queued) c->last_active = now;
            c->queued = queued;
        }
        bool expired;
        if (queued > 0 && !c->partial) expired = now - c->last_active > cfg_.timeout_ms;
        else if (c->draining) expired = now - c->last_active > cfg_.drain_ms;
        else if (c->partial) expired = now - c->request_start > cfg_.timeout_ms;
        else expired = now - c->last_active > cfg_.timeout_ms;
        if (expired) {
            if (!c->draining || queued > 0) ++stats_.timed_out;  // not a finished answer's grace period
            close_conn(c);
        }
        c = next;
    }
}

}  // namespace btl
