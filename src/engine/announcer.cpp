#include "btl/engine/announcer.hpp"

#include <algorithm>
#include <chrono>

namespace btl {

int64_t tracker_retry_delay_s(int fails) {
    if (fails < 1) fails = 1;
    if (fails > 8) return 1800;  // 15 * 2^7 already exceeds the cap
    return std::min<int64_t>(int64_t(15) << (fails - 1), 1800);
}

int64_t announce_interval_s(const AnnounceResponse& a) {
    return std::clamp(std::max(a.interval, a.min_interval), kMinInterval, kMaxInterval);
}

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
            if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 && url.rfind("udp://", 0) != 0) {
                e.status = "error: unsupported tracker protocol";
                e.message = "unsupported tracker protocol";
                e.next_ms = kNever;
            }
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

void Announcer::arm(int64_t at_ms) {
    if (!timer_ || stopping_) return;
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
        auto* self = static_cast<Announcer*>(t->data);
        if (!self) return;
        AnnounceEvent ev = AnnounceEvent::none;
        if (!self->started_sent_) {
            ev = AnnounceEvent::started;
        } else if (self->pending_event_ == AnnounceEvent::completed) {
            ev = AnnounceEvent::completed;
            self->pending_event_ = AnnounceEvent::none;
        }
        self->announce(ev);
    }, uint64_t(std::max<int64_t>(0, at_ms - now_ms())), 0);
}

// The timer goes off when the first tracker up to (and including) the working
// one is due: trackers behind the working one are not needed.
void Announcer::schedule_next() {
    if (!timer_ || stopping_) return;
    int64_t next = kNever;
    for (const auto& e : entries_) {
        next = std::min(next, e.next_ms);
        if (e.ok) break;
    }
    if (next == kNever) {
        uv_timer_stop(timer_.get());
        return;
    }
    arm(next);
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
    if (entries_.empty() || in_flight_ || stopping_) return;
    for (auto& e : entries_) {
        if (!e.ok) continue;
        int64_t earliest = e.last_ok_ms + std::max(e.min_interval_s, kMinInterval) * 1000;
        if (earliest < e.next_ms) {
            e.next_ms = earliest;
            schedule_next();
        }
        return;
    }
}

void Announcer::address_changed() {
    if (entries_.empty() || stopping_) return;
    if (in_flight_) {  // that request may carry the old port: announce again once it is answered
        address_dirty_ = true;
        return;
    }
    const int64_t now = int64_t(uv_now(loop_));
    for (auto& e : entries_) {
        if (!e.ok) continue;
        e.next_ms = std::min(e.next_ms, now);
        schedule_next();
        return;
    }
}

