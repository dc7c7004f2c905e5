// StatusFile: btlaunchmany's --status_json writer.  It rewrites one file with
// the launcher's JSON document (Launcher::status_json()) for monitoring
// scripts, without ever blocking the loop.
//
// Contract:
//  - start(interval_ms) first deletes the temporary files a SIGKILL between
//    write and rename left beside the file (the caller must be the file's
//    only writer: btlaunchmany holds its data directory's lock), then
//    writes every interval.
//  - Writes run on the libuv thread pool (queue_job), one at a time, with
//    write_file_atomic (no fsync: the file is rewritten every second), so a
//    reader sees an old or a new document, never a mix.  If libuv refuses
//    the job, that one document is written on the loop instead.
//  - Each tick asks the source for its version (the launcher refreshes its
//    rows there), then skips the write when the version equals the one last
//    written, so an idle session does no disk I/O and builds no 5 MB
//    document per second.  Only a document that is written is built, and
//    the pool job owns it.
//  - An unchanged file still shows it is alive: once its mtime is a minute
//    old (alive_ms) it is rewritten whole if the last whole write is older
//    than max(a minute, kUnchangedCostFactor x what that write cost), and
//    otherwise only its mtime is set to now (utimensat on the pool; a
//    failure, such as the file removed by hand, makes the next tick write
//    it whole).  A 100,000-row document (57 MB) unchanged is then rebuilt
//    every few minutes, not every minute; the few fields that change
//    without making a new version (the DHT's packet counters) are that old
//    at most.
//  - write() while a write is running coalesces: exactly one more write
//    follows, with the document as it is then.
//  - soon() (rows appeared or went) writes within 200 ms instead of an
//    interval later; a burst of calls makes one write.
//  - flush(done) stops the timers and writes the document even if unchanged;
//    done runs once it is on disk (or failed).  With no path, done runs at
//    once and nothing is ever written.
//  - Timed writes (interval, soon()) are paced by their cost: the next one waits at least
//    kCostFactor times what the last took (building the document on the
//    loop, writing it on the pool) after the last one ended.  A 100,000-row
//    document during a long load is then written every few seconds, not
//    five times a second, and the load keeps most of the loop.
//  - A failed write is reported through `warn` ("status_json: reason") and
//    retried at the next tick.
//  - Destroying the StatusFile drops callbacks of writes still running.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "btl/base/async_job.hpp"
#include "btl/base/uv_util.hpp"

namespace btl {

class StatusFile {
public:
    struct Source {
        // Called first on every write attempt: brings the source up to date
        // and says which document it would give.
        std::function<uint64_t()> version;
        // Builds that document; called only when it is written.  The result
        // is moved to the pool job, so no copy of it is kept here.
        std::function<std::string()> document;
    };
    StatusFile(uv_loop_t* loop, std::string path, Source source, std::function<void(const std::string&)> warn);
    StatusFile(const StatusFile&) = delete;
    StatusFile& operator=(const StatusFile&) = delete;

    Status start(uint64_t interval_ms);
    void write(bool force = false);
    void soon();
    void flush(std::function<void()> done);
    const std::string& path() const { return path_; }
    uint64_t writes() const { return writes_; }  // documents written so far (tests, logs)
    uint64_t touches() const { return touches_; }  // unchanged files whose mtime was set instead
    static constexpr int64_t kCostFactor = 10;
    static constexpr int64_t kUnchangedCostFactor = 2000;
    // The unchanged file's timing (tests shorten it): mtime refreshed every
    // alive_ms, the whole document rewritten at most every
    // max(rewrite_min_ms, kUnchangedCostFactor x its cost).
    void set_unchanged_timing(int64_t alive_ms, int64_t rewrite_min_ms, int64_t cost_factor = kUnchangedCostFactor) {
        alive_ms_ = alive_ms;
        rewrite_min_ms_ = rewrite_min_ms;
        unchanged_cost_factor_ = cost_factor;
    }
    // How old the last whole write may get before an unchanged document is
    // written whole again (not only touched).
    int64_t rewrite_unchanged_ms() const;
    // Milliseconds the pacing still holds a write back (0: may write now).
    int64_t paced_for_ms() const;

private:
    void written(Status result, uint64_t version);
    void finish_flush();

    uv_loop_t* loop_;
    std::string path_;
    Source source_;
    std::function<void(const std::string&)> warn_;
    uint64_t last_version_ = UINT64_MAX;  // of the document last written
    int64_t last_write_ms_ = 0;
    uint64_t writes_ = 0;
    // The unchanged file: when its mtime was last set (a write or a touch).
    int64_t alive_ms_ = 60'000, rewrite_min_ms_ = 60'000, last_alive_ms_ = 0;
    int64_t unchanged_cost_factor_ = kUnchangedCostFactor;
    uint64_t touches_ = 0;
    void touch();
    void touched(Status result);
    bool writing_ = false, again_ = false, force_again_ = false, stopped_ = false;
    std::function<void()> flushed_;
    UvHandle<uv_timer_t> interval_timer_, soon_timer_;
    // Pacing: when the last write ended, and what it cost.
    int64_t last_end_ms_ = -1;
    uint64_t started_ns_ = 0, cost_ns_ = 0;
    void arm_soon(uint64_t ms);
    void paced_write();  // the timers' write: held back by the pacing
    JobOwner jobs_;  // last: dies first, so no job callback sees a half-destroyed StatusFile
};

}  // namespace btl
