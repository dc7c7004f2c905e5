#include "btl/net/udp_mux.hpp"

#include "btl/net/peer_connection.hpp"

namespace btl {

namespace {
constexpr size_t kRecvBuf = 64 * 1024;
}

int UdpMux::bind(const std::string& bind_ip, uint16_t port) {
    sockaddr_storage ss{};
    if (!ip_to_sockaddr(bind_ip.empty() ? "0.0.0.0" : bind_ip, port, ss)) return UV_EINVAL;
    int err = 0;
    udp_ = UvHandle<uv_udp_t>::create([&](uv_udp_t* u) { return uv_udp_init(loop_, u); }, &err);
    if (err) return err;
    udp_->data = this;
    if ((err = uv_udp_bind(udp_.get(), reinterpret_cast<const sockaddr*>(&ss), 0)) != 0) {
        udp_.reset();
        return err;
    }
    // Room for bursts: a full uTP window arrives faster than one loop turn.
    int size = 4 << 20;
    uv_recv_buffer_size(udp_.handle(), &size);
    size = 4 << 20;
    uv_send_buffer_size(udp_.handle(), &size);
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_udp_getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    std::string ip;
    sockaddr_to_ip(reinterpret_cast<const sockaddr*>(&bound), ip, port_);
    buf_ = std::make_unique<char[]>(kRecvBuf);
    return uv_udp_recv_start(udp_.get(), on_alloc, on_recv);
}

void UdpMux::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* self = static_cast<UdpMux*>(h->data);
    if (!self) {
        buf->base = nullptr;
        buf->len = 0;
        return;
    }
    buf->base = self->buf_.get();
    buf->len = kRecvBuf;
}

void UdpMux::on_recv(uv_udp_t* u, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
    auto* self = static_cast<UdpMux*>(u->data);
    if (!self || n <= 0 || !from) return;
    std::string_view d(buf->base, size_t(n));
    for (const Entry& e : self->handlers_) {
        if (e.match(uint8_t(d[0]))) {
            e.handler(from, d);
            return;
        }
    }
    ++self->unmatched_;
}

bool UdpMux::send(const sockaddr* to, std::string_view d) {
    if (!udp_) return false;
    uv_buf_t b = uv_buf_init(const_cast<char*>(d.data()), unsigned(d.size()));
    const int rc = uv_udp_try_send(udp_.get(), &b, 1, to);
    if (rc >= 0) return true;
    ++send_errors_;
    return false;
}

}  // namespace btl
