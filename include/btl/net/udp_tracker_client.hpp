// UdpTrackerRequest: one announce to a UDP tracker (BEP 15) on the libuv
// loop: resolve the host, connect (get a connection id), announce.  The
// client half of the tracker protocol: the pure packet codec lives in
// core/tracker_client_codec; this module owns the socket, timers and
// retransmission.  (bttrack's server half is in tracker/.)
//
// Contract:
// - The callback runs at most once, on the loop thread, and never after the
//   UdpTrackerRequest is destroyed (destruction cancels; a new announce()
//   cancels the previous one).  A tracker's error action (3) arrives as a
//   successful Result with failure_reason set, like an HTTP "failure reason".
// - Packets are matched strictly: wrong transaction id, wrong source address,
//   wrong action, short or garbled packets are ignored (the real answer may
//   still come), so a hostile or confused sender cannot end the request.
// - Retransmission per BEP 15: a try waits base_timeout_ms * 2^n (n = 0, 1,
//   ...) and the request gives up after max_tries tries, so its total time
//   is bounded by base * (2^max_tries - 1).  BEP 15 lets n grow to 8 (over an
//   hour); we stop at max_tries = 3 (15 + 30 + 60 s) because the announcer
//   has its own backoff and other trackers to try.
// - An ICMP "port unreachable" (ECONNREFUSED on the connected socket) fails
//   the request at once: nothing listens there, waiting cannot help.  (On
//   the shared listen-port socket, which is not connected, it cannot be
//   seen: such a tracker is given up after its tries.)
// - Over IPv6 the announce answer carries 18-byte peers (BEP 15).
// - Connection ids are cached per tracker address in a UdpConnectionCache for
//   60 s (BEP 15: a connection id is valid for one minute), so repeated
//   announces skip the connect round trip.  An id the tracker does not
//   accept (error reply or silence) is dropped from the cache.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "btl/base/result.hpp"
#include "btl/core/tracker_client_codec.hpp"

namespace btl {

struct UdpTrackerOptions {
    uint64_t base_timeout_ms = 15'000;  // BEP 15: 15 s, doubling per try
    int max_tries = 3;                  // 15 + 30 + 60 s before giving up
    std::string bind_ip;                // local address to send from ("" = any)
    size_t max_peers = 1000;
    // IPv6 / shared socket: send and receive on the listen port's UDP socket
    // through this mux (null, or no socket of the tracker's family there:
    // a socket of the request's own, connected to the tracker).
    std::shared_ptr<class UdpTrackerMux> mux;
};

// Connection ids by tracker "host:port", valid kLifetimeMs after they were
// issued.  Times are the loop's clock (uv_now), passed in for testability.
class UdpConnectionCache {
public:
    static constexpr int64_t kLifetimeMs = 60'000;
    std::optional<uint64_t> get(const std::string& key, int64_t now_ms) const;
    void put(const std::string& key, uint64_t id, int64_t now_ms);
    void forget(const std::string& key) { ids_.erase(key); }
    size_t size() const { return ids_.size(); }

private:
    struct Id {
        uint64_t id;
        int64_t issued_ms;
    };
    std::map<std::string, Id> ids_;
};

class UdpTrackerRequest {
public:
    using Callback = std::function<void(Result<AnnounceResponse>)>;
    // `cache` may be shared by many requests (all on this loop); null = none.
    UdpTrackerRequest(uv_loop_t* loop, UdpTrackerOptions opt = {},
                      std::shared_ptr<UdpConnectionCache> cache = nullptr);
    ~UdpTrackerRequest();
    UdpTrackerRequest(const UdpTrackerRequest&) = delete;
    UdpTrackerRequest& operator=(const UdpTrackerRequest&) = delete;

    // `url` is udp://host:port[/path]; the path is ignored (BEP 41 not sent).
    void announce(const std::string& url, const AnnounceRequest& req, Callback cb);
    // Per-request override of max_tries (the announcer shortens it when
    // other trackers could be tried instead).
    void set_max_tries(int n) { opt_.max_tries = n < 1 ? 1 : n; }
    bool busy() const { return active_; }

private:
    struct Impl;
    void cancel();
    uv_loop_t* loop_;
    UdpTrackerOptions opt_;
    std::shared_ptr<UdpConnectionCache> cache_;
    std::shared_ptr<Impl> impl_;
    bool active_ = false;
};

}  // namespace btl
