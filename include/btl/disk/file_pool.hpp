// FilePool: a bounded, thread-safe LRU of open file descriptors, shared by all
// torrents and used from libuv pool threads.
//
// Contract: acquire() returns a Lease that keeps its fd open until the Lease
// is destroyed, even if the pool evicts or close_prefix()es the entry
// meanwhile (the fd is refcounted; the last holder closes it), so a pread on
// one thread is never raced by a close() on another.  The pool holds at most
// max_open entries; fds held only by live leases may briefly exceed that.
// Opening for write when a read-only fd is cached replaces it by a read-write
// fd.  Every open uses O_CLOEXEC | O_NOFOLLOW.
//
// acquire_under(root, rel, ...) is the safe way to open torrent files: `root`
// is trusted (the user chose it; it may contain symlinks), while every
// component of `rel` is opened with openat(O_NOFOLLOW), so no symlink below
// root can redirect a read or write elsewhere.  With create=true missing
// directories are made with mkdirat and the file with O_CREAT.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "btl/base/result.hpp"

namespace btl {

class FilePool {
    struct Fd;  // owns one descriptor; closes it when the last reference goes

public:
    class Lease {
    public:
        Lease() = default;
        int fd() const { return fd_; }
        bool writable() const { return writable_; }
        explicit operator bool() const { return fd_ >= 0; }

    private:
        friend class FilePool;
        std::shared_ptr<Fd> ref_;
        int fd_ = -1;
        bool writable_ = false;
    };

    explicit FilePool(size_t max_open = 256);
    ~FilePool();
    FilePool(const FilePool&) = delete;
    FilePool& operator=(const FilePool&) = delete;

    // Opens `path` (O_NOFOLLOW on the last component only).  writable opens
    // O_RDWR|O_CREAT.  Errors: "cannot open PATH: REASON".
    Result<Lease> acquire(const std::string& path, bool writable);
    // Opens root + "/" + rel refusing symlinks anywhere in rel (see above).
    // Errors: "refusing to follow symlink PATH", "cannot open PATH: REASON",
    // "cannot create directory PATH: REASON".  The errno (ENOENT for a
    // missing file or directory, ELOOP for a symlink) goes to *err_no.
    Result<Lease> acquire_under(const std::string& root, const std::string& rel,
                                bool writable, int* err_no = nullptr);

    // Drops cached fds whose path equals / starts with the argument (for a
    // removed torrent); leased fds close when their leases go.
    void close(const std::string& path);
    void close_prefix(const std::string& path_prefix);
    void close_all();

    size_t open_count() const;
    size_t max_open() const { return max_open_; }

private:
    struct Entry {
        std::shared_ptr<Fd> fd;
        bool writable = false;
        std::list<std::string>::iterator lru;  // position in lru_
    };
    Result<Lease> lookup_or_insert(const std::string& key, bool writable,
                                   const std::function<Result<int>()>& opener);
    void evict_locked();

    size_t max_open_;
    mutable std::mutex mu_;
    std::list<std::string> lru_;  // front = most recently used
    std::unordered_map<std::string, Entry> map_;
};

}  // namespace btl
