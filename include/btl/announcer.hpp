// Announcer: one torrent's conversation with its trackers (BEP 3 announces,
// BEP 12 tiers).  Trackers are tried tier by tier, in order; one that answers
// moves to the front of its tier.  Events: `started` on the first announce,
// `completed` when the download finishes, `stopped` on shutdown.  Regular
// announces follow the tracker's interval (never sooner than min interval);
// failures retry with exponential backoff (15 s doubling to 30 min).
// Everything runs on the loop thread; the torrent supplies the counters.
//
// http:// and udp:// (BEP 15) trackers are handled alike.  A UDP tracker
// that does not answer costs up to 15 + 30 + 60 s when it is the last
// tracker left to try, but only one try (15 s) when another tracker follows
// it in the list: a dead first tier must not hold the swarm up for minutes.
// Connection ids are cached per announcer (per torrent) for their minute.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "btl/engine_types.hpp"
#include "btl/http_client.hpp"
#include "btl/tracker_proto.hpp"
#include "btl/udp_tracker.hpp"
#include "btl/uv_util.hpp"

namespace btl {

class Announcer {
public:
    struct Hooks {
        std::function<AnnounceRequest()> make_request;  // counters filled in; event set by us
        std::function<void(const std::vector<PeerEndpoint>&)> on_peers;
        std::function<void(LogLevel, const std::string&)> on_log;
        // Optional: each request waits until `go` is called (the session
        // bounds announces per tracker); the request's turn ends when the
        // returned token is dropped.
        std::function<std::shared_ptr<void>(const std::string& url, std::function<void()> go)> wait_turn;
    };
    // udp.bind_ip defaults to http.bind_ip.
    Announcer(uv_loop_t* loop, std::vector<std::vector<std::string>> tiers, HttpOptions http, Hooks hooks,
              UdpTrackerOptions udp = {});
    ~Announcer();

    void start();
    void completed();
    // Sends `stopped` (if a tracker was ever reached) and calls done when it is
    // answered or after timeout_ms, whichever comes first.
    void stop(uint64_t timeout_ms, std::function<void()> done);
    // Ask for more peers soon (respects min interval).
    void want_peers();

    std::vector<TrackerStatus> status(int64_t now_ms) const;
    const std::string& last_message() const { return last_message_; }
    bool has_trackers() const { return !entries_.empty(); }

private:
    struct Entry {
        std::string url;
        int tier = 0;
        std::string status = "not contacted";
        int64_t seeds = -1, leechers = -1;
        int fails = 0;
    };
    void schedule(uint64_t delay_ms);
    void announce(AnnounceEvent ev);
    void try_entry(size_t idx, AnnounceEvent ev);
    void on_result(size_t idx, AnnounceEvent ev, Result<AnnounceResponse> r);
    int64_t now_ms() const;

    uv_loop_t* loop_;
    HttpOptions http_opts_;
    Hooks hooks_;
    std::vector<Entry> entries_;   // in tier order
    std::unique_ptr<HttpGet> http_;
    UdpTrackerOptions udp_opts_;
    std::shared_ptr<UdpConnectionCache> udp_cache_ = std::make_shared<UdpConnectionCache>();
    std::unique_ptr<UdpTrackerRequest> udp_;
    UvHandle<uv_timer_t> timer_;
    std::string tracker_id_;
    size_t last_ok_ = 0;  // entry that answered last: it gets `stopped`
    int64_t interval_s_ = 1800, min_interval_s_ = 0;
    int64_t last_success_ms_ = -1, next_announce_ms_ = -1;
    int backoff_s_ = 15;
    bool started_sent_ = false, stopping_ = false, in_flight_ = false;
    AnnounceEvent pending_event_ = AnnounceEvent::none;
    std::function<void()> stop_done_;
    std::string last_message_;
    std::shared_ptr<void> turn_;  // our turn at the tracker (Hooks::wait_turn)
    bool turn_waiting_ = false;
};

}  // namespace btl
