#include "btl/launcher/watch_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <iterator>
#include <set>

#include "btl/launcher/labels.hpp"

namespace btl {

bool watched_name(const std::string& name) {
    if (wanted_watch_name(name)) return true;
    // A *.magnet file (one magnet link, as some browsers and sites save
    // them, Transmission's convention) is delivered too.  Same exclusions as
    // for .torrent: dotfiles and half-written names are not ours.
    static const std::string ext = ".magnet";
    if (name.size() <= ext.size() || name[0] == '.') return false;
    if (name.compare(name.size() - ext.size(), ext.size(), ext) != 0) return false;
    return wanted_watch_name(name.substr(0, name.size() - ext.size()) + ".torrent");
}

// What a stat of one watched file found: `result` 0 or -errno.
struct WatchDir::Look {
    int result = 0;
    bool regular = false;
    FileStamp fs;
};

namespace {

WatchDir::Look look_from(int rc, const struct stat& st) {
    WatchDir::Look l;
    if (rc != 0) {
        l.result = -errno;
        return l;
    }
    l.regular = S_ISREG(st.st_mode);
    l.fs = FileStamp{int64_t(st.st_size), int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + int64_t(st.st_mtim.tv_nsec)};
    return l;
}

}  // namespace

WatchDir::WatchDir(uv_loop_t* loop, std::string dir, Handler* h, int64_t quiet_ms, int64_t rescan_ms)
    : loop_(loop), dir_(std::move(dir)), h_(h), rescan_ms_(rescan_ms), queue_(quiet_ms) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

WatchDir::~WatchDir() { stop(); }

Status WatchDir::start() {
    int err = 0;
    event_ = UvHandle<uv_fs_event_t>::create([&](uv_fs_event_t* h) { return uv_fs_event_init(loop_, h); }, &err);
    if (!event_) return make_error(dir_ + ": " + uv_error_string(err));
    event_->data = this;
    err = uv_fs_event_start(
        event_.get(),
        [](uv_fs_event_t* h, const char* filename, int, int status) {
            auto* self = static_cast<WatchDir*>(h->data);
            if (!self) return;
            // An error from the watch (e.g. queue overflow): a rescan recovers.
            self->on_event(status < 0 ? nullptr : filename);
        },
        dir_.c_str(), 0);
    if (err < 0) return make_error(dir_ + ": cannot watch: " + uv_error_string(err));
    ready_timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop_, h); });
    ready_timer_->data = this;
    rescan_timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop_, h); });
    rescan_timer_->data = this;
    if (rescan_ms_ > 0)
        uv_timer_start(
            rescan_timer_.get(),
            [](uv_timer_t* t) {
                if (auto* self = static_cast<WatchDir*>(t->data)) self->periodic_rescan();
            },
            uint64_t(rescan_ms_), uint64_t(rescan_ms_));
    rescan();
    return Ok{};
}

void WatchDir::stop() {
    stopped_ = true;
    subs_.clear();
    event_.reset();
    ready_timer_.reset();
    rescan_timer_.reset();
}

void WatchDir::on_event(const char* filename) {
    if (stopped_) return;
    if (!filename) return rescan();
    std::string name(filename);
    if (watched_name(name)) stat_file(name, false);
    // A new subdirectory (a label) shows up in a scan.
    else if (valid_label(name) && name.find('.') == std::string::npos) rescan();
}

// What one scan found: the watched files of the directory and of its
// subdirectories ("SUB/x.torrent"), and the subdirectories.
// Each file is stated in the same pool job (following links, as a single
// stat does): 100,000 files were 100,000 pool round trips before the first
// could be confirmed.
struct WatchDir::ScanResult {
    int error = 0;  // of the top directory; a subdirectory that fails is skipped
    std::map<std::string, Look> files;
    std::vector<std::string> subdirs;
    std::map<std::string, DirStamp> stamps;  // each directory's, taken before it was listed
};

