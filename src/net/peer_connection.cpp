#include "btl/net/peer_connection.hpp"

#include <cstring>

namespace btl {

bool sockaddr_to_ip(const sockaddr* sa, std::string& ip, uint16_t& port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        uv_ip4_name(in, buf, sizeof buf);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        uv_ip6_name(in6, buf, sizeof buf);
        port = ntohs(in6->sin6_port);
    } else {
        return false;
    }
    ip = buf;
    return true;
}

bool ip_to_sockaddr(const std::string& ip, uint16_t port, sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    if (uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0) return true;
    if (uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0) return true;
    return false;
}

PeerConnection::PeerConnection(uv_loop_t* loop, PeerConnectionHandler* h, size_t max_buffer)
    : loop_(loop), handler_(h), in_(max_buffer), max_buffer_(max_buffer) {}

PeerConnection::~PeerConnection() {
    connect_timer_.reset();
    if (tcp_) {
        tcp_->data = nullptr;
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(tcp_)))
            uv_close(reinterpret_cast<uv_handle_t*>(tcp_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
        // else: the pending close callback sees data == nullptr and only frees.
        tcp_ = nullptr;
    }
}

std::string PeerConnection::remote() const {
    if (remote_ip_.find(':') != std::string::npos) return "[" + remote_ip_ + "]:" + std::to_string(remote_port_);
    return remote_ip_ + ":" + std::to_string(remote_port_);
}

void PeerConnection::fill_remote() {
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getpeername(tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        sockaddr_to_ip(reinterpret_cast<sockaddr*>(&ss), remote_ip_, remote_port_);
}

void PeerConnection::connect(const sockaddr* addr, const std::string& bind_ip, uint64_t timeout_ms) {
    sockaddr_to_ip(addr, remote_ip_, remote_port_);
    tcp_ = new uv_tcp_t{};
    uv_tcp_init(loop_, tcp_);
    tcp_->data = this;
    uv_tcp_nodelay(tcp_, 1);
    if (!bind_ip.empty()) {
        sockaddr_storage local{};
        if (ip_to_sockaddr(bind_ip, 0, local) && local.ss_family == addr->sa_family) {
            int rc = uv_tcp_bind(tcp_, reinterpret_cast<sockaddr*>(&local), 0);
            if (rc != 0) return close(std::string("bind ") + bind_ip + ": " + uv_strerror(rc));
        }
    }
    auto* req = new uv_connect_t{};
    int rc = uv_tcp_connect(req, tcp_, addr, [](uv_connect_t* req, int status) {
        auto* h = req->handle;
        delete req;
        auto* self = static_cast<PeerConnection*>(h->data);
        if (!self || status == UV_ECANCELED || self->closing_) return;
        self->connect_timer_.reset();
        if (status != 0) return self->close(std::string("connect failed: ") + uv_strerror(status));
        self->connected_ = true;
        self->start_reading();
        if (self->handler_) self->handler_->on_connected();
    });
    if (rc != 0) {
        delete req;
        return close(std::string("connect failed: ") + uv_strerror(rc));
    }
    connect_timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    if (connect_timer_) {
        connect_timer_->data = this;
        uv_timer_start(connect_timer_.get(), [](uv_timer_t* t) {
            auto* self = static_cast<PeerConnection*>(t->data);
            if (self && !self->connected_) self->close("connect timed out");
        }, timeout_ms, 0);
    }
}

void PeerConnection::adopt(uv_tcp_t* accepted) {
    tcp_ = accepted;
    tcp_->data = this;
    uv_tcp_nodelay(tcp_, 1);
    connected_ = true;
    fill_remote();
    start_reading();
}

void PeerConnection::start_reading() {
    if (!tcp_ || closing_ || reading_ || !want_read_) return;
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_), on_alloc, on_read) == 0) reading_ = true;
}

void PeerConnection::pause_reading() {
    want_read_ = false;
    if (tcp_ && reading_ && !closing_) uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    reading_ = false;
}

void PeerConnection::resume_reading() {
    want_read_ = true;
    if (connected_) start_reading();
}

void PeerConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* out) {
    auto* self = static_cast<PeerConnection*>(h->data);
    if (!self) {
        *out = uv_buf_init(nullptr, 0);
        return;
    }
    size_t len = 0;
    uint8_t* at = self->in_.space(&len);
    *out = uv_buf_init(reinterpret_cast<char*>(at), static_cast<unsigned>(len));
}

void PeerConnection::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
    auto* self = static_cast<PeerConnection*>(s->data);
    if (!self || self->closing_) return;
    if (n < 0) {
        self->close(n == UV_EOF ? "connection closed by peer" : std::string("read error: ") + uv_strerror(int(n)));
        return;
    }
    if (n == 0) return;
    self->in_.filled(size_t(n));
    size_t used = self->handler_->on_data(self->in_.pending());
    if (self->closing_) return;
    self->in_.consume(used);
    if (self->in_.pending().size() >= self->max_buffer_) self->close("message larger than the read buffer");
}

namespace {
struct WriteReq {
    uv_write_t req;
    std::string head;
    std::shared_ptr<const std::vector<uint8_t>> data;
    size_t bytes;
};

// Completion of either kind of send: frees the request, keeps the queued
// byte count, reports errors and progress to the handler.
void on_write_done(uv_write_t* req, int status) {
    auto* w = reinterpret_cast<WriteReq*>(req);
    auto* self = static_cast<PeerConnection*>(req->handle->data);
    size_t bytes = w->bytes;
    delete w;
    if (self) self->write_done(bytes, status);
}
}  // namespace

