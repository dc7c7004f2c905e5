// Launcher: push-based change tracking.  The rows' caches (Entry::shown,
// its JSON object, the totals, the state counts, the sorted pointers) are
// brought up to date from the rows that changed, never by sweeping them all:
//
//  - a torrent marks itself in the Session whenever what status(false)
//    shows may have moved (Torrent::mark_changed: events, the announcer's
//    hook, and every tick while it is active, so the tick that sees its
//    rates reach 0 marks it once more); take_changed() hands them over;
//  - the launcher marks a row it changes itself (mark_dirty), and asks for
//    a full sweep (order_dirty_, full_refresh_) when rows come, go or are
//    renamed, or the queue order moved (positions shift for many rows);
//  - the live rows (rates or peers, checking, downloading, fetching
//    metadata: what may move with time alone) are built every pass.
//
// An idle launcher therefore builds no row per pass (refresh_visits()
// counts them for the tests), and the status document, the sorted views
// and the RPC's recently-active answer are rebuilt only when a row changed.
#include <algorithm>

#include "btl/engine/session.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl {

namespace {
bool is_live(const Row& r) {
    const TorrentStatus& t = r.st;
    return t.down_rate > 0 || t.up_rate > 0 || t.peers > 0 || t.state == TorrentState::checking ||
           t.state == TorrentState::downloading || t.state == TorrentState::fetching || !t.moving_to.empty();
}
}  // namespace

void Launcher::mark_dirty(const std::string& name) const {
    auto it = files_.find(name);
    if (it == files_.end() || it->second.dirty) return;
    it->second.dirty = true;
    dirty_.push_back(name);
}

void Launcher::feed(const Sha1Digest& ih, bool removed) const {
    feed_.emplace_back(++feed_seq_, RowChange{ih, removed});
    while (feed_.size() > kFeedMax) feed_.pop_front();
}

void Launcher::note_gone(const Entry& e) const {
    if (e.visible && e.shown.loaded) feed(e.shown.st.info_hash, true);
    if (e.visible) {
        count_row(e.shown, -1);
        e.visible = false;
    }
    if (e.live) live_.erase(e.shown.file);
    e.live = false;
    full_refresh_ = true;
}

void Launcher::count_row(const Row& r, int sign) const {
    n_visible_ += sign;
    if (r.loaded) {
        n_loaded_ += sign;
        sum_down_ += sign * r.st.downloaded;
        sum_up_ += sign * r.st.uploaded;
        sum_total_down_ += sign * r.st.total_downloaded;
        sum_total_up_ += sign * r.st.total_uploaded;
        n_paused_ += sign * (r.st.state == TorrentState::stopped);
    } else {
        n_errors_ += sign;
    }
    state_counts_[size_t(r.st.state)] += size_t(sign);  // wraps back for -1
}

void Launcher::visit_row(const std::string& name, const Entry& e) const {
    if (e.seen_pass == pass_) return;
    e.seen_pass = pass_;
    e.dirty = false;
    ++refresh_visits_;
    Row r;
    bool vis = row_for(name, e, r);
    const bool was_torrent = e.visible && e.shown.loaded;
    const Sha1Digest old_ih = e.shown.st.info_hash;
    if (e.visible) count_row(e.shown, -1);
    bool differs = vis != e.visible;
    if (differs) {
        e.visible = vis;
        doc_stale_ = true;
    }
    if (vis) {
        // The views read every field; the JSON is rebuilt only when one it
        // shows changed.
        bool json_differs = !e.json_ok || !same_row_json(r, e.shown);
        e.shown = std::move(r);
        if (json_differs) {
            e.json.clear();
            append_row_json(e.json, e.shown);
            e.json_ok = true;
            doc_stale_ = true;
            differs = true;
        }
        count_row(e.shown, +1);
    }
    const bool is_torrent = vis && e.shown.loaded;
    if (was_torrent && (!is_torrent || !(old_ih == e.shown.st.info_hash))) feed(old_ih, true);
    if (is_torrent && differs) feed(e.shown.st.info_hash, false);
    if (differs) ++rows_version_;
    bool live = vis && is_live(e.shown);
    if (live != e.live) {
        e.live = live;
        if (live) live_.insert(name);
        else live_.erase(name);
        ++rows_version_;
    }
}

void Launcher::full_pass() const {
    if (order_dirty_) {
        sort_order();
        doc_stale_ = true;
    }
    ++pass_;
    changed_buf_.clear();
    s_.take_changed(changed_buf_);  // every row is built anyway
    dirty_.clear();
    full_refresh_ = false;
    for (const auto& [it, key] : order_) {
        const Entry& e = it->second;
        if (key != (e.loaded ? e.torrent_name : it->first)) {
            // Renamed by a reload that did not announce itself: sort again.
            order_dirty_ = true;
            return full_pass();
        }
        visit_row(it->first, e);
    }
    ++rows_version_;
}

void Launcher::changed_pass() const {
    ++pass_;
    changed_buf_.clear();
    s_.take_changed(changed_buf_);
    for (Torrent* t : changed_buf_)
        if (auto o = owner_.find(t->info_hash()); o != owner_.end()) mark_dirty(o->second);
    std::vector<std::string> names;
    names.swap(dirty_);
    for (const auto& name : names)
        if (auto it = files_.find(name); it != files_.end()) visit_row(it->first, it->second);
    // Copy: a visit may take a row off the live list.
    std::vector<std::string> live(live_.begin(), live_.end());
    for (const auto& name : live)
        if (auto it = files_.find(name); it != files_.end()) visit_row(it->first, it->second);
}

