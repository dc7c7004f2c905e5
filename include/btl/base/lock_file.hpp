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
#include <unordered_set>

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
//
// Claims, for a process that runs very many torrents: the kernel keeps a
// file's record locks in one list and walks all of it on every F_SETLK, so
// holding n byte locks makes each new one cost O(n) (30,000 took a minute
// of kernel time, 100,000 would take most of an hour).  After own_claims()
// a table holds ONE long-lived lock, on byte kClaimsByte (past every key),
// and records its keys in PATH.claims: a line "pid N", then "+KEY"/"-KEY"
// lines (16 hex digits) appended as keys are taken and let go; the file is
// rewritten (and renamed over) when dead lines outnumber live ones.
//  - The claims owner's lock(k) takes byte k only while it tests and
//    records k; it is busy when another process holds byte k.
//  - Any other table's lock(k), once it holds byte k, asks F_GETLK who holds
//    kClaimsByte and, if someone does, reads the log (only if it starts
//    with that pid): k claimed there is busy with that pid, byte k let go.
//  Both sides test-and-set while holding byte k, so two processes never
//  both believe they hold k.  holder_pid(k) answers for both kinds.  Only
//  one process owns claims at a time; a second own_claims() says why not
//  and that table keeps per-key locks.
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

    // Claims (above).  Call before the first lock(); "" or why not.
    std::string own_claims();
    bool owns_claims() const { return claims_fd_ >= 0; }
    std::string claims_path() const { return path_ + ".claims"; }
    static constexpr uint64_t kClaimsByte = uint64_t(1) << 62;

private:
    int open_file(std::string& error);
    Attempt locked_byte(uint64_t key);
    void release_byte(uint64_t key);
    int claims_holder(uint64_t key);  // pid of another process claiming key, else 0
    bool append_claim(char op, uint64_t key);
    void compact_claims();
    std::string path_;
    int fd_ = -1;
    // claims owner only
    int claims_fd_ = -1;
    std::unordered_set<uint64_t> claimed_;
    size_t claim_lines_ = 0;
};

// The first 8 bytes as a big-endian integer masked to 62 bits.
uint64_t lock_table_key(const uint8_t* first8);

// mkdir -p with mode 0755 for new components; 0 or an errno.
int make_directories(const std::string& dir);

}  // namespace btl
