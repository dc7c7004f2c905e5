// Port mapping on the home router: asks the gateway (UPnP IGD through
// miniupnpc, else NAT-PMP through libnatpmp) to forward the listen port, TCP
// and UDP, to this host, learns the external address, renews the mapping
// before its lease ends, maps again after a failure (a gateway that rebooted
// forgot every mapping and may have moved its control URL), and deletes the
// mapping on exit.
//
// Contract:
//  - Both libraries block (SSDP waits, HTTP to the gateway, NAT-PMP
//    retransmissions), so every call to them runs on the libuv thread pool
//    (queue_job); at most one such job is under way at a time, and only that
//    job touches the cached gateway state.  The loop thread only schedules.
//  - PortMapSchedule is the timing, pure: renew at half the granted lease
//    (at least kMinRenewMs later); after a failure retry after
//    first_retry_ms, doubling up to max_retry_ms; a success resets it.
//  - PortMapper::status() is a copy: "port 51413 open via UPnP at
//    203.0.113.7", or "port 51413 not mapped: <reason>" (the text front ends
//    show), plus the external port trackers should get (0 = none).
//  - stop(done, max_wait_ms): deletes a mapping that exists and calls done
//    when the gateway answered or max_wait_ms passed, whichever is first;
//    done runs exactly once, on the loop thread.
//
// Cost: one timer; a job every half lease (an hour's lease by default).
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/uv_util.hpp"

namespace btl {

struct PortMapPolicy {
    int64_t first_retry_ms = 10'000;
    int64_t max_retry_ms = 10 * 60'000;
};

class PortMapSchedule {
public:
    static constexpr int64_t kMinRenewMs = 1'000;
    explicit PortMapSchedule(PortMapPolicy p = {}) : policy_(p) {}
    // A mapping was made or renewed with this lease: when to renew it.
    int64_t on_mapped(int64_t now_ms, uint32_t lease_s);
    // Mapping failed: when to try again.
    int64_t on_failed(int64_t now_ms);
    int failures() const { return failures_; }
    // The wait after n failures in a row (n >= 1).
    int64_t retry_delay(int n) const;

private:
    PortMapPolicy policy_;
    int failures_ = 0;
};

// What to map, as the pool job sees it (copied into the job).
struct PortMapRequest {
    uint16_t port = 0;          // our listen port (TCP and UDP)
    uint32_t lease_s = 3600;    // asked of the gateway
    bool upnp = true, natpmp = true;
    std::string bind_ip;        // "" = the default interface
};

struct PortMapOutcome {
    bool mapped = false;
    std::string method;         // "UPnP" or "NAT-PMP"
    std::string external_ip;
    uint16_t external_port = 0;
    uint32_t lease_s = 0;       // granted
    std::string error;          // when !mapped: why, for the user
    std::vector<std::string> notes;  // worth a log line (e.g. a gateway reboot seen)
};

// Gateway state kept between jobs (the UPnP control URL, the NAT-PMP epoch).
// Touched only by the one job under way.
struct GatewayCache;

// Blocking: call on the thread pool only.  map() also renews.
PortMapOutcome gateway_map(GatewayCache& cache, const PortMapRequest& req);
// Deletes what gateway_map() made with `method`; an error text or "".
std::string gateway_unmap(GatewayCache& cache, const PortMapRequest& req, const std::string& method);
std::shared_ptr<GatewayCache> make_gateway_cache();

class PortMapper {
public:
    struct Status {
        bool enabled = false;
        bool mapped = false;
        std::string text;
        std::string external_ip;
        uint16_t external_port = 0;
    };
    using LogFn = std::function<void(bool warning, const std::string& msg)>;

    // `changed` runs when the external address or port changes (mapped, lost, moved).
    PortMapper(uv_loop_t* loop, PortMapRequest req, LogFn log, std::function<void()> changed = nullptr,
               PortMapPolicy policy = {});
    ~PortMapper();
    PortMapper(const PortMapper&) = delete;
    PortMapper& operator=(const PortMapper&) = delete;

    void start();
    void stop(std::function<void()> done, int64_t max_wait_ms);
    Status status() const;

private:
    void run_map();
    void on_outcome(PortMapOutcome o);
    void run_unmap();
    void finish_stop();
    void arm(int64_t delay_ms, void (*fn)(uv_timer_t*));

    uv_loop_t* loop_;
    PortMapRequest req_;
    LogFn log_;
    std::function<void()> changed_;
    PortMapSchedule schedule_;
    std::shared_ptr<GatewayCache> cache_;
    UvHandle<uv_timer_t> timer_, stop_timer_;
    bool busy_ = false, stopping_ = false;
    PortMapOutcome last_;
    bool tried_ = false;
    std::function<void()> stop_done_;
    JobOwner jobs_;
};

}  // namespace btl
