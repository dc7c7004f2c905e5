// UtpManager: every uTP connection on one UDP socket, keyed by remote
// address and receive connection id.  Pure like UtpSocket: datagrams come
// in through incoming() and leave through an injected send function.
//
// Bounded state: at most max_connections sockets, of which at most
// max_half_open are accepted but not yet confirmed (the dialler has not yet
// acknowledged our STATE); a SYN beyond either cap is dropped.  A confirmed
// incoming connection is offered to the accept function; a packet for no
// connection is answered with a RESET (at most resets_per_second).
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "btl/net/utp_socket.hpp"

namespace btl {

struct UtpManagerConfig {
    UtpConfig socket;
    size_t max_connections = 512;
    size_t max_half_open = 64;
    unsigned resets_per_second = 100;
};

class UtpManager {
public:
    using SendTo = std::function<void(const sockaddr* to, std::string_view datagram)>;
    // A confirmed incoming connection; returning false refuses it (RESET).
    using AcceptFn = std::function<bool(std::shared_ptr<UtpSocket>, const sockaddr* from)>;
    using Random = std::function<uint32_t()>;

    UtpManager(UtpManagerConfig cfg, UtpSocket::Clock clock, SendTo send_to, Random rng);
    ~UtpManager();
    UtpManager(const UtpManager&) = delete;
    UtpManager& operator=(const UtpManager&) = delete;
    void set_accept(AcceptFn fn) { accept_ = std::move(fn); }

    void incoming(const sockaddr* from, std::string_view datagram);
    // Dials addr; nullptr when the connection cap is reached.
    std::shared_ptr<UtpSocket> dial(const sockaddr* to);
    void tick();   // every ~100 ms: timers, and closed connections dropped
    void flush();  // end of a loop turn

    size_t connections() const { return sockets_.size(); }
    size_t half_open() const { return half_open_; }
    uint64_t dropped_packets() const { return dropped_; }
    uint64_t refused_syns() const { return refused_syns_; }

private:
    struct Entry {
        std::shared_ptr<UtpSocket> sock;
        sockaddr_storage addr{};
        bool half_open = false;
    };
    using Key = std::pair<std::string, uint16_t>;  // remote "ip:port", our recv id

    Entry* find(const std::string& from, uint16_t id);
    Entry* find_for_reset(const std::string& from, uint16_t id);
    void on_syn(const sockaddr* from, const std::string& key, const UtpPacket& p);
    void send_reset(const sockaddr* to, const UtpPacket& p);
    std::shared_ptr<UtpSocket> make_socket(const sockaddr* addr, Entry& e);
    void confirm(Entry& e);

    UtpManagerConfig cfg_;
    UtpSocket::Clock clock_;
    SendTo send_to_;
    Random rng_;
    AcceptFn accept_;
    std::map<Key, Entry> sockets_;
    size_t half_open_ = 0;
    uint64_t dropped_ = 0, refused_syns_ = 0;
    uint64_t reset_window_start_ = 0;
    unsigned resets_in_window_ = 0;
};

// "ip:port" of a socket address ("" for unknown families).
std::string utp_addr_key(const sockaddr* sa);

}  // namespace btl
