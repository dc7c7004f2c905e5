#include "btl/base/lock_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace btl {

LockFile& LockFile::operator=(LockFile&& o) noexcept {
    if (this != &o) {
        release();
        fd_ = o.fd_;
        path_ = std::move(o.path_);
        o.fd_ = -1;
    }
    return *this;
}

void LockFile::release() {
    if (fd_ < 0) return;
    // Unlink while still holding the lock: a process that opened this file
    // meanwhile will find, once it gets the lock, that the path no longer
    // names its inode, and start over.
    ::unlink(path_.c_str());
    ::close(fd_);
    fd_ = -1;
}

namespace {

// The pid a holder wrote, 0 if none yet (it writes right after locking).
int read_pid(int fd) {
    for (int tries = 0; tries < 20; ++tries) {
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            long pid = std::strtol(buf, nullptr, 10);
            if (pid > 0 && pid < (1L << 30)) return int(pid);
        }
        struct timespec ts {0, 5'000'000};
        ::nanosleep(&ts, nullptr);
    }
    return 0;
}

}  // namespace

LockAttempt try_lock_file(const std::string& path) {
    LockAttempt out;
    auto fail = [&](const char* what, int e) {
        out.error = "cannot " + std::string(what) + " " + path + ": " + std::strerror(e);
        return std::move(out);
    };
    for (int attempt = 0; attempt < 100; ++attempt) {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) return fail("open lock file", errno);
        int rc;
        do rc = ::flock(fd, LOCK_EX | LOCK_NB);
        while (rc != 0 && errno == EINTR);
        if (rc != 0) {
            int e = errno;
            if (e == EWOULDBLOCK) {
                out.busy = true;
                out.holder_pid = read_pid(fd);
                ::close(fd);
                return out;
            }
            ::close(fd);
            return fail("lock", e);
        }
        struct stat mine {}, there {};
        if (::fstat(fd, &mine) != 0) {
            int e = errno;
            ::close(fd);
            return fail("stat lock file", e);
        }
        if (::stat(path.c_str(), &there) != 0 || there.st_ino != mine.st_ino || there.st_dev != mine.st_dev) {
            ::close(fd);  // the holder we waited out unlinked it; lock the new one
            continue;
        }
        std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
            int e = errno;
            ::close(fd);
            return fail("write lock file", e);
        }
        out.lock.fd_ = fd;
        out.lock.path_ = path;
        return out;
    }
    out.error = "cannot lock " + path + ": it keeps being replaced";
    return out;
}

LockTable::~LockTable() {
    if (claims_fd_ >= 0) {
        ::unlink(claims_path().c_str());  // while still holding kClaimsByte
        ::close(claims_fd_);
    }
    if (fd_ >= 0) ::close(fd_);  // drops every lock this process holds on it
}

int LockTable::open_file(std::string& error) {
    if (fd_ >= 0) return fd_;
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        error = "cannot open lock file " + path_ + ": " + std::strerror(errno);
        return -1;
    }
    fd_ = fd;
    return fd_;
}

namespace {

struct flock byte_lock(short type, uint64_t key) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = off_t(key == LockTable::kClaimsByte ? key : key & ((uint64_t(1) << 62) - 1));
    fl.l_len = 1;
    return fl;
}

}  // namespace

LockTable::Attempt LockTable::lock(uint64_t key) {
    Attempt out;
    if (open_file(out.error) < 0) return out;
    if (claims_fd_ >= 0 && claimed_.count(key)) {
        out.locked = true;
        return out;
    }
    // A holder may release between our refused F_SETLK and F_GETLK: try again.
    for (int attempt = 0; attempt < 20; ++attempt) {
        struct flock fl = byte_lock(F_WRLCK, key);
        int rc;
        do rc = ::fcntl(fd_, F_SETLK, &fl);
        while (rc != 0 && errno == EINTR);
        if (rc == 0) return locked_byte(key);

        if (errno != EAGAIN && errno != EACCES) {
            out.error = "cannot lock " + path_ + ": " + std::strerror(errno);
            return out;
        }
        out.busy = true;
        out.holder_pid = holder_pid(key);
        if (out.holder_pid > 0) return out;
    }
    return out;  // busy, holder unknown
}

// Byte `key` is ours now: a claims owner records the key and lets the byte
// go; anyone else keeps it unless the claims owner has the key.
LockTable::Attempt LockTable::locked_byte(uint64_t key) {
    Attempt out;
    if (claims_fd_ >= 0) {
        bool written = append_claim('+', key);
        int e = errno;
        release_byte(key);
        if (!written) {
            out.error = "cannot write " + claims_path() + ": " + std::strerror(e);
            return out;
        }
        claimed_.insert(key);
        out.locked = true;
        return out;
    }
    if (int pid = claims_holder(key); pid > 0) {
        release_byte(key);
        out.busy = true;
        out.holder_pid = pid;
        return out;
    }
    out.locked = true;
    return out;
}