void Launcher::sum_live() const {
    totals_ = SessionStatus{};
    totals_.listen_port = s_.listen_port();
    totals_.port_mapping = s_.port_mapping();
    s_.dht_totals(totals_);
    totals_.torrents = size_t(n_loaded_);
    totals_.downloaded = sum_down_;
    totals_.uploaded = sum_up_;
    // Rates and peers are 0 on every row that is not live.
    for (const auto& name : live_) {
        auto it = files_.find(name);
        if (it == files_.end() || !it->second.visible || !it->second.shown.loaded) continue;
        const TorrentStatus& t = it->second.shown.st;
        totals_.down_rate += t.down_rate;
        totals_.up_rate += t.up_rate;
        totals_.peers += size_t(t.peers);
    }
}

void Launcher::refresh(int64_t max_age_ms) const {
    if (order_.size() != files_.size()) order_dirty_ = true;
    int64_t now = int64_t(uv_now(loop_));
    totals_.port_mapping = s_.port_mapping();  // changes with no row changing
    if (!order_dirty_ && !full_refresh_ && refreshed_ms_ >= 0 && now - refreshed_ms_ < max_age_ms) return;
    if (order_dirty_ || full_refresh_) full_pass();
    else changed_pass();
    sum_live();
    refreshed_ms_ = now;
}

const std::vector<const Row*>& Launcher::sorted_rows(SortKey k) const {
    refresh(100);
    if (sorted_version_ == rows_version_ && sorted_key_ == k) return sorted_;
    sorted_.clear();
    sorted_.reserve(order_.size());
    for (const auto& [it, key] : order_)
        if (it->second.visible) sorted_.push_back(&it->second.shown);
    if (k != SortKey::name) sort_rows(sorted_, k);  // order_ is the name order already
    sorted_version_ = rows_version_;
    sorted_key_ = k;
    return sorted_;
}

const std::vector<const Row*>& Launcher::live_rows() const {
    refresh(100);
    if (live_version_ == rows_version_) return live_sorted_;
    live_sorted_.clear();
    for (const auto& name : live_)
        if (auto it = files_.find(name); it != files_.end() && it->second.visible)
            live_sorted_.push_back(&it->second.shown);
    sort_rows(live_sorted_, SortKey::name);
    live_version_ = rows_version_;
    return live_sorted_;
}

size_t Launcher::row_count() const {
    refresh(100);
    return size_t(n_visible_);
}

const std::vector<size_t>& Launcher::state_counts() const {
    refresh(100);
    return state_counts_;
}

bool Launcher::changes_since(uint64_t& cursor, std::vector<RowChange>& out) const {
    refresh(100);
    const bool complete = cursor >= feed_seq_ || (!feed_.empty() && feed_.front().first <= cursor + 1) ||
                          (feed_.empty() && cursor == feed_seq_);
    if (complete) {
        auto from = std::lower_bound(feed_.begin(), feed_.end(), cursor + 1,
                                     [](const auto& c, uint64_t seq) { return c.first < seq; });
        for (auto it = from; it != feed_.end(); ++it) out.push_back(it->second);
    }
    cursor = feed_seq_;
    return complete;
}

Launcher::TorrentCounts Launcher::torrent_counts() const {
    refresh(100);
    TorrentCounts c;
    c.torrents = n_loaded_;
    c.paused = n_paused_;
    c.up_total = sum_total_up_;
    c.down_total = sum_total_down_;
    // A rate or a check makes a row live: only those are looked at.
    for (const auto& name : live_) {
        auto it = files_.find(name);
        if (it == files_.end() || !it->second.visible || !it->second.shown.loaded) continue;
        const TorrentStatus& t = it->second.shown.st;
        c.active += t.state != TorrentState::stopped &&
                    (t.down_rate > 0 || t.up_rate > 0 || t.state == TorrentState::checking);
    }
    return c;
}

const TorrentStatus* Launcher::shown_status(const Sha1Digest& ih) const {
    refresh(100);
    auto o = owner_.find(ih);
    if (o == owner_.end()) return nullptr;
    auto it = files_.find(o->second);
    if (it == files_.end() || !it->second.visible || !it->second.shown.loaded) return nullptr;
    return &it->second.shown.st;
}

SessionStatus Launcher::session_status() const {
    // The views ask every frame: totals of the cached rows (what the table
    // shows), not another status pass over every torrent.
    refresh(100);
    return totals_;
}

uint64_t Launcher::status_json_version() const {
    refresh(0);
    // Compared without the DHT's packet counters (versioned_totals): they
    // move every second with every torrent idle, and alone they are not
    // worth rebuilding and writing the whole document.
    std::string tail;
    append_status_tail(tail, size_t(n_errors_), versioned_totals(totals_));
    if (doc_stale_ || tail != doc_tail_ || doc_version_ == 0) {
        doc_tail_ = std::move(tail);
        doc_stale_ = false;
        ++doc_version_;
    }
    return doc_version_;
}

std::string Launcher::status_json() const {
    // The result is what rows_status_json(rows() sorted by name) gives.
    (void)status_json_version();
    size_t n = 16 + doc_tail_.size();
    for (const auto& [it, key] : order_) n += it->second.json.size() + 1;
    std::string doc;
    doc.reserve(n);
    append_status_head(doc);
    for (const auto& [it, key] : order_) {
        if (!it->second.visible) continue;
        if (doc.back() != '[') doc += ',';
        doc += it->second.json;
    }
    append_status_tail(doc, size_t(n_errors_), totals_);  // the counters as they are now
    return doc;
}

}  // namespace btl
