// Launcher: the queue (which torrents may run, in what order), per-torrent
// limits set from the views and RPC, and the hooks.
//
// The queue lives here, not in the Session: the launcher owns the set of
// torrents and their rows (the order shows in the views and over RPC),
// btdownloadheadless runs one torrent and needs none, and the Session stays
// a mechanism (Torrent::set_queued) without a policy.  A pass runs once a
// second and at once after a torrent is added or moved; it visits every
// torrent only while a limit is set, a torrent is held, or an on_complete
// hook is configured, so a launcher without them costs nothing here.
#include <algorithm>
#include <cstdio>

#include "btl/engine/session.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl {

namespace {

void on_queue_timer(uv_timer_t* t) {
    if (auto* l = static_cast<Launcher*>(t->data)) l->queue_pass();
}

}  // namespace

bool Launcher::queue_wanted() const { return opt_.queue.max_downloads > 0 || opt_.queue.max_seeds > 0; }

void Launcher::start_queue() {
    hooks_ = std::make_unique<HookRunner>(
        loop_, [this](LogLevel l, const std::string& t, const std::string& m) { log_.log(l, t, m); },
        opt_.hook_timeout_ms);
    queue_timer_ = UvHandle<uv_timer_t>::create([this](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    if (!queue_timer_) return;
    queue_timer_->data = this;
    uv_timer_start(queue_timer_.get(), on_queue_timer, 1000, 1000);
}

void Launcher::queue_pass_soon() {
    if (!queue_timer_) return queue_pass();
    // Never postponed by more adds: only brought forward, and no sooner than
    // the last pass's cost allows (kQueuePassCostFactor).
    uint64_t soon = std::max<uint64_t>(kQueueSoonMs, queue_pass_cost_ns_ * kQueuePassCostFactor / 1'000'000);
    if (uv_timer_get_due_in(queue_timer_.get()) > soon) uv_timer_start(queue_timer_.get(), on_queue_timer, soon, 1000);
}

void Launcher::run_hook(const char* event, const std::string& cmd, const TorrentStatus& st) {
    if (cmd.empty() || !hooks_) return;
    hooks_->run(event, cmd, st.name, hook_env(st, st.label));
}

void Launcher::after_add(const std::string&, Entry& e) {
    Torrent* t = e.torrent;
    int64_t key = queue_.add(e.ih, t->queue_key());
    t->set_queue_key(key, false);
    mark_all();  // queue positions shift
    e.completions_seen = t->completions();
    // Only a torrent new to this data dir: a restart loads the others again.
    if (!t->resumed()) run_hook("on_added", opt_.on_added, t->status(false));
    if (queue_wanted() || t->queued()) {
        queue_busy_ = true;
        queue_pass_soon();
    }
}

void Launcher::queue_forget(Entry& e, bool removed) {
    if (!e.loaded || !e.torrent) return;
    queue_.remove(e.ih);
    mark_all();  // the positions after it shift
    if (removed) run_hook("on_removed", opt_.on_removed, e.torrent->status(false));
}

void Launcher::queue_pass() {
    if (!queue_busy_ && !queue_wanted() && opt_.on_complete.empty()) return;
    const uint64_t started_ns = uv_hrtime();
    std::vector<QueueItem> items;
    std::vector<Torrent*> torrents;
    items.reserve(queue_.size());
    torrents.reserve(queue_.size());
    const auto& order = queue_.order();
    if (queue_torrents_version_ != queue_.version() || queue_torrents_.size() != order.size()) {
        // The session's hash table, not the file-name maps; once per change.
        queue_torrents_.clear();
        queue_torrents_.reserve(order.size());
        bool all = true;
        for (const auto& [key, ih] : order) {
            queue_torrents_.push_back(s_.find(ih));
            all = all && queue_torrents_.back();
        }
        queue_torrents_version_ = all ? queue_.version() : UINT64_MAX;  // a gap: look again next pass
    }
    size_t at = 0;
    for (const auto& [key, ih] : order) {
        Torrent* t = queue_torrents_[at++];
        if (!t) continue;
        if (t->completions() > 0 && !opt_.on_complete.empty()) {
            auto own = owner_.find(ih);
            auto f = own == owner_.end() ? files_.end() : files_.find(own->second);
            if (f != files_.end() && t->completions() > f->second.completions_seen) {
                f->second.completions_seen = t->completions();
                run_hook("on_complete", opt_.on_complete, t->status(false));
            }
        }
        QueueItem q;
        TorrentState s = t->state();
        const bool held = s == TorrentState::queued;
        if (!t->paused() && (held || s == TorrentState::downloading || s == TorrentState::seeding))
            q.want = t->complete() ? QueueItem::Want::seed : QueueItem::Want::download;
        q.running = !held;
        q.stalled = q.running && t->download_idle_ms() >= opt_.queue_stalled_ms;
        items.push_back(q);
        torrents.push_back(t);
    }
    auto run = queue_decide(items, opt_.queue);
    bool busy = false;
    for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].want == QueueItem::Want::nothing) {
            busy = busy || torrents[i]->queued();
            continue;
        }
        if (run[i] == items[i].running) {
            busy = busy || !run[i];
            continue;
        }
        torrents[i]->set_queued(!run[i]);
        busy = busy || !run[i];
        refreshed_ms_ = -1;
    }
    queue_busy_ = busy;
    queue_pass_cost_ns_ = uv_hrtime() - started_ns;
}

