// UdpSocket: the one UDP socket on the listen port, shared by everything
// that speaks UDP there (the DHT now; uTP and UDP trackers can join).
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

    // Binds ip ("" = any IPv4 address) and port and starts receiving;
    // 0 or a libuv error code.
    int open(const std::string& bind_ip, uint16_t port);
    void close();
    bool is_open() const { return bool(udp_); }
    uint16_t port() const { return port_; }

    void route(uint8_t first_byte, Handler h) { routes_[first_byte] = std::move(h); }
    void set_fallback(Handler h) { fallback_ = std::move(h); }

    // 0, or a libuv error code (the datagram is lost).
    int send(const sockaddr* to, std::string_view data);

    uint64_t unrouted() const { return unrouted_; }
    uint64_t send_drops() const { return send_drops_; }

private:
    void on_datagram(const sockaddr* from, std::string_view data);
    uv_loop_t* loop_;
    UvHandle<uv_udp_t> udp_;
    uint16_t port_ = 0;
    std::array<Handler, 256> routes_{};
    Handler fallback_;
    uint64_t unrouted_ = 0, send_drops_ = 0;
};

}  // namespace btl
