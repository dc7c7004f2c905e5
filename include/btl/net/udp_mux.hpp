// UdpMux: the UDP socket of the listen port, shared by every protocol that
// speaks UDP there.  Each datagram goes to the first handler whose
// first-byte test accepts it (uTP: type 0-4 in the high nibble, version 1
// in the low one; the DHT's bencoded messages start with 'd'); others are
// counted and dropped.  Sends are immediate (uv_udp_try_send); a datagram
// the kernel will not take now is dropped, as UDP may.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/uv_util.hpp"

namespace btl {

class UdpMux {
public:
    using Match = std::function<bool(uint8_t first_byte)>;
    using Handler = std::function<void(const sockaddr* from, std::string_view datagram)>;

    explicit UdpMux(uv_loop_t* loop) : loop_(loop) {}
    ~UdpMux() { close(); }
    UdpMux(const UdpMux&) = delete;
    UdpMux& operator=(const UdpMux&) = delete;

    // Binds bind_ip ("" = any IPv4 address) and port; 0 or a libuv error.
    int bind(const std::string& bind_ip, uint16_t port);
    uint16_t port() const { return port_; }
    void add_handler(Match m, Handler h) { handlers_.push_back({std::move(m), std::move(h)}); }
    // False when the datagram was not sent (the error is counted).
    bool send(const sockaddr* to, std::string_view datagram);
    void close() { udp_.reset(); }
    uv_loop_t* loop() const { return loop_; }

    uint64_t unmatched() const { return unmatched_; }
    uint64_t send_errors() const { return send_errors_; }

private:
    static void on_alloc(uv_handle_t*, size_t, uv_buf_t*);
    static void on_recv(uv_udp_t*, ssize_t, const uv_buf_t*, const sockaddr*, unsigned);
    struct Entry {
        Match match;
        Handler handler;
    };
    uv_loop_t* loop_;
    UvHandle<uv_udp_t> udp_;
    std::vector<Entry> handlers_;
    std::unique_ptr<char[]> buf_;
    uint16_t port_ = 0;
    uint64_t unmatched_ = 0, send_errors_ = 0;
};

}  // namespace btl
