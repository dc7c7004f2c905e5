// Torrent: the queue's hold, seeding goals and per-torrent rate limits.
//
// The queue itself (which torrents may run) belongs to the launcher; a
// torrent only obeys set_queued().  A queued torrent is held before its
// swarm starts (hold_swarm(), the first thing start_swarm() asks), so it
// neither announces nor accepts peers, and keeps its paused flag apart.
//
// Seeding goals: the ratio is uploaded over downloaded (over the data we
// have when we downloaded nothing, as the views show it); idle means no
// payload went out for that long.  Reaching one closes the peers, sends
// `stopped`, and leaves the torrent "finished" (kept in the resume data).
//
// Per-torrent caps are token buckets in front of the host's global ones:
// bytes must pass both; a torrent short of its own tokens asks the host to
// wake it (wait_bandwidth) like one short of global tokens.
#include <algorithm>
#include <cstdio>

#include "btl/engine/torrent.hpp"

namespace btl {

bool Torrent::hold_swarm() {
    if (finished_ && !complete()) finished_ = false;  // data lost since: download again
    if (finished_ || queued_) {
        state_ = finished_ ? TorrentState::finished : TorrentState::queued;
        return true;
    }
    last_down_ms_ = last_up_ms_ = host_.now_ms();
    return false;
}

void Torrent::set_queued(bool q) {
    if (q == queued_) return;
    mark_changed();
    queued_ = q;
    if (q) {
        if (state_ != TorrentState::downloading && state_ != TorrentState::seeding) return;
        close_all_peers("queued");
        if (announcer_) announcer_->stop(3000, nullptr);
        state_ = TorrentState::queued;
        log(LogLevel::info, "queued");
        return;
    }
    if (state_ == TorrentState::queued && !paused_ && !stopping_) {
        log(LogLevel::info, "leaves the queue");
        start_swarm();
    }
}

void Torrent::set_queue_key(int64_t k, bool save_now) {
    if (k == queue_key_) return;
    queue_key_ = k;
    // A move survives a kill -9 right after it.  The key a new torrent gets
    // when it is added waits for the first save that has other reasons: a
    // save then (no pieces yet) would make a restart after a kill trust
    // "no pieces" over the data written since.
    if (!save_now) return;
    resume_dirty_ = true;
    save_resume();
}

void Torrent::set_limits(const TorrentLimits& l) {
    if (l == limits_) return;
    mark_changed();
    const bool goals_changed = l.seed_ratio != limits_.seed_ratio || l.seed_ratio_mode != limits_.seed_ratio_mode ||
                               l.seed_idle_minutes != limits_.seed_idle_minutes ||
                               l.seed_idle_mode != limits_.seed_idle_mode;
    limits_ = l;
    limits_.priority = std::clamp(limits_.priority, -1, 1);
    own_up_.set_rate(limits_.up_limited ? double(limits_.up_limit) : 0);
    own_down_.set_rate(limits_.down_limited ? double(limits_.down_limit) : 0);
    own_up_.refill(host_.now_ms());  // tokens accrue from now
    own_down_.refill(host_.now_ms());
    // New goals apply again, to a run started after finishing too.
    if (goals_changed) goals_waived_ = false;
    resume_dirty_ = true;
    save_resume();
    host_.set_active(id_, true);  // the tick sees the new goals
    on_bandwidth();                // a raised or removed cap takes effect now
}

void Torrent::set_seed_ratio(double r) {
    TorrentLimits l = limits_;
    l.seed_ratio = std::max(0.0, r);
    l.seed_ratio_mode = 1;
    set_limits(l);
}

void Torrent::set_seed_idle_minutes(int64_t m) {
    TorrentLimits l = limits_;
    l.seed_idle_minutes = std::max<int64_t>(0, m);
    l.seed_idle_mode = 1;
    set_limits(l);
}

int64_t Torrent::download_idle_ms() const { return host_.now_ms() - last_down_ms_; }

double Torrent::seed_ratio_goal() const {
    switch (limits_.seed_ratio_mode) {
        case 1: return limits_.seed_ratio;
        case 2: return 0;
        default: return label_seed_ratio_ ? *label_seed_ratio_ : host_.options().seed_ratio;
    }
}

int64_t Torrent::seed_idle_goal_ms() const {
    switch (limits_.seed_idle_mode) {
        case 1: return limits_.seed_idle_minutes * 60'000;
        case 2: return 0;
        default: return host_.options().seed_idle_minutes * 60'000;
    }
}

bool Torrent::goal_watch() const {
    return state_ == TorrentState::seeding && !goals_waived_ && seed_idle_goal_ms() > 0;
}

void Torrent::goals_tick(int64_t now) {
    if (down_meter_.rate(now) > 0) last_down_ms_ = now;
    if (up_meter_.rate(now) > 0) last_up_ms_ = now;
    if (state_ != TorrentState::seeding || goals_waived_ || stopping_) return;
    const double goal = seed_ratio_goal();
    if (goal > 0) {
        const int64_t up = total_up_before_ + payload_up_;
        const int64_t base = std::max(total_down_before_ + payload_down_, have_bytes_);
        if (base > 0 && double(up) >= goal * double(base)) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "seed ratio %.2f reached (goal %.2f)", double(up) / double(base), goal);
            return finish_seeding(buf);
        }
    }
    const int64_t idle = seed_idle_goal_ms();
    if (idle > 0 && now - last_up_ms_ >= idle)
        finish_seeding("nothing uploaded for " + std::to_string(idle / 60'000) + " min (the seeding idle goal)");
}

void Torrent::finish_seeding(const std::string& why) {
    mark_changed();
    finished_ = true;
    state_ = TorrentState::finished;
    log(LogLevel::info, why + "; finished");
    close_all_peers("seeding goal reached");
    if (announcer_) announcer_->stop(3000, nullptr);
    resume_dirty_ = true;
    save_resume();
}

bool Torrent::take_upload(uint32_t bytes) {
    const bool own = limits_.up_limited && limits_.up_limit > 0;
    if (own) {
        own_up_.refill(host_.now_ms());
        if (!own_up_.consume(bytes)) {
            host_.wait_bandwidth(id_);
            return false;
        }
    }
    if (host_.take_upload(bytes, id_)) return true;
    if (own) own_up_.force_consume(-int64_t(bytes));  // not sent: the tokens go back
    return false;
}

bool Torrent::account_down(uint32_t bytes) {
    bool ok = host_.account_download(bytes, id_);
    if (limits_.down_limited && limits_.down_limit > 0) {
        own_down_.refill(host_.now_ms());
        own_down_.force_consume(bytes);
        if (own_down_.available() < 0) {
            host_.wait_bandwidth(id_);
            ok = false;
        }
    }
    return ok;
}

bool Torrent::download_allowed_now() {
    if (!host_.download_allowed()) return false;
    if (!limits_.down_limited || limits_.down_limit <= 0) return true;
    own_down_.refill(host_.now_ms());
    if (own_down_.available() >= 0) return true;
    host_.wait_bandwidth(id_);  // wake again when this torrent's tokens are back
    return false;
}

void Torrent::fill_goal_resume(ResumeData& rd) const {
    rd.queue_key = queue_key_;
    rd.finished = finished_;
    rd.goals_waived = goals_waived_;
    rd.seed_ratio_milli = int64_t(limits_.seed_ratio * 1000 + 0.5);
    rd.seed_ratio_mode = limits_.seed_ratio_mode;
    rd.seed_idle_minutes = limits_.seed_idle_minutes;
    rd.seed_idle_mode = limits_.seed_idle_mode;
    rd.up_limit = limits_.up_limit;
    rd.down_limit = limits_.down_limit;
    rd.up_limited = limits_.up_limited;
    rd.down_limited = limits_.down_limited;
    rd.priority = limits_.priority;
}

void Torrent::load_goal_resume(const ResumeData& rd) {
    resumed_ = true;
    queue_key_ = rd.queue_key;
    finished_ = rd.finished;
    goals_waived_ = rd.goals_waived;
    TorrentLimits l;
    l.seed_ratio = double(rd.seed_ratio_milli) / 1000.0;
    l.seed_ratio_mode = int(rd.seed_ratio_mode);
    l.seed_idle_minutes = rd.seed_idle_minutes;
    l.seed_idle_mode = int(rd.seed_idle_mode);
    l.up_limit = rd.up_limit;
    l.down_limit = rd.down_limit;
    l.up_limited = rd.up_limited;
    l.down_limited = rd.down_limited;
    l.priority = int(rd.priority);
    limits_ = l;
    own_up_.set_rate(l.up_limited ? double(l.up_limit) : 0);
    own_down_.set_rate(l.down_limited ? double(l.down_limit) : 0);
}

}  // namespace btl