void Announcer::stop(uint64_t timeout_ms, std::function<void()> done) {
    bump();
    if (turn_waiting_) {  // the request never went out: nothing to take back
        turn_.reset();
        turn_waiting_ = false;
        in_flight_ = false;
    }
    if (entries_.empty() || !started_sent_) {
        stopping_ = true;
        if (timer_) uv_timer_stop(timer_.get());
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
    try_from(0, ev);
}

// One round: the first tracker from idx on that may be asked now.  Trackers
// backing off after a failure are skipped; reaching the working tracker
// before its interval is up ends a regular round without a request.
void Announcer::try_from(size_t idx, AnnounceEvent ev) {
    int64_t now = now_ms();
    for (; idx < entries_.size(); ++idx) {
        const Entry& e = entries_[idx];
        if (e.next_ms == kNever) continue;
        if (e.next_ms > now) {
            if (!e.ok) continue;
            if (ev == AnnounceEvent::none) return schedule_next();
        }
        return try_entry(idx, ev);
    }
    // Nobody answered: every tracker failed or is backing off.  Try again when
    // the first backoff ends, with the same event.
    if (ev == AnnounceEvent::completed) pending_event_ = ev;
    schedule_next();
}

void Announcer::try_entry(size_t idx, AnnounceEvent ev) {
    if (idx >= entries_.size()) return;
    bump();
    Entry& e = entries_[idx];
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
    AnnounceRequest req = hooks_.make_request();
    // Every tracker hears `started` first, also one that answers only later.
    AnnounceEvent sent = ev != AnnounceEvent::stopped && !e.started_sent ? AnnounceEvent::started : ev;
    req.event = sent;
    req.tracker_id = e.tracker_id;
    if (ev == AnnounceEvent::stopped) req.numwant = 0;
    bool is_udp = e.url.rfind("udp://", 0) == 0;
    e.status = "announcing";
    if (is_udp) {
        if (!udp_) udp_ = std::make_unique<UdpTrackerRequest>(loop_, udp_opts_, udp_cache_);
        // One try when another tracker could answer instead (and for
        // `stopped`, which has its own short deadline); the full BEP 15
        // retransmission only for the last tracker in the list.
        bool others_left = idx + 1 < entries_.size();
        udp_->set_max_tries(others_left || ev == AnnounceEvent::stopped ? 1 : udp_opts_.max_tries);
        udp_->announce(e.url, req, [this, idx, ev, sent](Result<AnnounceResponse> r) {
            on_result(idx, ev, sent, std::move(r));
        });
        return;
    }
    std::string url = build_announce_url(e.url, req);
    if (!http_) http_ = std::make_unique<HttpGet>(loop_, http_opts_);
    http_->start(url, [this, idx, ev, sent](Result<HttpResponse> r) {
        if (!r.ok()) return on_result(idx, ev, sent, r.error());
        if (r->status != 200)
            return on_result(idx, ev, sent, make_error("HTTP status " + std::to_string(r->status)));
        on_result(idx, ev, sent, parse_announce_response(r->body));
    });
}

void Announcer::on_result(size_t idx, AnnounceEvent ev, AnnounceEvent sent, Result<AnnounceResponse> r) {
    in_flight_ = false;
    bump();
    turn_.reset();
    Entry& e = entries_[idx];
    if (ev == AnnounceEvent::stopped) {
        if (timer_) uv_timer_stop(timer_.get());
        if (auto d = std::move(stop_done_)) d();
        return;
    }
    int64_t now = now_ms();
    std::string err;
    if (!r.ok())
        err = r.error().message;
    else if (!r->failure_reason.empty())
        err = "tracker said: " + r->failure_reason;
    if (!err.empty()) {
        address_dirty_ = false;  // the retry is built with the new address
        e.ok = false;
        ++e.fails;
        int64_t retry_s = tracker_retry_delay_s(e.fails);
        e.next_ms = now + retry_s * 1000;
        e.status = "error: " + err;
        e.message = err;
        if (hooks_.on_log)
            hooks_.on_log(LogLevel::warning, "tracker " + e.url + ": " + err + " (retry in " + std::to_string(retry_s) + " s)");
        return try_from(idx + 1, ev);
    }
    AnnounceResponse& a = *r;
    e.ok = true;
    e.fails = 0;
    if (sent == AnnounceEvent::started) e.started_sent = true;
    started_sent_ = true;
    e.seeds = a.complete;
    e.leechers = a.incomplete;
    e.status = a.warning_message.empty() ? "ok" : "warning: " + a.warning_message;
    e.message = a.warning_message;
    if (!a.warning_message.empty() && hooks_.on_log)
        hooks_.on_log(LogLevel::warning, "tracker " + e.url + " warns: " + a.warning_message);
    // The id goes back to this tracker only, and only if it is of a sane
    // size: a liar must not make every later request megabytes long.
    if (!a.tracker_id.empty() && a.tracker_id.size() <= kMaxTrackerIdBytes) e.tracker_id = a.tracker_id;
    e.interval_s = announce_interval_s(a);
    e.min_interval_s = std::clamp<int64_t>(a.min_interval, 0, e.interval_s);
    e.last_ok_ms = now;
    e.next_ms = now + e.interval_s * 1000;
    // BEP 12: the tracker that answered moves to the front of its tier.
    size_t front = idx;
    while (front > 0 && entries_[front - 1].tier == e.tier) --front;
    if (front != idx) std::rotate(entries_.begin() + long(front), entries_.begin() + long(idx), entries_.begin() + long(idx) + 1);
    last_ok_ = front;
    if (hooks_.on_peers && !a.peers.empty()) hooks_.on_peers(a.peers);
    if (ev == AnnounceEvent::completed) pending_event_ = AnnounceEvent::none;  // delivered
    if (pending_event_ == AnnounceEvent::completed) {
        pending_event_ = AnnounceEvent::none;
        return announce(AnnounceEvent::completed);
    }
    if (address_dirty_) {  // the address changed while this request was out
        address_dirty_ = false;
        entries_[front].next_ms = now;
    }
    schedule_next();
}

std::vector<TrackerStatus> Announcer::status(int64_t now) const {
    std::vector<TrackerStatus> out;
    for (const auto& e : entries_) {
        TrackerStatus s;
        s.url = e.url;
        s.status = e.status;
        s.seeds = e.seeds;
        s.leechers = e.leechers;
        s.fails = e.fails;
        s.interval_s = e.interval_s;
        s.next_announce_s = e.next_ms < 0 || e.next_ms == kNever ? -1 : std::max<int64_t>(0, (e.next_ms - now) / 1000);
        // The wall-clock offset is taken once, so the absolute time stays
        // exactly the same from one status to the next.
        static const int64_t wall_offset_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count() - now;
        s.next_announce_at = s.next_announce_s < 0 ? -1 : (std::max(e.next_ms, now) + wall_offset_ms) / 1000;
        out.push_back(std::move(s));
    }
    return out;
}

std::string Announcer::last_message() const {
    for (const auto& e : entries_) {
        if (!e.message.empty()) return e.url + ": " + e.message;
        if (e.ok) break;
    }
    return {};
}

}  // namespace btl
