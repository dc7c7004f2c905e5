// Announcer: one torrent's conversation with its trackers (BEP 3 announces,
// BEP 12 tiers).  Trackers are tried tier by tier, in order; one that answers
// moves to the front of its tier and becomes the working tracker.  Events:
// `started` on a tracker's first announce, `completed` when the download
// finishes, `stopped` on shutdown (to the tracker that answered last).
// Everything runs on the loop thread; the torrent supplies the counters.
//
// Each tracker has its own schedule:
// - after an answer, the next regular announce is due after the tracker's
//   interval, clamped by announce_interval_s() (never sooner than its min
//   interval, never more often than kMinInterval, never rarer than
//   kMaxInterval: a lying tracker can neither make us hammer it nor silence
//   us for weeks);
// - after a failure (no answer, garbage, a "failure reason", an HTTP error)
//   it is retried after tracker_retry_delay_s(fails): 15 s doubling to
//   30 min, and meanwhile the next tracker in the list is asked.  A failing
//   tracker ahead of the working one keeps being retried on that schedule,
//   so a primary that comes back is used again, and a tracker that keeps
//   failing costs one request per backoff step, not one per announce.
//
// An HTTP announce is bounded by HttpGet: 20 s in total (connect, up to 3
// redirects, the whole body; a server dripping bytes does not extend it) and
// 4 MiB ("response too large").  Peers per answer are capped at 1000 by
// core/tracker_client_codec; the torrent caps what it queues and remembers.
// A tracker id longer than 256 bytes is not echoed; an id goes back only to the
// tracker that sent it.
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

#include "btl/base/uv_util.hpp"
#include "btl/core/tracker_client_codec.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/net/http_client.hpp"
#include "btl/net/udp_tracker_client.hpp"

namespace btl {

// Seconds before retrying a tracker that has failed `fails` (>= 1) times in a
// row: 15, 30, 60, ... capped at 1800.
int64_t tracker_retry_delay_s(int fails);
// Seconds until the next regular announce after an answer: the interval,
// raised to the tracker's min interval, within [kMinInterval, kMaxInterval].
int64_t announce_interval_s(const AnnounceResponse& a);

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
        // Optional: called whenever generation() moves, so an owner can note
        // the change without reading the announcer back (10,000 idle
        // torrents: one cache miss fewer each per status sweep).
        std::function<void()> on_change;
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
    // The port trackers should give out changed (mapped on the gateway):
    // the working tracker hears it now, not at the next interval.
    void address_changed();

    std::vector<TrackerStatus> status(int64_t now_ms) const;
    // One line for a status row: the working tracker's warning, else the
    // error of a tracker tried before it (or of every tracker), else "".
    std::string last_message() const;
    bool has_trackers() const { return !entries_.empty(); }
    // Changes whenever status() or last_message() may have (views use it to
    // skip rows that did not change).
    uint64_t generation() const { return gen_; }

private:
    void bump() {
        ++gen_;
        if (hooks_.on_change) hooks_.on_change();
    }

public:

private:
    static constexpr int64_t kNever = INT64_MAX;
    uint64_t gen_ = 0;
    struct Entry {
        std::string url;
        int tier = 0;
        std::string status = "not contacted";
        std::string message;          // last error or warning, "" when fine
        int64_t seeds = -1, leechers = -1;
        int fails = 0;                // failures in a row
        bool ok = false;              // its last announce was answered
        bool started_sent = false;
        int64_t next_ms = -1;         // not to be announced to (event none) before this
        int64_t last_ok_ms = -1;
        int64_t interval_s = -1, min_interval_s = 0;
        std::string tracker_id;       // echoed to this tracker (BEP 3 "tracker id")
    };
    static constexpr size_t kMaxTrackerIdBytes = 256;
    void schedule_next();
    void arm(int64_t at_ms);
    void announce(AnnounceEvent ev);
    void try_from(size_t idx, AnnounceEvent ev);
    void try_entry(size_t idx, AnnounceEvent ev);
    void on_result(size_t idx, AnnounceEvent ev, AnnounceEvent sent, Result<AnnounceResponse> r);
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
    size_t last_ok_ = 0;  // entry that answered last: it gets `stopped`
    int64_t timer_at_ms_ = -1;
    bool started_sent_ = false, stopping_ = false, in_flight_ = false;
    bool address_dirty_ = false;  // address_changed() while a request was in flight
    AnnounceEvent pending_event_ = AnnounceEvent::none;
    std::function<void()> stop_done_;
    std::shared_ptr<void> turn_;  // our turn at the tracker (Hooks::wait_turn)
    bool turn_waiting_ = false;
};

}  // namespace btl
