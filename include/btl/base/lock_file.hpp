// LockFile: "one process at a time uses this state".  An exclusive flock(2)
// on a small file that holds the owner's pid, so a refused process can say
// who has it.  btlaunchmany locks DATA_DIR/btlaunchmany.lock for its whole
// run.  Running torrents use a LockTable instead (below): one file, one
// byte-range lock per torrent, so 10,000 torrents cost one descriptor.
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
#include <cstdint>
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

// LockTable: many "one process at a time" locks in one file, one descriptor.
// Each key locks one byte (offset = key) with a POSIX record lock
// (fcntl F_SETLK, F_WRLCK); a refused caller learns the holder's pid from
// F_GETLK.  Session locks DATA_DIR/resume/torrents.lock with the info-hash's
// key (lock_table_key), so two processes never write one torrent's data and
// resume file.
//
// Contract:
// - Record locks belong to the process, and the kernel drops them when it
//   dies (even by SIGKILL): no stale locks.
// - Within one process locks never conflict: the caller makes sure it does
//   not take one key twice (Session refuses duplicate torrents anyway).
// - Closing ANY descriptor of the file in this process drops all of this
//   process's locks on it: open the file only through one LockTable, and
//   never open, close or unlink it elsewhere.  The file is never unlinked
//   (two processes must lock the same inode).
// - The file is opened on the first lock() and closed by the destructor.
// - Never blocks waiting for a lock: a held one is reported as busy.
class LockTable {
public:
    explicit LockTable(std::string path) : path_(std::move(path)) {}
    ~LockTable();
    LockTable(const LockTable&) = delete;
    LockTable& operator=(const LockTable&) = delete;

    struct Attempt {
        bool locked = false;  // ours now
        bool busy = false;    // another process holds it
        int holder_pid = 0;   // that process, 0 if unknown
        std::string error;    // neither locked nor busy: "cannot ... PATH: REASON"
        bool ok() const { return locked; }
    };
    // key < 2^62 (a valid, positive offset).
    Attempt lock(uint64_t key);
    // Releases a key this process locked; no-op otherwise.
    void unlock(uint64_t key);
    // The pid of another process holding `key`, 0 if none (or on error).
    int holder_pid(uint64_t key);
    const std::string& path() const { return path_; }

private:
    int open_file(std::string& error);
    std::string path_;
    int fd_ = -1;
};

// The first 8 bytes as a big-endian integer masked to 62 bits.
uint64_t lock_table_key(const uint8_t* first8);

// mkdir -p with mode 0755 for new components; 0 or an errno.
int make_directories(const std::string& dir);

}  // namespace btl
