#include "btl/announcer.hpp"

#include <algorithm>

namespace btl {

Announcer::Announcer(uv_loop_t* loop, std::vector<std::vector<std::string>> tiers, HttpOptions http, Hooks hooks,
                     UdpTrackerOptions udp)
    : loop_(loop), http_opts_(std::move(http)), hooks_(std::move(hooks)), udp_opts_(std::move(udp)) {
    if (udp_opts_.bind_ip.empty()) udp_opts_.bind_ip = http_opts_.bind_ip;
    int t = 0;
    for (auto& tier : tiers) {
        for (auto& url : tier) {
            Entry e;
            e.url = url;
            e.tier = t;
            entries_.push_back(std::move(e));
        }
        ++t;
    }
    http_opts_.timeout_ms = std::min<uint64_t>(http_opts_.timeout_ms, 20'000);
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop_, h); });
    if (timer_) timer_->data = this;
}

Announcer::~Announcer() = default;

int64_t Announcer::now_ms() const { return static_cast<int64_t>(uv_now(loop_)); }

void Announcer::schedule(uint64_t delay_ms) {
    if (!timer_ || stopping_) return;
    next_announce_ms_ = now_ms() + int64_t(delay_ms);
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
        auto* self = static_cast<Announcer*>(t->data);
        if (self) self->announce(self->started_sent_ ? AnnounceEvent::none : AnnounceEvent::started);
    }, delay_ms, 0);
}

void Announcer::start() {
    if (entries_.empty()) return;
    announce(AnnounceEvent::started);
}

void Announcer::completed() {
    if (entries_.empty() || !started_sent_) return;
    announce(AnnounceEvent::completed);
}

void Announcer::want_peers() {
    if (entries_.empty() || in_flight_ || stopping_ || last_success_ms_ < 0) return;
    int64_t earliest = last_success_ms_ + std::max<int64_t>(min_interval_s_, 30) * 1000;
    int64_t delay = std::max<int64_t>(0, earliest - now_ms());
    if (next_announce_ms_ < 0 || now_ms() + delay < next_announce_ms_) schedule(uint64_t(delay));
}

void Announcer::stop(uint64_t timeout_ms, std::function<void()> done) {
    if (turn_waiting_) {  // the request never went out: nothing to take back
        turn_.reset();
        turn_waiting_ = false;
        in_flight_ = false;
    }
    if (entries_.empty() || !started_sent_) {
        stopping_ = true;
        if (done) done();
        return;
    }
    stopping_ = true;
    stop_done_ = std::move(done);
    if (timer_) uv_timer_stop(timer_.get());
    http_.reset();
    udp_.reset();
    turn_.reset();
    in_flight_ = false;
    // Only the tracker that last answered needs the stopped event (with a
    // dead first tier that is not entry 0).
    try_entry(last_ok_ < entries_.size() ? last_ok_ : 0, AnnounceEvent::stopped);
    if (timer_) uv_timer_start(timer_.get(), [](uv_timer_t* t) {
        auto* self = static_cast<Announcer*>(t->data);
        if (!self) return;
        self->http_.reset();
        self->udp_.reset();
        self->turn_.reset();
        self->turn_waiting_ = false;
        if (auto d = std::move(self->stop_done_)) d();
    }, timeout_ms, 0);
}

void Announcer::announce(AnnounceEvent ev) {
    if (entries_.empty() || (stopping_ && ev != AnnounceEvent::stopped)) return;
    if (in_flight_) {
        // A completed event must not be lost behind a regular announce.
        if (ev == AnnounceEvent::completed) pending_event_ = ev;
        return;
    }
    try_entry(0, ev);
}

