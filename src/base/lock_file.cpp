#include "btl/base/lock_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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
    fl.l_start = off_t(key & ((uint64_t(1) << 62) - 1));
    fl.l_len = 1;
    return fl;
}

}  // namespace

LockTable::Attempt LockTable::lock(uint64_t key) {
    Attempt out;
    if (open_file(out.error) < 0) return out;
    // A holder may release between our refused F_SETLK and F_GETLK: try again.
    for (int attempt = 0; attempt < 20; ++attempt) {
        struct flock fl = byte_lock(F_WRLCK, key);
        int rc;
        do rc = ::fcntl(fd_, F_SETLK, &fl);
        while (rc != 0 && errno == EINTR);
        if (rc == 0) {
            out.locked = true;
            return out;
        }
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

void LockTable::unlock(uint64_t key) {
    if (fd_ < 0) return;
    struct flock fl = byte_lock(F_UNLCK, key);
    ::fcntl(fd_, F_SETLK, &fl);
}

int LockTable::holder_pid(uint64_t key) {
    std::string ignored;
    if (open_file(ignored) < 0) return 0;
    struct flock fl = byte_lock(F_WRLCK, key);
    if (::fcntl(fd_, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK) return 0;
    return int(fl.l_pid);
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
