#include "btl/net/udp_socket.hpp"

namespace btl {

int UdpSocket::open(const std::string& bind_ip, uint16_t port) {
    close();
    sockaddr_storage local{};
    const std::string ip = bind_ip.empty() ? "0.0.0.0" : bind_ip;
    if (uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&local)) != 0 &&
        uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&local)) != 0)
        return UV_EINVAL;
    int err = 0;
    udp_ = UvHandle<uv_udp_t>::create([&](uv_udp_t* h) { return uv_udp_init(loop_, h); }, &err);
    if (!udp_) return err;
    udp_->data = this;
    int rc = uv_udp_bind(udp_.get(), reinterpret_cast<const sockaddr*>(&local), 0);
    if (rc == 0) {
        // Room for bursts: a full uTP window can arrive within one loop turn.
        int size = 4 << 20;
        uv_recv_buffer_size(udp_.handle(), &size);
        size = 4 << 20;
        uv_send_buffer_size(udp_.handle(), &size);
    }
    if (rc == 0)
        rc = uv_udp_recv_start(
            udp_.get(),
            [](uv_handle_t*, size_t, uv_buf_t* buf) {
                static thread_local char scratch[65536];
                *buf = uv_buf_init(scratch, sizeof scratch);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
                auto* self = static_cast<UdpSocket*>(h->data);
                if (!self || n <= 0 || !from || (flags & UV_UDP_PARTIAL)) return;
                self->on_datagram(from, std::string_view(buf->base, size_t(n)));
            });
    if (rc != 0) {
        udp_.reset();
        return rc;
    }
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_udp_getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return 0;
}

void UdpSocket::close() {
    udp_.reset();
    port_ = 0;
}

void UdpSocket::on_datagram(const sockaddr* from, std::string_view data) {
    const Handler& h = routes_[uint8_t(data[0])];
    if (h)
        h(from, data);
    else if (fallback_)
        fallback_(from, data);
    else
        ++unrouted_;
}

int UdpSocket::send(const sockaddr* to, std::string_view data) {
    if (!udp_) return UV_EBADF;
    uv_buf_t b = uv_buf_init(const_cast<char*>(data.data()), unsigned(data.size()));
    int rc = uv_udp_try_send(udp_.get(), &b, 1, to);
    if (rc < 0) {
        ++send_drops_;
        return rc;
    }
    return 0;
}

}  // namespace btl
