// LockFile: "one process at a time uses this state".  An exclusive flock(2)
// on a small file that holds the owner's pid, so a refused process can say
// who has it.  btlaunchmany locks DATA_DIR/btlaunchmany.lock for its whole
// run; every running torrent (in either program) locks
// DATA_DIR/resume/<info-hash>.lock, so two processes never write one
// torrent's data and resume file.
//
// Contract:
// - The kernel drops a flock when its holder dies, even by SIGKILL, so a
//   crash never leaves a stale lock.  A stale *file* is harmless: only the
//   lock counts, and the pid in it is read only while someone holds it.
// - release() (and the destructor) unlinks the file, then closes it.
//   try_lock_file() makes sure the file it locked is still the one at
//   `path` (a releasing holder may have unlinked it in between) and retries
//   otherwise, so two processes never both believe they hold the lock.
// - Blocking (open, flock with LOCK_NB, a short wait for the holder's pid):
//   call at startup or when adding a torrent, not in a hot loop.
#pragma once
#include <string>

namespace btl {

struct LockAttempt;
// Never blocks waiting for the lock itself: a held lock is reported as busy.
LockAttempt try_lock_file(const std::string& path);

class LockFile {
public:
    LockFile() = default;
    ~LockFile() { release(); }
    LockFile(LockFile&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
    LockFile& operator=(LockFile&& o) noexcept;
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;

    bool held() const { return fd_ >= 0; }
    const std::string& path() const { return path_; }
    void release();

private:
    friend LockAttempt try_lock_file(const std::string& path);
    int fd_ = -1;
    std::string path_;
};

struct LockAttempt {
    LockFile lock;       // held on success
    bool busy = false;   // another process holds it
    int holder_pid = 0;  // that process, 0 when it did not say (yet)
    std::string error;   // neither held nor busy: "cannot lock PATH: REASON"
    bool ok() const { return lock.held(); }
};

// mkdir -p with mode 0755 for new components; 0 or an errno.
int make_directories(const std::string& dir);

}  // namespace btl