void LockTable::release_byte(uint64_t key) {
    struct flock fl = byte_lock(F_UNLCK, key);
    ::fcntl(fd_, F_SETLK, &fl);
}

void LockTable::unlock(uint64_t key) {
    if (fd_ < 0) return;
    if (claims_fd_ >= 0) {
        // No byte needed to let go: a reader that misses this line only
        // sees the key busy a moment longer.
        if (claimed_.erase(key)) {
            append_claim('-', key);
            compact_claims();
        }
        return;
    }
    release_byte(key);
}

int LockTable::holder_pid(uint64_t key) {
    std::string ignored;
    if (open_file(ignored) < 0) return 0;
    struct flock fl = byte_lock(F_WRLCK, key);
    if (::fcntl(fd_, F_GETLK, &fl) != 0) return 0;
    if (fl.l_type != F_UNLCK) return int(fl.l_pid);
    return claims_holder(key);
}

namespace {
std::string claim_line(char op, uint64_t key) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%c%016llx\n", op, static_cast<unsigned long long>(key));
    return buf;
}

bool write_all(int fd, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += size_t(n);
    }
    return true;
}

// The whole file, at most `cap` bytes; false when it cannot be read.
bool read_capped(const std::string& path, size_t cap, std::string& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || out.size() + size_t(n) > cap) break;
        out.append(buf, size_t(n));
    }
    ::close(fd);
    return true;
}
}  // namespace

std::string LockTable::own_claims() {
    std::string error;
    if (open_file(error) < 0) return error;
    if (claims_fd_ >= 0) return "";
    struct flock fl = byte_lock(F_WRLCK, kClaimsByte);
    if (::fcntl(fd_, F_SETLK, &fl) != 0) {
        int e = errno;
        if (e != EAGAIN && e != EACCES) return "cannot lock " + path_ + ": " + std::strerror(e);
        struct flock q = byte_lock(F_WRLCK, kClaimsByte);
        int pid = ::fcntl(fd_, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ? int(q.l_pid) : 0;
        return "the claims in " + path_ + " belong to another process (pid " + std::to_string(pid) + ")";
    }
    int fd = ::open(claims_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || !write_all(fd, "pid " + std::to_string(::getpid()) + "\n")) {
        error = "cannot write " + claims_path() + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        release_byte(kClaimsByte);
        return error;
    }
    claims_fd_ = fd;
    claim_lines_ = 0;
    return "";
}

bool LockTable::append_claim(char op, uint64_t key) {
    ++claim_lines_;
    return write_all(claims_fd_, claim_line(op, key));
}

void LockTable::compact_claims() {
    if (claim_lines_ <= 2 * claimed_.size() + 4096) return;
    // Rewritten whole and renamed over: a reader sees the old log or the new.
    std::string tmp = claims_path() + ".tmp";
    std::string text = "pid " + std::to_string(::getpid()) + "\n";
    for (uint64_t k : claimed_) text += claim_line('+', k);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return;  // the log keeps growing; it stays correct
    if (!write_all(fd, text) || ::rename(tmp.c_str(), claims_path().c_str()) != 0) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return;
    }
    ::close(claims_fd_);
    claims_fd_ = fd;
    claim_lines_ = claimed_.size();
}

int LockTable::claims_holder(uint64_t key) {
    struct flock fl = byte_lock(F_WRLCK, kClaimsByte);
    if (::fcntl(fd_, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK) return 0;
    const int pid = int(fl.l_pid);
    std::string text;
    if (!read_capped(claims_path(), size_t(1) << 30, text)) return 0;
    // A log left by an earlier owner (the new one has not truncated it yet) is not this one's.
    const std::string head = "pid " + std::to_string(pid) + "\n";
    if (text.compare(0, head.size(), head) != 0) return 0;
    const std::string want = claim_line('+', key).substr(1);
    bool held = false;
    for (size_t at = head.size(); at + want.size() + 1 <= text.size(); at += want.size() + 1)
        if (text.compare(at + 1, want.size(), want) == 0) held = text[at] == '+';
    return held ? pid : 0;
}

uint64_t lock_table_key(const uint8_t* first8) {
    uint64_t k = 0;
    for (int i = 0; i < 8; ++i) k = (k << 8) | first8[i];
    return k & ((uint64_t(1) << 62) - 1);
}

int make_directories(const std::string& dir) {
    for (size_t i = 1; i <= dir.size(); ++i) {
        if (i != dir.size() && dir[i] != '/') continue;
        std::string part = dir.substr(0, i);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return errno;
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

}  // namespace btl
