#include "btl/disk/file_pool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace btl {

struct FilePool::Fd {
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int fd;
};

namespace {

std::string open_error(const std::string& path, int e) {
    return "cannot open " + path + ": " + std::strerror(e);
}

// Creates `dir` and its missing parents.  Only for the trusted root, so
// following symlinks here is intended (the user may keep downloads behind one).
int mkdir_p(const std::string& dir) {
    if (dir.empty()) return 0;
    for (size_t i = 1; i <= dir.size(); ++i) {
        if (i != dir.size() && dir[i] != '/') continue;
        std::string prefix = dir.substr(0, i);
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return errno;
    }
    return 0;
}

bool is_symlink_at(int dfd, const char* name) {
    struct stat st;
    return ::fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

struct FdCloser {
    int fd = -1;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

FilePool::FilePool(size_t max_open) : max_open_(max_open ? max_open : 1) {}
FilePool::~FilePool() = default;

Result<FilePool::Lease> FilePool::acquire(const std::string& path, bool writable) {
    return lookup_or_insert(path, writable, [&]() -> Result<int> {
        int flags = (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW;
        int fd = ::open(path.c_str(), flags, 0644);
        if (fd < 0) {
            if (errno == ELOOP) return make_error("refusing to follow symlink " + path);
            return make_error(open_error(path, errno));
        }
        return fd;
    });
}

Result<FilePool::Lease> FilePool::acquire_under(const std::string& root, const std::string& rel,
                                                bool writable, int* err_no) {
    std::string dir_prefix = (!root.empty() && root.back() == '/') ? root : root + "/";
    std::string full = rel.empty() ? root : dir_prefix + rel;
    if (err_no) *err_no = 0;
    return lookup_or_insert(full, writable, [&]() -> Result<int> {
        auto fail = [&](int e, std::string msg) -> Result<int> {
            if (err_no) *err_no = e;
            return make_error(std::move(msg));
        };
        FdCloser dir;
        dir.fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir.fd < 0 && errno == ENOENT && writable) {
            if (int e = mkdir_p(root)) return fail(e, "cannot create directory " + root + ": " + std::strerror(e));
            dir.fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (dir.fd < 0) return fail(errno, open_error(root, errno));

        // Walk rel one component at a time so no symlink below root is followed.
        std::string so_far = dir_prefix;
        so_far.pop_back();  // re-added before each component
        size_t pos = 0;
        for (;;) {
            size_t slash = rel.find('/', pos);
            std::string comp = rel.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
            so_far += "/" + comp;
            if (comp.empty() || comp == "." || comp == "..")
                return fail(EINVAL, "invalid path " + so_far);
            if (slash == std::string::npos) {
                int flags = (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW;
                int fd = ::openat(dir.fd, comp.c_str(), flags, 0644);
                if (fd < 0) {
                    int e = errno;
                    if (e == ELOOP || is_symlink_at(dir.fd, comp.c_str()))
                        return fail(ELOOP, "refusing to follow symlink " + so_far);
                    return fail(e, open_error(so_far, e));
                }
                return fd;
            }
            int nd = ::openat(dir.fd, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (nd < 0 && errno == ENOENT && writable) {
                if (::mkdirat(dir.fd, comp.c_str(), 0755) != 0 && errno != EEXIST)
                    return fail(errno, "cannot create directory " + so_far + ": " + std::strerror(errno));
                nd = ::openat(dir.fd, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
            if (nd < 0) {
                int e = errno;
                if (is_symlink_at(dir.fd, comp.c_str()))
                    return fail(ELOOP, "refusing to follow symlink " + so_far);
                return fail(e, open_error(so_far, e));
            }
            ::close(dir.fd);
            dir.fd = nd;
            pos = slash + 1;
        }
    });
}

Result<FilePool::Lease> FilePool::lookup_or_insert(const std::string& key, bool writable,
                                                   const std::function<Result<int>()>& opener) {
    auto make_lease = [](const Entry& e) {
        Lease l;
        l.ref_ = e.fd;
        l.fd_ = e.fd->fd;
        l.writable_ = e.writable;
        return l;
    };
    {
        std::lock_guard<std::mutex> g(mu_);
        auto it = map_.find(key);
        if (it != map_.end() && (it->second.writable || !writable)) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return make_lease(it->second);
        }
    }
    // Open outside the lock: an open may be slow (network filesystems) and
    // must not stall other threads' cache hits.
    auto r = opener();
    if (!r) return r.error();
    auto fd = std::make_shared<Fd>(*r);

    std::lock_guard<std::mutex> g(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) {
        if (it->second.writable || !writable) {
            // Another thread won the race; ours closes as `fd` goes out of scope.
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return make_lease(it->second);
        }
        // Upgrade: replace the read-only fd; leases on the old one keep it open.
        it->second.fd = fd;
        it->second.writable = writable;
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return make_lease(it->second);
    }
    lru_.push_front(key);
    Entry e{fd, writable, lru_.begin()};
    auto [ins, ok] = map_.emplace(key, std::move(e));
    (void)ok;
    Lease l = make_lease(ins->second);
    evict_locked();
    return l;
}

void FilePool::evict_locked() {
    while (map_.size() > max_open_) {
        map_.erase(lru_.back());
        lru_.pop_back();
    }
}

void FilePool::close(const std::string& path) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = map_.find(path);
    if (it == map_.end()) return;
    lru_.erase(it->second.lru);
    map_.erase(it);
}

void FilePool::close_prefix(const std::string& prefix) {
    std::lock_guard<std::mutex> g(mu_);
    for (auto it = map_.begin(); it != map_.end();) {
        if (it->first.compare(0, prefix.size(), prefix) == 0) {
            lru_.erase(it->second.lru);
            it = map_.erase(it);
        } else {
            ++it;
        }
    }
}

void FilePool::close_all() {
    std::lock_guard<std::mutex> g(mu_);
    map_.clear();
    lru_.clear();
}

size_t FilePool::open_count() const {
    std::lock_guard<std::mutex> g(mu_);
    return map_.size();
}

}  // namespace btl
