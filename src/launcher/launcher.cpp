#include "btl/launcher/launcher.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "btl/engine/session.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/remove_data.hpp"

namespace btl {

Launcher::Launcher(uv_loop_t* loop, Session& s, LogBook& log, LauncherOptions opt)
    : loop_(loop), s_(s), log_(log), opt_(std::move(opt)) {
    if (opt_.save_in.empty()) opt_.save_in = opt_.dir;
}

Launcher::~Launcher() = default;

Status Launcher::start() {
    watch_ = std::make_unique<WatchDir>(loop_, opt_.dir, this, opt_.quiet_ms, opt_.parse_dir_interval_ms);
    start_queue();
    return watch_->start();
}

void Launcher::shutdown(std::function<void()> done) {
    if (watch_) watch_->stop();
    if (queue_timer_) uv_timer_stop(queue_timer_.get());
    s_.shutdown(std::move(done));
}

void Launcher::on_watch_error(const std::string& message) { log_.log(LogLevel::error, "", message); }

void Launcher::on_file_ready(const std::string& name, const std::string& path, FileStamp) {
    Entry& e = files_[name];
    e.path = path;
    ++e.gen;
    parse(name);
}

void Launcher::parse(const std::string& name) {
    Entry& e = files_[name];
    stop_fetch(e);  // a .magnet edited while fetching: start over with the new link
    if (is_magnet_file(name)) return load_magnet(name);
    e.busy = true;
    parse_wait_.emplace_back(name, e.gen);
    pump_parses();
}

void Launcher::pump_parses() {
    // A .torrent is read and parsed on the thread pool: a big one (100k
    // files) takes milliseconds to validate, which the loop must not spend.
    // Up to kParseBatch files per job: one job each made 100,000 files
    // 100,000 pool round trips.
    while (parses_in_flight_ < kParsesInFlight && !parse_wait_.empty()) {
        std::vector<std::pair<std::string, uint64_t>> batch;
        std::vector<std::string> paths;
        while (batch.size() < kParseBatch && !parse_wait_.empty()) {
            auto [name, gen] = std::move(parse_wait_.front());
            parse_wait_.pop_front();
            auto it = files_.find(name);
            if (it == files_.end() || it->second.gen != gen) continue;  // removed or changed meanwhile
            paths.push_back(it->second.path);
            batch.emplace_back(std::move(name), gen);
        }
        if (batch.empty()) continue;
        ++parses_in_flight_;
        Status queued = queue_job(
            loop_, jobs_.token(),
            [paths = std::move(paths)] {
                std::vector<Result<Metainfo>> out;
                out.reserve(paths.size());
                for (const auto& p : paths) out.push_back(load_metainfo_file(p));
                return out;
            },
            [this, batch](Result<std::vector<Result<Metainfo>>> r) {
                --parses_in_flight_;
                for (size_t i = 0; i < batch.size(); ++i)
                    on_parsed(batch[i].first, batch[i].second,
                              r.ok() && i < r->size() ? std::move((*r)[i]) : Result<Metainfo>(make_error("cancelled")));
                pump_parses();
            });
        if (!queued.ok()) {
            --parses_in_flight_;
            for (const auto& [name, gen] : batch) on_parsed(name, gen, queued.error());
        }
    }
}

void Launcher::on_parsed(const std::string& name, uint64_t gen, Result<Metainfo> mi) {
    auto it = files_.find(name);
    if (it == files_.end() || it->second.gen != gen) return;  // removed or changed again meanwhile
    Entry& e = it->second;
    if (!mi.ok()) {
        // The old torrent (if any) keeps running: a botched edit of a
        // .torrent should not stop a download; the row shows the error.
        e.busy = false;
        e.error = mi.error().describe();
        if (!e.loaded) e.has_ih = false;
        log_.log(LogLevel::error, "", name + ": " + e.error);
        rows_changed();
        return;
    }
    if (e.loaded) {
        // Changed file: stop the old torrent, then add the new one.
        Sha1Digest old = e.ih;
        queue_forget(e, false);
        e.loaded = false;
        e.torrent = nullptr;
        taken_.remove(e.save_path);
        owner_.erase(old);
        log_.log(LogLevel::info, e.torrent_name, name + " changed; reloading");
        auto shared = std::make_shared<Metainfo>(std::move(*mi));
        s_.remove_torrent(old, [this, alive = jobs_.token(), name, gen, shared, old] {
            if (alive.expired()) return;
            auto it2 = files_.find(name);
            if (it2 != files_.end() && it2->second.gen == gen) add(name, std::move(*shared));
            if (!(shared->info_hash == old)) promote_duplicate(old);
        });
        return;
    }
    add(name, std::move(*mi));
}

void Launcher::add(const std::string& name, Metainfo mi) {
    Entry& e = files_[name];
    e.busy = false;
    e.error.clear();
    e.duplicate_of.clear();
    e.ih = mi.info_hash;
    e.has_ih = true;
    e.torrent_name = mi.name;
    if (auto o = owner_.find(mi.info_hash); o != owner_.end() && o->second != name) {
        e.duplicate_of = o->second;
        e.error = "duplicate of " + o->second;
        log_.log(LogLevel::warning, mi.name, name + ": " + e.error);
        rows_changed();
        return;
    }
    for (const auto& w : mi.warnings) log_.log(LogLevel::warning, mi.name, name + ": " + w);
    AddTorrentParams p;
    Placement pl = place_torrent(opt_, e.save_in, name, mi.name, taken_);  // save_in, labels, places
    p.save_path = pl.save_path;
    p.final_path = pl.final_path;
    p.label = pl.label;
    p.paused = e.start_paused;
    p.queued = queue_wanted();  // the queue pass lets it run if a slot is free
    e.start_paused = false;
    p.select_only = e.select_only;
    std::string tname = mi.name;
    p.metainfo = std::move(mi);
    std::string save = p.save_path;
    auto r = s_.add_torrent(std::move(p));
    if (!r.ok()) {
        e.error = r.error().message;
        log_.log(LogLevel::error, tname, name + ": " + e.error);
        rows_changed();
        return;
    }
    e.loaded = true;
    e.torrent = *r;
    e.torrent->set_label_seed_ratio(pl.seed_ratio);
    e.save_path = save;
    taken_.add(save);
    e.seq = next_seq_++;
    owner_[e.ih] = name;
    log_.log(LogLevel::info, tname, "added " + name + ", saving to " + save);
    after_add(name, e);
    rows_changed();
}

void Launcher::on_file_removed(const std::string& name) {
    auto it = files_.find(name);
    if (it == files_.end()) return;
    note_gone(it->second);
    Entry e = std::move(it->second);
    files_.erase(it);
    order_dirty_ = true;  // order_ holds iterators into files_
    refreshed_ms_ = -1;
    if (e.fetching) log_.log(LogLevel::info, e.torrent_name, "removed " + name + " (metadata fetch stopped)");
    stop_fetch(e);
    if (!e.loaded) {
        if (e.has_ih || !e.error.empty()) log_.log(LogLevel::info, "", name + " removed");
        rows_changed();
        return;
    }
    queue_forget(e, true);
    owner_.erase(e.ih);
    taken_.remove(e.save_path);
    Sha1Digest ih = e.ih;
    std::string tname = e.torrent_name;
    s_.remove_torrent(ih, [this, alive = jobs_.token(), ih, name, tname] {
        if (alive.expired()) return;
        log_.log(LogLevel::info, tname, "removed " + name + " (data kept)");
        rows_changed();
        promote_duplicate(ih);
    });
}

bool Launcher::remove(const std::string& name, bool delete_data) {
    auto it = files_.find(name);
    if (it == files_.end()) return false;
    note_gone(it->second);
    Entry e = std::move(it->second);
    files_.erase(it);  // the watcher's later on_file_removed finds nothing
    order_dirty_ = true;
    stop_fetch(e);
    const bool owned = e.loaded;
    const std::string tname = owned ? e.torrent_name : name;
    const std::string data = owned && delete_data ? e.save_path : std::string();
    if (owned) {
        queue_forget(e, true);
        owner_.erase(e.ih);
        taken_.remove(e.save_path);
    }
    // After the torrent has stopped (its files closed): rename, delete.
    auto finish = [this, alive = jobs_.token(), name, tname, from = e.path, data, ih = e.ih, owned] {
        if (alive.expired()) return;
        auto work = [from, data, root = opt_.save_in]() -> Result<std::string> {
            std::string to = from + ".removed";
            if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
                return make_error("cannot rename " + from + " to " + to + ": " + std::strerror(errno) +
                                  "; it loads again at the next start");
            if (data.empty()) return std::string(" (data kept); the file is now ") + to;
            if (Status r = remove_torrent_data(root, data); !r.ok()) return r.error();
            return " and deleted " + data + "; the file is now " + to;
        };
        auto done = [this, name, tname, ih, owned](Result<std::string> r) {
            if (r.ok()) log_.log(LogLevel::info, tname, "removed " + name + *r);
            else log_.log(LogLevel::error, tname, "removing " + name + ": " + r.error().message);
            rows_changed();
            if (owned) promote_duplicate(ih);
        };
        if (Status q = queue_job(loop_, jobs_.token(), std::move(work), done); !q.ok()) done(q.error());
    };
    if (owned) s_.remove_torrent(e.ih, std::move(finish));
    else finish();
    rows_changed();
    return true;
}

RateLimits Launcher::rate_limits() const {
    return {s_.options().max_upload_rate, s_.options().max_download_rate};
}

void Launcher::set_rate_limits(RateLimits r) {
    r.up = std::max<int64_t>(0, r.up);
    r.down = std::max<int64_t>(0, r.down);
    s_.set_rate_limits(r.up, r.down);
    log_.log(LogLevel::info, "", "rate limits: download " + rate_limit_text(r.down) + ", upload " + rate_limit_text(r.up));
}

std::string rate_limit_text(int64_t bytes_s) {
    return bytes_s > 0 ? std::to_string(bytes_s / 1000) + " kB/s" : std::string("unlimited");
}

int64_t next_rate_step(int64_t now, bool up) {
    static constexpr int64_t kSteps[] = {10'000, 20'000, 50'000, 100'000, 200'000, 500'000, 1'000'000,
                                         2'000'000, 5'000'000, 10'000'000, 20'000'000, 50'000'000, 100'000'000};
    const int64_t top = kSteps[std::size(kSteps) - 1];
    if (up) {
        if (now <= 0) return 0;
        for (int64_t s : kSteps)
            if (s > now) return s;
        return 0;  // past the top step: unlimited
    }
    if (now <= 0) return top;
    if (now <= kSteps[0]) return now;  // below the ladder: already as low as it goes
    int64_t below = kSteps[0];
    for (int64_t s : kSteps)
        if (s < now) below = s;
    return below;
}

void Launcher::promote_duplicate(const Sha1Digest& ih) {
    if (owner_.count(ih)) return;
    for (auto& [name, e] : files_) {
        if (e.has_ih && e.ih == ih && !e.duplicate_of.empty() && !e.busy) {
            // Parse again rather than keep every duplicate's Metainfo around.
            ++e.gen;
            parse(name);
            return;
        }
    }
}

bool Launcher::row_for(const std::string& name, const Entry& e, Row& r) const {
    r = Row{};
    r.file = name;
    if (e.fetching) return magnet_row(e, r);
    if (e.loaded) {
        Torrent* t = e.torrent;
        if (!t) return false;
        r.loaded = true;
        r.st = t->status(false);
        r.st.queue_position = queue_.position(e.ih);
        r.added_seq = e.seq;
        // A failed reparse of a running torrent's file: show it, keep running.
        if (!e.error.empty() && r.st.error.empty()) r.st.error = name + ": " + e.error;
        return true;
    }
    if (e.error.empty()) return false;  // still parsing or being reloaded
    r.st.name = name;
    r.st.state = TorrentState::error;
    r.st.error = e.error;
    if (e.has_ih) r.st.info_hash = e.ih;
    return true;
}

std::vector<Row> Launcher::rows() const {
    std::vector<Row> out;
    out.reserve(files_.size());
    Row r;
    for (const auto& [name, e] : files_)
        if (row_for(name, e, r)) out.push_back(std::move(r));
    return out;
}

bool Launcher::detail(const Sha1Digest& ih, TorrentStatus& out) const {
    Torrent* t = s_.find(ih);
    if (!t) return false;
    out = t->status(true);
    return true;
}

void Launcher::toggle_pause(const Sha1Digest& ih) {
    Torrent* t = s_.find(ih);
    if (!t) return;
    // Ask the flag, not the displayed state: a paused torrent that is still
    // checking or in error shows those states, and must still resume.
    refreshed_ms_ = -1;
    if (t->paused() || t->finished()) {
        t->resume();
        log_.log(LogLevel::info, t->metainfo().name, "resumed");
    } else {
        t->pause();
        log_.log(LogLevel::info, t->metainfo().name, "paused");
    }
}

void Launcher::recheck(const Sha1Digest& ih) {
    if (Torrent* t = s_.find(ih)) {
        refreshed_ms_ = -1;
        t->recheck();
        log_.log(LogLevel::info, t->metainfo().name, "re-check requested");
    }
}

}  // namespace btl
