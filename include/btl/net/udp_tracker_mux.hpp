// UdpTrackerMux: UDP tracker traffic (BEP 15) on the listen port's shared
// UdpSocket, beside uTP and the DHT.  Every tracker reply starts with a
// 32-bit action 0..3, so its first byte is 0x00, which neither uTP (type in
// the high nibble, version 1 in the low one) nor KRPC ('d') ever sends: the
// mux owns that first byte and hands each reply to the request waiting for
// its transaction id.  A reply nobody waits for is counted and shown to
// every waiting request, which ignores it unless its own tracker sent it
// (then it notes "wrong transaction id" for its timeout message); requests
// in flight are few (announces take turns), so this stays cheap.
//
// Contract: loop thread only.  The mux does not keep the socket alive; with
// the socket gone (or without a socket of the destination's family)
// can_send() is false and a request uses a socket of its own instead.  A
// request forgets its transaction id when it is answered, retried, or
// cancelled, so the table holds at most one entry per live request.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "btl/net/udp_socket.hpp"

namespace btl {

class UdpTrackerMux {
public:
    using Handler = std::function<void(const sockaddr* from, std::string_view data)>;
    explicit UdpTrackerMux(const std::shared_ptr<UdpSocket>& sock);
    ~UdpTrackerMux();
    UdpTrackerMux(const UdpTrackerMux&) = delete;
    UdpTrackerMux& operator=(const UdpTrackerMux&) = delete;

    bool can_send(int family) const;
    // 0, or a libuv error code (the datagram is lost).
    int send(const sockaddr* to, std::string_view data);
    // Replies carrying `tid` go to h until forget(tid); false when another
    // request already waits for that id (pick another).  An ICMP "port
    // unreachable" for address A reaches every handler as (A, empty data).
    bool expect(uint32_t tid, Handler h);
    void forget(uint32_t tid) { waiting_.erase(tid); }

    size_t waiting() const { return waiting_.size(); }
    uint64_t unmatched() const { return unmatched_; }
    // The socket's datagram entry point for first byte 0x00 (public for tests).
    void on_datagram(const sockaddr* from, std::string_view data);
    void on_refused(const sockaddr* to);

private:
    std::weak_ptr<UdpSocket> sock_;
    std::unordered_map<uint32_t, Handler> waiting_;
    uint64_t unmatched_ = 0;
};

}  // namespace btl
