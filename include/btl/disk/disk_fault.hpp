// DiskFault: what a failed disk operation means for a torrent, and when to
// try again after the disk filled up.  Pure: no I/O, no clock of its own.
//
// Contract:
// - classify_errno() maps an errno to the torrent's reaction.  no_space
//   (ENOSPC, EDQUOT, EFBIG) is recoverable by itself: the torrent stops
//   downloading, keeps seeding what it has and looks for space again later.
//   Everything else needs the user (a re-check, a writable directory).
// - DiskRetry schedules those looks.  After the n-th consecutive failed
//   write the next look is interval * 2^(n-1) later, capped at max; a look
//   that finds too little free space just polls again one interval later
//   (polling costs one statfs, a failed attempt costs downloaded data).
//   The count resets once writes succeed for `max` after the last failure:
//   one piece fitting does not prove the disk works (with a file-size limit
//   pieces below it keep succeeding while every piece above it fails).
#pragma once
#include <cstdint>

namespace btl {

enum class DiskFault { none, no_space, read_only, permission, missing, other };

DiskFault classify_errno(int sys_errno);
const char* disk_fault_name(DiskFault f);

struct DiskRetryPolicy {
    int64_t interval_ms = 10'000;
    int64_t max_ms = 120'000;
};

class DiskRetry {
public:
    explicit DiskRetry(DiskRetryPolicy p = {});

    // A write failed for lack of space at `now`; returns when to look again.
    int64_t on_full(int64_t now);
    // A look found `free_bytes` free (-1: unknown) and `needed` are wanted to
    // write one piece.  True: try downloading again now.  False: the next
    // look is one interval later.
    bool on_check(int64_t now, int64_t free_bytes, int64_t needed);
    // A piece was written.
    void on_write_ok(int64_t now) {
        if (now - last_failure_ms_ >= p_.max_ms) failures_ = 0;
    }

    bool due(int64_t now) const { return now >= next_ms_; }
    int64_t next_ms() const { return next_ms_; }
    int failures() const { return failures_; }
    // Wait after the n-th consecutive failure (n >= 1).
    int64_t delay_after(int failures) const;
    const DiskRetryPolicy& policy() const { return p_; }

private:
    DiskRetryPolicy p_;
    int failures_ = 0;
    int64_t next_ms_ = 0, last_failure_ms_ = 0;
};

}  // namespace btl
