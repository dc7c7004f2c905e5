#include "btl/net/udp_socket.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace btl {

UvHandle<uv_udp_t> UdpSocket::open_one(const std::string& ip, uint16_t port, int* rc) {
    sockaddr_storage local{};
    if (uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&local)) != 0 &&
        uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&local)) != 0) {
        *rc = UV_EINVAL;
        return {};
    }
    auto udp = UvHandle<uv_udp_t>::create([&](uv_udp_t* h) { return uv_udp_init(loop_, h); }, rc);
    if (!udp) return {};
    udp->data = this;
    // "::" beside "0.0.0.0" takes IPv6 alone: IPv4 senders arrive on their own socket.
    unsigned flags = local.ss_family == AF_INET6 && ip == "::" ? UV_UDP_IPV6ONLY : 0;
    *rc = uv_udp_bind(udp.get(), reinterpret_cast<const sockaddr*>(&local), flags);
    if (*rc == 0) {
        // ICMP errors (port unreachable) are queued with the destination
        // they answer, so a UDP tracker that is not there fails at once.
        uv_os_fd_t fd = -1;
        int on = 1;
        if (uv_fileno(udp.handle(), &fd) == 0) {
            if (local.ss_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
            else
                setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
        }
        // Room for bursts: a full uTP window can arrive within one loop turn.
        int size = 4 << 20;
        uv_recv_buffer_size(udp.handle(), &size);
        size = 4 << 20;
        uv_send_buffer_size(udp.handle(), &size);
        *rc = uv_udp_recv_start(
            udp.get(),
            [](uv_handle_t*, size_t, uv_buf_t* buf) {
                static thread_local char scratch[65536];
                *buf = uv_buf_init(scratch, sizeof scratch);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
                auto* self = static_cast<UdpSocket*>(h->data);
                // An error, or "nothing more to read" (n == 0, no sender):
                // the wake-up may have been the error queue alone (its
                // pending error already taken by a send), which keeps the
                // socket flagged until read.  One cheap syscall per wake-up.
                if (self && (n < 0 || (n == 0 && !from))) self->drain_errors(h);
                if (!self || n <= 0 || !from || (flags & UV_UDP_PARTIAL)) return;
                self->on_datagram(from, std::string_view(buf->base, size_t(n)));
            });
    }
    if (*rc != 0) return {};
    return udp;
}

int UdpSocket::open(const std::string& bind_ip, uint16_t port) {
    close();
    const bool dual = bind_ip.empty();
    int rc = 0;
    auto first = open_one(dual ? "0.0.0.0" : bind_ip, port, &rc);
    if (!first) return rc;
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_udp_getsockname(first.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    const bool v6 = bound.ss_family == AF_INET6;
    port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    (v6 ? udp6_ : udp_) = std::move(first);
    // IPv6 is a bonus here: the IPv4 socket alone still carries everything.
    if (dual) {
        udp6_ = open_one("::", port_, &rc);
        v6_error_ = udp6_ ? 0 : rc;
    }
    return 0;
}

void UdpSocket::close() {
    udp_.reset();
    udp6_.reset();
    port_ = 0;
}

void UdpSocket::drain_errors(uv_udp_t* h) {
    uv_os_fd_t fd = -1;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(h), &fd) != 0) return;
    // Bounded: the queue is read until empty or 64 entries (the rest next time).
    for (int i = 0; i < 64; ++i) {
        sockaddr_storage to{};
        char data[64], control[512];
        iovec iov{data, sizeof data};
        msghdr msg{};
        msg.msg_name = &to;
        msg.msg_namelen = sizeof to;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
            const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
            if (!v4 && !v6) continue;
            sock_extended_err ee{};
            std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
            ++icmp_errors_;
            if (ee.ee_errno == ECONNREFUSED && on_refused_ && msg.msg_namelen > 0)
                on_refused_(reinterpret_cast<const sockaddr*>(&to));
        }
    }
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
    const UvHandle<uv_udp_t>& h = to->sa_family == AF_INET6 ? udp6_ : udp_;
    if (!h) {
        ++send_drops_;
        return is_open() ? UV_EAFNOSUPPORT : UV_EBADF;
    }
    uv_buf_t b = uv_buf_init(const_cast<char*>(data.data()), unsigned(data.size()));
    int rc = uv_udp_try_send(h.get(), &b, 1, to);
    // With IP_RECVERR the kernel hands an ICMP error of an EARLIER datagram
    // to the next send, which is then not sent (the error is cleared by
    // that; its record stays in the error queue for drain_errors): send again.
    if (rc == UV_ECONNREFUSED || rc == UV_EHOSTUNREACH || rc == UV_ENETUNREACH)
        rc = uv_udp_try_send(h.get(), &b, 1, to);
    if (rc < 0) {
        ++send_drops_;
        return rc;
    }
    return 0;
}

}  // namespace btl