bool Launcher::queue_move(const Sha1Digest& ih, QueueMove m) {
    auto own = owner_.find(ih);
    if (own == owner_.end() || !queue_.contains(ih)) return false;
    for (const auto& [h, key] : queue_.move(ih, m))
        if (Torrent* t = s_.find(h)) t->set_queue_key(key);
    static const char* const kWhere[] = {"to the top", "up", "down", "to the bottom"};
    if (Torrent* t = s_.find(ih))
        log_.log(LogLevel::info, t->metainfo().name,
                 std::string("moved ") + kWhere[int(m)] + " in the queue (position " +
                     std::to_string(queue_.position(ih) + 1) + " of " + std::to_string(queue_.size()) + ")");
    refreshed_ms_ = -1;
    mark_all();  // every position between the old and the new place moved
    queue_busy_ = true;
    queue_pass();
    return true;
}

void Launcher::set_queue_limits(QueueLimits q) {
    opt_.queue.max_downloads = std::max(0, q.max_downloads);
    opt_.queue.max_seeds = std::max(0, q.max_seeds);
    queue_busy_ = true;
    queue_pass();
}

void Launcher::start_torrent(const Sha1Digest& ih) {
    Torrent* t = s_.find(ih);
    if (t && (t->paused() || t->finished())) toggle_pause(ih);
}

bool Launcher::set_torrent_limits(const Sha1Digest& ih, const TorrentLimits& l) {
    Torrent* t = s_.find(ih);
    if (!t) return false;
    if (t->limits() == l) return true;
    t->set_limits(l);
    refreshed_ms_ = -1;
    auto mode = [](int m, const std::string& own) {
        return m == 1 ? own : m == 2 ? std::string("unlimited") : std::string("global");
    };
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.2f", l.seed_ratio);
    log_.log(LogLevel::info, t->metainfo().name,
             "limits: download " + (l.down_limited ? rate_limit_text(l.down_limit) : std::string("unlimited")) +
                 ", upload " + (l.up_limited ? rate_limit_text(l.up_limit) : std::string("unlimited")) +
                 ", priority " + std::to_string(l.priority) + ", seed ratio " + mode(l.seed_ratio_mode, ratio) +
                 ", seed idle " + mode(l.seed_idle_mode, std::to_string(l.seed_idle_minutes) + " min"));
    queue_busy_ = true;  // a goal changed: the pass sees a finished torrent come back
    return true;
}

}  // namespace btl