void Announcer::try_entry(size_t idx, AnnounceEvent ev) {
    if (idx >= entries_.size()) return;
    Entry& e = entries_[idx];
    bool is_udp = e.url.rfind("udp://", 0) == 0;
    if (e.url.rfind("http://", 0) != 0 && !is_udp) {
        e.status = "error: unsupported tracker protocol";
        if (idx + 1 < entries_.size()) return try_entry(idx + 1, ev);
        on_result(idx, ev, make_error("no usable tracker"));
        return;
    }
    in_flight_ = true;
    if (hooks_.wait_turn && !turn_) {
        e.status = "waiting for a turn";
        turn_waiting_ = true;
        turn_ = hooks_.wait_turn(e.url, [this, idx, ev] {
            turn_waiting_ = false;
            try_entry(idx, ev);
        });
        if (turn_) return;
        turn_waiting_ = false;
    }
    e.status = "announcing";
    AnnounceRequest req = hooks_.make_request();
    req.event = ev;
    req.tracker_id = tracker_id_;
    if (ev == AnnounceEvent::stopped) req.numwant = 0;
    if (is_udp) {
        if (!udp_) udp_ = std::make_unique<UdpTrackerRequest>(loop_, udp_opts_, udp_cache_);
        // One try when another tracker could answer instead (and for
        // `stopped`, which has its own short deadline); the full BEP 15
        // retransmission only for the last tracker in the list.
        bool others_left = idx + 1 < entries_.size();
        udp_->set_max_tries(others_left || ev == AnnounceEvent::stopped ? 1 : udp_opts_.max_tries);
        udp_->announce(e.url, req, [this, idx, ev](Result<AnnounceResponse> r) { on_result(idx, ev, std::move(r)); });
        return;
    }
    std::string url = build_announce_url(e.url, req);
    if (!http_) http_ = std::make_unique<HttpGet>(loop_, http_opts_);
    http_->start(url, [this, idx, ev](Result<HttpResponse> r) {
        if (!r.ok()) return on_result(idx, ev, r.error());
        if (r->status != 200)
            return on_result(idx, ev, make_error("HTTP status " + std::to_string(r->status)));
        on_result(idx, ev, parse_announce_response(r->body));
    });
}

void Announcer::on_result(size_t idx, AnnounceEvent ev, Result<AnnounceResponse> r) {
    in_flight_ = false;
    turn_.reset();
    Entry& e = entries_[idx];
    if (ev == AnnounceEvent::stopped) {
        if (timer_) uv_timer_stop(timer_.get());
        if (auto d = std::move(stop_done_)) d();
        return;
    }
    std::string err;
    if (!r.ok())
        err = r.error().message;
    else if (!r->failure_reason.empty())
        err = "tracker said: " + r->failure_reason;
    if (!err.empty()) {
        e.status = "error: " + err;
        ++e.fails;
        last_message_ = e.url + ": " + err;
        if (hooks_.on_log) hooks_.on_log(LogLevel::warning, "tracker " + e.url + ": " + err);
        if (idx + 1 < entries_.size()) return try_entry(idx + 1, ev);
        // Every tracker failed: back off and try again with the same event.
        schedule(uint64_t(backoff_s_) * 1000);
        backoff_s_ = std::min(backoff_s_ * 2, 1800);
        if (ev == AnnounceEvent::completed) pending_event_ = ev;
        return;
    }
    AnnounceResponse& a = *r;
    e.fails = 0;
    e.seeds = a.complete;
    e.leechers = a.incomplete;
    e.status = a.warning_message.empty() ? "ok" : "warning: " + a.warning_message;
    last_message_ = a.warning_message.empty() ? "" : e.url + ": " + a.warning_message;
    if (!a.warning_message.empty() && hooks_.on_log)
        hooks_.on_log(LogLevel::warning, "tracker " + e.url + " warns: " + a.warning_message);
    if (!a.tracker_id.empty()) tracker_id_ = a.tracker_id;
    if (ev == AnnounceEvent::started) started_sent_ = true;
    // BEP 12: the tracker that answered moves to the front of its tier.
    size_t front = idx;
    while (front > 0 && entries_[front - 1].tier == e.tier) --front;
    if (front != idx) std::rotate(entries_.begin() + long(front), entries_.begin() + long(idx), entries_.begin() + long(idx) + 1);
    last_ok_ = front;
    backoff_s_ = 15;
    interval_s_ = std::clamp<int64_t>(a.interval, 30, 86400);
    min_interval_s_ = std::clamp<int64_t>(a.min_interval, 0, interval_s_);
    last_success_ms_ = now_ms();
    if (hooks_.on_peers && !a.peers.empty()) hooks_.on_peers(a.peers);
    if (pending_event_ == AnnounceEvent::completed) {
        pending_event_ = AnnounceEvent::none;
        return announce(AnnounceEvent::completed);
    }
    schedule(uint64_t(interval_s_) * 1000);
}

std::vector<TrackerStatus> Announcer::status(int64_t now) const {
    std::vector<TrackerStatus> out;
    for (const auto& e : entries_) {
        TrackerStatus s;
        s.url = e.url;
        s.status = e.status;
        s.seeds = e.seeds;
        s.leechers = e.leechers;
        s.next_announce_s = next_announce_ms_ < 0 ? -1 : std::max<int64_t>(0, (next_announce_ms_ - now) / 1000);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace btl
