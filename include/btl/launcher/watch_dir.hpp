// WatchDir: watches one directory for .torrent files and reports each file
// once it is complete (ReadyQueue decides), and each delivered file that
// disappears.  Changes are noticed within about a second through a
// uv_fs_event (inotify) watch; a periodic rescan catches what events miss
// (network file systems, overflowed event queues).
//
// The periodic rescan first stats the directories themselves (the watched
// one and its label subdirectories): a directory's mtime moves whenever an
// entry is created, removed or renamed in it, so when none moved nothing was
// added or removed and the directory is not listed again.  A stamp taken
// within kRacyMs of its mtime is not trusted (an entry made in the same
// clock tick would not move it): the next rescan lists again.  What a
// directory's mtime does not show is a file rewritten in place; events see
// that at once, and for file systems without events each rescan re-stats a
// slice of the known files (at least kSliceMin, else 1/kSliceRounds of
// them), so every file is looked at again within kSliceRounds intervals
// (10 minutes at the default 60 s).  An event overflow, a new label
// directory and start() list in full, as before.
//
// Everything touching the disk runs on the libuv thread pool so a
// directory of thousands of files never blocks the loop: a scan lists and
// stats every file in one job; the confirming stats go in batches, only a
// few jobs at a time, so 100,000 files do not crowd out everyone else's
// jobs.
// Names are filtered with watched_name(): wanted_watch_name()'s *.torrent
// files, and *.magnet files (one magnet link each).  Callbacks run on the loop
// thread; the handler may destroy nothing of WatchDir from inside them
// except through stop().  Requests still in flight when the WatchDir is
// destroyed are ignored when they complete.
#pragma once
#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/result.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/core/ready_queue.hpp"

namespace btl {

// wanted_watch_name() or a *.magnet file under the same rules.
bool watched_name(const std::string& name);

class WatchDir {
public:
    class Handler {
    public:
        virtual ~Handler() = default;
        // `name` is the file name inside the directory, `path` dir/name.
        virtual void on_file_ready(const std::string& name, const std::string& path, FileStamp st) = 0;
        virtual void on_file_removed(const std::string& name) = 0;
        virtual void on_watch_error(const std::string& message) = 0;
    };

    WatchDir(uv_loop_t* loop, std::string dir, Handler* h, int64_t quiet_ms, int64_t rescan_ms);
    ~WatchDir();
    WatchDir(const WatchDir&) = delete;
    WatchDir& operator=(const WatchDir&) = delete;

    // Starts the event watch, the rescan timer and a first scan.
    Status start();
    void stop();
    // Scans the directory now, listing it in full (at most one scan runs at a time).
    void rescan();
    // The periodic rescan (the timer's): lists again only when a
    // directory's stamp moved, else re-stats the next slice of known files.
    void periodic_rescan();
    const std::string& dir() const { return dir_; }
    // Counters for the tests: full listings made, files re-stated by slices.
    uint64_t listings() const { return listings_; }
    uint64_t slice_stats() const { return slice_stats_; }
    // The slice: max(min, known / rounds) files per periodic rescan.
    void set_slice(size_t min, size_t rounds) {
        slice_min_ = min;
        slice_rounds_ = rounds > 0 ? rounds : 1;
    }
    static constexpr size_t kSliceMin = 1000, kSliceRounds = 10;
    static constexpr int64_t kRacyMs = 2000;

    struct Look;  // what a stat of one file found
    // A directory's own stamp (the periodic rescan compares them).
    struct DirStamp {
        int64_t ino = -1, mtime_ns = 0, ctime_ns = 0;  // ino -1: not trusted, list again
        bool operator==(const DirStamp&) const = default;
    };

private:
    void stat_file(const std::string& name, bool confirming);
    void on_look(const std::string& name, bool confirming, const Look& look);
    void arm_timer();
    void on_timer();
    void on_event(const char* filename);
    void pump_stats();
    void stats_done(const std::vector<std::pair<std::string, bool>>& batch, const std::vector<Look>* looks);

    // One level of subdirectories (labels from folders, labels.hpp): a
    // scan lists them too, and each gets its own event watch.  Their files
    // are named "SUB/x.torrent".
    struct ScanResult;
    struct SubWatch {
        WatchDir* self = nullptr;
        std::string sub;
        UvHandle<uv_fs_event_t> event;
        ~SubWatch() {
            if (event) event->data = nullptr;
        }
    };
    std::map<std::string, std::unique_ptr<SubWatch>> subs_;
    void on_scan_result(ScanResult r);
    void sync_sub_watches(const std::vector<std::string>& subdirs);
    void on_sub_event(const std::string& sub, const char* filename);

    uv_loop_t* loop_;
    std::string dir_;
    Handler* h_;
    int64_t rescan_ms_;
    ReadyQueue queue_;
    UvHandle<uv_fs_event_t> event_;
    UvHandle<uv_timer_t> ready_timer_, rescan_timer_;
    bool scanning_ = false, rescan_again_ = false, stopped_ = false;
    bool reported_scan_error_ = false;
    // Stats take turns, a few at a time: 100,000 files queued on the thread
    // pool at once kept everything else that needs it (status file writes,
    // resume reads, the parses) waiting until every stat was done.  A
    // (name, confirming) pair is queued at most once; the ready timer
    // waits while confirming stats are out.
    // Each job stats up to kStatBatch files (a scan stats what it lists in
    // its own job, so these are the confirming looks and fs events).
    static constexpr size_t kStatsInFlight = 2;
    static constexpr size_t kStatBatch = 256;
    std::deque<std::pair<std::string, bool>> stat_wait_;
    std::set<std::pair<std::string, bool>> stat_queued_;
    size_t stats_in_flight_ = 0, confirming_ = 0;
    // The periodic rescan: each directory's stamp ("" the watched one, else
    // the label), from the last full listing; the slice's cursor.
    std::map<std::string, DirStamp> dir_stamps_;
    std::string slice_after_;
    size_t slice_min_ = kSliceMin, slice_rounds_ = kSliceRounds;
    uint64_t listings_ = 0, slice_stats_ = 0;
    // Set while a scan's or a stat batch's looks are applied: the ready
    // timer is armed once after them, not once per file (a slice of 10,000
    // files restarted it 10,000 times).
    bool batch_looks_ = false;
    void on_stamps(const std::map<std::string, DirStamp>& now);
    void restat_slice();
    JobOwner jobs_;                    // the scan's and the stats' jobs
};

}  // namespace btl
