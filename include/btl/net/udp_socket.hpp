// UdpSocket: the UDP socket on the listen port, one per address family,
// shared by everything that speaks UDP there (the DHT, uTP, UDP trackers).
// With no bind address it binds 0.0.0.0 and [::] (IPv6-only) on the same
// port; send() picks the socket of the destination's family.  A host
// without IPv6 keeps the IPv4 socket alone.
// Datagrams are demultiplexed by their first byte, as Transmission's
// tr-udp does: 'd' starts a bencoded KRPC message (DHT); a UDP-tracker reply
// starts 00 00 00 0x; the rest is uTP.  Each route registers for the first
// bytes it owns; the fallback gets the others; with no route a datagram is
// counted and dropped.
//
// Contract: callbacks run on the loop thread with a view of a receive
// buffer that is valid only during the call.  send() never blocks and never
// queues: a full kernel buffer drops the datagram (counted), which every
// UDP protocol here tolerates.  Destroying the socket stops all callbacks.
#pragma once
#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "btl/base/uv_util.hpp"

namespace btl {

class UdpSocket {
public:
    using Handler = std::function<void(const sockaddr* from, std::string_view data)>;

    explicit UdpSocket(uv_loop_t* loop) : loop_(loop) {}
    ~UdpSocket() { close(); }
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    // Binds ip and port ("" = both stacks: any IPv4 and any IPv6 address)
    // and starts receiving; 0 or a libuv error code.
    int open(const std::string& bind_ip, uint16_t port);
    void close();
    bool is_open() const { return bool(udp_) || bool(udp6_); }
    // A socket of this family (AF_INET, AF_INET6) is open.
    bool has_family(int family) const { return bool(family == AF_INET6 ? udp6_ : udp_); }
    int ipv6_error() const { return v6_error_; }
    uint16_t port() const { return port_; }

    void route(uint8_t first_byte, Handler h) { routes_[first_byte] = std::move(h); }
    void set_fallback(Handler h) { fallback_ = std::move(h); }
    // An ICMP "port unreachable" answered a datagram we sent to `to`
    // (IP_RECVERR: the kernel queues it with the destination).
    using RefusedHandler = std::function<void(const sockaddr* to)>;
    void set_refused_handler(RefusedHandler h) { on_refused_ = std::move(h); }

    // 0, or a libuv error code (the datagram is lost; UV_EAFNOSUPPORT when
    // no socket of the destination's family is open).
    int send(const sockaddr* to, std::string_view data);

    uint64_t unrouted() const { return unrouted_; }
    uint64_t send_drops() const { return send_drops_; }
    uint64_t icmp_errors() const { return icmp_errors_; }

private:
    void on_datagram(const sockaddr* from, std::string_view data);
    UvHandle<uv_udp_t> open_one(const std::string& ip, uint16_t port, int* rc);
    void drain_errors(uv_udp_t* h);
    RefusedHandler on_refused_;
    uint64_t icmp_errors_ = 0;
    uv_loop_t* loop_;
    UvHandle<uv_udp_t> udp_, udp6_;  // IPv4, IPv6
    int v6_error_ = 0;
    uint16_t port_ = 0;
    std::array<Handler, 256> routes_{};
    Handler fallback_;
    uint64_t unrouted_ = 0, send_drops_ = 0;
};

}  // namespace btl