void PeerConnection::write_done(size_t bytes, int status) {
    queued_ -= bytes;
    if (status != 0) {
        if (status != UV_ECANCELED) close(std::string("write error: ") + uv_strerror(status));
        return;
    }
    if (handler_) handler_->on_sent(bytes);
}

void PeerConnection::send(std::string bytes) {
    if (!tcp_ || closing_ || bytes.empty()) return;
    auto* w = new WriteReq{};
    w->head = std::move(bytes);
    w->bytes = w->head.size();
    uv_buf_t b = uv_buf_init(w->head.data(), static_cast<unsigned>(w->head.size()));
    queued_ += w->bytes;
    int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(tcp_), &b, 1, on_write_done);
    if (rc != 0) {
        queued_ -= w->bytes;
        delete w;
        close(std::string("write error: ") + uv_strerror(rc));
    }
}

void PeerConnection::send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data,
                                       size_t offset, size_t len) {
    if (!tcp_ || closing_) return;
    auto* w = new WriteReq{};
    w->head = std::move(header);
    w->data = std::move(data);
    w->bytes = w->head.size() + len;
    uv_buf_t b[2] = {uv_buf_init(w->head.data(), static_cast<unsigned>(w->head.size())),
                     uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(w->data->data() + offset)),
                                 static_cast<unsigned>(len))};
    queued_ += w->bytes;
    int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(tcp_), b, 2, on_write_done);
    if (rc != 0) {
        queued_ -= w->bytes;
        delete w;
        close(std::string("write error: ") + uv_strerror(rc));
    }
}

void PeerConnection::close(const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    close_reason_ = reason;
    connect_timer_.reset();
    if (!tcp_) {
        // Never connected a socket: report asynchronously is not needed; do it now.
        if (handler_) handler_->on_closed(close_reason_);
        return;
    }
    reading_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(tcp_), [](uv_handle_t* h) {
        auto* self = static_cast<PeerConnection*>(h->data);
        delete reinterpret_cast<uv_tcp_t*>(h);
        if (!self) return;
        self->tcp_ = nullptr;
        auto* handler = self->handler_;
        std::string reason = self->close_reason_;
        // `self` may be destroyed by the handler; touch nothing after this.
        if (handler) handler->on_closed(reason);
    });
}

namespace {

uint16_t bound_port(const uv_tcp_t* tcp) {
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    std::string ip;
    uint16_t port = 0;
    sockaddr_to_ip(reinterpret_cast<sockaddr*>(&ss), ip, port);
    return port;
}

// The IPv6 half of a dual-stack listener cannot exist on this host (no IPv6
// at all), as opposed to its port being taken.
bool no_ipv6_here(int rc) { return rc == UV_EAFNOSUPPORT || rc == UV_EADDRNOTAVAIL || rc == UV_EPROTONOSUPPORT; }

}  // namespace

UvHandle<uv_tcp_t> Listener::bind_one(const std::string& ip, uint16_t port, int* rc) {
    sockaddr_storage ss{};
    if (!ip_to_sockaddr(ip, port, ss)) {
        *rc = UV_EINVAL;
        return {};
    }
    auto tcp = UvHandle<uv_tcp_t>::create([&](uv_tcp_t* h) { return uv_tcp_init(loop_, h); }, rc);
    if (!tcp) return {};
    // "::" beside "0.0.0.0": IPv6 only, so IPv4 peers keep their own socket
    // and their plain addresses (no ::ffff: mapping).
    unsigned flags = ss.ss_family == AF_INET6 && ip == "::" ? UV_TCP_IPV6ONLY : 0;
    *rc = uv_tcp_bind(tcp.get(), reinterpret_cast<sockaddr*>(&ss), flags);
    if (*rc == 0) *rc = uv_listen(tcp.stream(), 128, [](uv_stream_t* server, int status) {
        auto* self = static_cast<Listener*>(server->data);
        if (!self || status != 0) return;
        auto* client = new uv_tcp_t{};
        uv_tcp_init(server->loop, client);
        if (uv_accept(server, reinterpret_cast<uv_stream_t*>(client)) != 0) {
            uv_close(reinterpret_cast<uv_handle_t*>(client), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
            return;
        }
        self->fn_(client);
    });
    if (*rc != 0) return {};
    return tcp;
}

int Listener::listen(const std::string& bind_ip, uint16_t minport, uint16_t maxport, AcceptFn fn) {
    fn_ = std::move(fn);
    close();
    int last = UV_EADDRINUSE;
    const bool dual = bind_ip.empty();
    for (uint32_t p = minport; p <= maxport; ++p) {
        int rc = 0;
        auto tcp = bind_one(dual ? "0.0.0.0" : bind_ip, uint16_t(p), &rc);
        if (rc == UV_EINVAL) return rc;
        if (!tcp) {
            last = rc;
            continue;
        }
        const uint16_t port = p ? uint16_t(p) : bound_port(tcp.get());
        UvHandle<uv_tcp_t> tcp6;
        if (dual) {
            tcp6 = bind_one("::", port, &rc);
            if (!tcp6 && !no_ipv6_here(rc)) {  // [::]:port taken: both stacks on one number or the next port
                last = rc;
                continue;
            }
            v6_error_ = tcp6 ? 0 : rc;
        }
        tcp->data = this;
        tcp_ = std::move(tcp);
        if (tcp6) {
            tcp6->data = this;
            tcp6_ = std::move(tcp6);
        }
        port_ = port;
        return 0;
    }
    return last;
}

}  // namespace btl