namespace {

// Blocking (the pool).  A stamp whose mtime is within kRacyMs of the wall
// clock is not trusted: an entry made later in the same clock tick would
// leave it as it is.
WatchDir::DirStamp dir_stamp(const std::string& path) {
    WatchDir::DirStamp d;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return d;
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    int64_t age_ms = (int64_t(wall.tv_sec) * 1'000'000'000 + wall.tv_nsec - mtime) / 1'000'000;
    if (age_ms < WatchDir::kRacyMs) return d;
    d.ino = int64_t(st.st_ino);
    d.mtime_ns = mtime;
    d.ctime_ns = int64_t(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    return d;
}

bool is_file_entry(int dfd, const dirent* d) {
    if (d->d_type == DT_REG || d->d_type == DT_LNK) return true;
    if (d->d_type != DT_UNKNOWN) return false;
    struct stat st {};
    return fstatat(dfd, d->d_name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

bool is_dir_entry(int dfd, const dirent* d) {
    if (d->d_type == DT_DIR) return true;
    if (d->d_type != DT_UNKNOWN) return false;
    struct stat st {};
    return fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

// Blocking (the pool): one level of subdirectories, never through a link.
int list_dir(const std::string& path, const std::string& prefix, std::map<std::string, WatchDir::Look>& files,
             std::vector<std::string>* subdirs) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return -errno;
    while (const dirent* e = ::readdir(d)) {
        std::string name(e->d_name);
        if (watched_name(name) && is_file_entry(dirfd(d), e)) {
            struct stat st {};
            int rc = ::fstatat(dirfd(d), e->d_name, &st, 0);
            files[prefix + name] = look_from(rc, st);
        } else if (subdirs && valid_label(name) && is_dir_entry(dirfd(d), e)) subdirs->push_back(name);
    }
    ::closedir(d);
    return 0;
}

}  // namespace

void WatchDir::rescan() {
    if (stopped_) return;
    if (scanning_) {
        rescan_again_ = true;
        return;
    }
    scanning_ = true;
    ++listings_;
    auto work = [dir = dir_] {
        ScanResult r;
        r.stamps[""] = dir_stamp(dir);
        r.error = list_dir(dir, "", r.files, &r.subdirs);
        std::sort(r.subdirs.begin(), r.subdirs.end());
        for (const auto& sub : r.subdirs) {
            r.stamps[sub] = dir_stamp(dir + "/" + sub);
            list_dir(dir + "/" + sub, sub + "/", r.files, nullptr);
        }
        return r;
    };
    Status q = queue_job(loop_, jobs_.token(), std::move(work), [this](Result<ScanResult> r) {
        if (!r.ok()) {
            ScanResult failed;
            failed.error = UV_ECANCELED;
            return on_scan_result(std::move(failed));
        }
        on_scan_result(std::move(*r));
    });
    if (!q.ok()) {
        scanning_ = false;
        h_->on_watch_error(dir_ + ": cannot scan: " + q.error().message);
    }
}

void WatchDir::on_scan_result(ScanResult r) {
    scanning_ = false;
    if (stopped_) return;
    if (r.error < 0) {
        // Reported once per outage, not on every rescan.
        if (!reported_scan_error_) h_->on_watch_error(dir_ + ": cannot scan: " + uv_error_string(r.error));
        reported_scan_error_ = true;
    } else {
        reported_scan_error_ = false;
        dir_stamps_ = std::move(r.stamps);
        sync_sub_watches(r.subdirs);
        // Sorted order: a restart with the same directory loads files in the
        // same order, so saveas collisions resolve the same way.  A file
        // whose own stat is out (an event) is left to that stat.
        batch_looks_ = true;  // the timer is armed once, after every look
        for (const auto& [name, look] : r.files) {
            if (stopped_) break;
            if (!stat_queued_.count({name, false})) on_look(name, false, look);
        }
        batch_looks_ = false;
        arm_timer();
        for (const auto& name : queue_.names())
            if (!r.files.count(name) && queue_.forget(name) && !stopped_) h_->on_file_removed(name);
    }
    if (rescan_again_) {
        rescan_again_ = false;
        rescan();
    }
}

void WatchDir::periodic_rescan() {
    if (stopped_ || scanning_) return;  // a scan under way lists everything anyway
    if (dir_stamps_.empty()) return rescan();
    scanning_ = true;
    auto work = [dir = dir_, stamps = dir_stamps_] {
        std::map<std::string, DirStamp> now;
        for (const auto& [sub, old] : stamps) now[sub] = dir_stamp(sub.empty() ? dir : dir + "/" + sub);
        return now;
    };
    Status q = queue_job(loop_, jobs_.token(), std::move(work), [this](Result<std::map<std::string, DirStamp>> r) {
        scanning_ = false;
        if (stopped_) return;
        if (!r.ok()) return rescan();
        on_stamps(*r);
    });
    if (!q.ok()) {
        scanning_ = false;
        rescan();
    }
}

void WatchDir::on_stamps(const std::map<std::string, DirStamp>& now) {
    bool same = !rescan_again_ && now == dir_stamps_;
    for (const auto& [sub, st] : now) same = same && st.ino >= 0;
    rescan_again_ = false;
    if (!same) return rescan();
    restat_slice();
}

void WatchDir::restat_slice() {
    size_t n = std::max(slice_min_, (queue_.size() + slice_rounds_ - 1) / slice_rounds_);
    auto names = queue_.names_after(slice_after_, n);
    if (names.size() < n) {  // wrapped: go on from the first name
        auto more = queue_.names_after("", n - names.size());
        for (auto& m : more)
            if (names.empty() || m < names.front()) names.push_back(std::move(m));
    }
    if (names.empty()) return;
    slice_after_ = names.back();
    for (const auto& name : names) {
        ++slice_stats_;
        stat_file(name, false);
    }
}

void WatchDir::sync_sub_watches(const std::vector<std::string>& subdirs) {
    std::set<std::string> want(subdirs.begin(), subdirs.end());
    for (auto it = subs_.begin(); it != subs_.end();)
        it = want.count(it->first) ? std::next(it) : subs_.erase(it);
    for (const auto& sub : subdirs) {
        if (subs_.count(sub)) continue;
        auto w = std::make_unique<SubWatch>();
        w->self = this;
        w->sub = sub;
        int err = 0;
        w->event = UvHandle<uv_fs_event_t>::create([&](uv_fs_event_t* h) { return uv_fs_event_init(loop_, h); }, &err);
        if (!w->event) continue;  // the periodic rescan still sees its files
        w->event->data = w.get();
        std::string path = dir_ + "/" + sub;
        err = uv_fs_event_start(
            w->event.get(),
            [](uv_fs_event_t* h, const char* filename, int, int status) {
                auto* sw = static_cast<SubWatch*>(h->data);
                if (sw && sw->self) sw->self->on_sub_event(sw->sub, status < 0 ? nullptr : filename);
            },
            path.c_str(), 0);
        if (err < 0) continue;
        subs_.emplace(sub, std::move(w));
    }
}

void WatchDir::on_sub_event(const std::string& sub, const char* filename) {
    if (stopped_) return;
    if (!filename) return rescan();
    std::string name(filename);
    if (watched_name(name)) stat_file(sub + "/" + name, false);
}

void WatchDir::stat_file(const std::string& name, bool confirming) {
    if (stopped_) return;
    if (!stat_queued_.emplace(name, confirming).second) return;  // already waiting or out
    if (confirming) ++confirming_;
    stat_wait_.emplace_back(name, confirming);
    pump_stats();
}

void WatchDir::pump_stats() {
    while (!stopped_ && stats_in_flight_ < kStatsInFlight && !stat_wait_.empty()) {
        // Up to kStatBatch files per pool job: one job per file made a
        // directory of 100,000 cost 100,000 pool round trips (a wake-up and
        // a loop turn each) to confirm.
        std::vector<std::pair<std::string, bool>> batch;
        while (batch.size() < kStatBatch && !stat_wait_.empty()) {
            batch.push_back(std::move(stat_wait_.front()));
            stat_wait_.pop_front();
        }
        ++stats_in_flight_;
        auto work = [dir = dir_, names = batch] {
            std::vector<Look> out;
            out.reserve(names.size());
            for (const auto& [name, confirming] : names) {
                struct stat st {};
                int rc = ::stat((dir + "/" + name).c_str(), &st);
                out.push_back(look_from(rc, st));
            }
            return out;
        };
        Status q = queue_job(loop_, jobs_.token(), std::move(work),
                             [this, batch](Result<std::vector<Look>> r) {
                                 --stats_in_flight_;
                                 stats_done(batch, r.ok() ? &*r : nullptr);
                             });
        if (!q.ok()) {  // not queued: answered here, without pumping again from inside
            --stats_in_flight_;
            for (const auto& [name, confirming] : batch) {
                stat_queued_.erase({name, confirming});
                if (confirming) --confirming_;
                Look failed;
                failed.result = UV_ECANCELED;
                on_look(name, confirming, failed);
            }
        }
    }
}

void WatchDir::stats_done(const std::vector<std::pair<std::string, bool>>& batch, const std::vector<Look>* looks) {
    batch_looks_ = true;  // the timer is armed once, after every look
    for (size_t i = 0; i < batch.size(); ++i) {
        const auto& [name, confirming] = batch[i];
        stat_queued_.erase({name, confirming});
        if (confirming) --confirming_;  // the last one re-arms the timer (arm_timer)
        Look l;
        if (looks && i < looks->size()) l = (*looks)[i];
        else l.result = UV_ECANCELED;
        on_look(name, confirming, l);
    }
    batch_looks_ = false;
    arm_timer();
    pump_stats();
}

void WatchDir::on_look(const std::string& name, bool confirming, const Look& look) {
    if (stopped_) return;
    const int64_t now = int64_t(uv_now(loop_));
    bool regular = look.result >= 0 && look.regular;
    if (!regular) {
        // Gone (or replaced by something that is not a file).
        if (queue_.forget(name)) h_->on_file_removed(name);
        arm_timer();
        return;
    }
    const FileStamp& fs = look.fs;
    if (confirming) {
        if (queue_.confirm(name, fs, now)) h_->on_file_ready(name, dir_ + "/" + name, fs);
    } else {
        // Already quiet by its mtime (e.g. present before we started): no
        // need to wait the full interval again, only to confirm.
        timespec wall{};
        clock_gettime(CLOCK_REALTIME, &wall);
        int64_t age_ms = (int64_t(wall.tv_sec) * 1'000'000'000 + wall.tv_nsec - fs.mtime_ns) / 1'000'000;
        queue_.observe(name, fs, now, age_ms > 0 ? age_ms : 0);
    }
    arm_timer();
}

void WatchDir::arm_timer() {
    if (stopped_ || !ready_timer_ || batch_looks_) return;
    // Confirming stats still out: the last one to finish re-arms.  (Re-arming
    // after each one listed every still-unconfirmed file again: quadratic.)
    if (confirming_ > 0) return;
    int64_t d = queue_.next_deadline();
    if (d < 0) {
        uv_timer_stop(ready_timer_.get());
        return;
    }
    int64_t now = int64_t(uv_now(loop_));
    uint64_t wait = d > now ? uint64_t(d - now) : 0;
    uv_timer_start(
        ready_timer_.get(),
        [](uv_timer_t* t) {
            if (auto* self = static_cast<WatchDir*>(t->data)) self->on_timer();
        },
        wait, 0);
}

void WatchDir::on_timer() {
    int64_t now = int64_t(uv_now(loop_));
    auto due = queue_.due(now);
    for (const auto& name : due) stat_file(name, true);
    // While confirming stats are out, re-arming would fire immediately again
    // for the same names; wait for their results (the last one re-arms).
    arm_timer();
}

}  // namespace btl
