#include "btl/disk/storage.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace btl {

namespace {

std::string write_error(const std::string& path, int e) {
    switch (e) {
    case ENOSPC: return "disk full writing " + path;
    case EDQUOT: return "disk quota exceeded writing " + path;
    case EFBIG: return "file too large writing " + path;
    default: return "cannot write " + path + ": " + std::strerror(e);
    }
}

Error missing_error(const std::string& path) { return make_sys_error("file missing: " + path, ENOENT); }
Error truncated_error(const std::string& path) { return make_sys_error("file truncated: " + path, ENOENT); }

// A cached fd keeps a deleted file's data alive: reads would serve, and
// writes would fill, an inode nobody can see any more.  One fstat per file
// slice tells (st_nlink drops to 0 on unlink or on rename over it).
bool unlinked(int fd) {
    struct stat st;
    return ::fstat(fd, &st) == 0 && st.st_nlink == 0;
}

}  // namespace

Result<std::shared_ptr<Storage>> Storage::open(const Metainfo& m, std::string root,
                                               std::shared_ptr<FilePool> pool) {
    if (root.empty()) return make_error("empty save path for " + m.name);
    if (!pool) pool = std::make_shared<FilePool>();
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    std::vector<std::string> rel;
    std::string base;
    if (m.multi_file) {
        base = root;
        for (const auto& f : m.files) {
            if (f.path_string.empty()) return make_error("empty file path in " + m.name);
            rel.push_back(f.path_string);
        }
    } else {
        if (m.files.size() != 1) return make_error("single-file torrent without exactly one file: " + m.name);
        size_t slash = root.rfind('/');
        if (slash == std::string::npos) {
            base = ".";
            rel.push_back(root);
        } else {
            base = slash == 0 ? "/" : root.substr(0, slash);
            rel.push_back(root.substr(slash + 1));
        }
        if (rel.back().empty()) return make_error("invalid save path " + root);
    }
    FileLayout layout(m);
    if (m.piece_length <= 0) return make_error("invalid piece length in " + m.name);
    return std::make_shared<Storage>(std::move(layout), std::move(root), std::move(base),
                                     std::move(rel), std::move(pool));
}

Storage::Storage(FileLayout layout, std::string root, std::string base_dir,
                 std::vector<std::string> rel_paths, std::shared_ptr<FilePool> pool)
    : layout_(std::move(layout)),
      root_(std::move(root)),
      base_dir_(std::move(base_dir)),
      rel_paths_(std::move(rel_paths)),
      pool_(std::move(pool)) {}

std::string Storage::file_path(uint32_t i) const {
    if (i >= rel_paths_.size()) return root_;
    if (base_dir_ == "/") return "/" + rel_paths_[i];
    return base_dir_ + "/" + rel_paths_[i];
}

Result<FilePool::Lease> Storage::lease(uint32_t file, bool write, int* err_no) {
    return pool_->acquire_under(base_dir_, rel_paths_[file], write, err_no);
}

Result<FilePool::Lease> Storage::live_lease(uint32_t file, bool write, int* e) {
    auto l = lease(file, write, e);
    if (l && unlinked(l->fd())) {
        // Deleted behind our back: forget the fd.  A write creates the
        // file anew (the rest is re-checked or re-downloaded); a read
        // reports it missing.
        l = Result<FilePool::Lease>(make_error("deleted"));
        pool_->close(file_path(file));
        if (write)
            l = lease(file, true, e);
        else
            *e = ENOENT;
    }
    return l;
}

Status Storage::io(int64_t off, uint8_t* buf, size_t len, bool write,
                   std::vector<ByteRange>* missing) {
    if (len == 0) return Ok{};
    if (off < 0 || int64_t(len) > layout_.total() || off > layout_.total() - int64_t(len))
        return make_error("range beyond the end of " + root_);
    thread_local std::vector<FileSlice> slices;
    slices.clear();
    layout_.map(off, int64_t(len), slices);

    uint8_t* p = buf;
    int64_t stream_off = off;
    for (const FileSlice& s : slices) {
        uint8_t* slice_start = p;
        int64_t slice_stream = stream_off;
        p += s.length;
        stream_off += s.length;
        if (layout_.is_pad(s.file_index)) {
            if (!write) std::memset(slice_start, 0, size_t(s.length));
            continue;
        }
        int e = 0;
        auto l = live_lease(s.file_index, write, &e);
        if (!l) {
            bool absent = e == ENOENT || e == ENOTDIR;
            if (!write && absent) {
                if (!missing) return missing_error(file_path(s.file_index));
                std::memset(slice_start, 0, size_t(s.length));
                missing->push_back({slice_stream, s.length});
                continue;
            }
            // "cannot create directory D: No space left on device" is a full
            // disk too; say so the same way as a failed pwrite.
            if (write && (e == ENOSPC || e == EDQUOT || e == EFBIG))
                return make_sys_error(write_error(file_path(s.file_index), e), e);
            return make_sys_error(l.error().message, e);
        }
        int fd = l->fd();
        int64_t done = 0;
        while (done < s.length) {
            size_t want = size_t(s.length - done);
            off_t at = off_t(s.file_offset + done);
            ssize_t n = write ? ::pwrite(fd, slice_start + done, want, at)
                              : ::pread(fd, slice_start + done, want, at);
            if (n < 0) {
                if (errno == EINTR) continue;
                int err = errno;
                if (write) return make_sys_error(write_error(file_path(s.file_index), err), err);
                return make_sys_error("cannot read " + file_path(s.file_index) + ": " + std::strerror(err), err);
            }
            if (n == 0) {
                if (write) return make_sys_error(write_error(file_path(s.file_index), ENOSPC), ENOSPC);
                if (!missing) return truncated_error(file_path(s.file_index));
                std::memset(slice_start + done, 0, want);
                missing->push_back({slice_stream + done, int64_t(want)});
                break;
            }
            done += n;
        }
    }
    return Ok{};
}

Status Storage::write_piece(uint32_t piece, const uint8_t* data, size_t len) {
    if (piece >= layout_.num_pieces() || int64_t(len) != layout_.piece_size(piece))
        return make_error("piece " + std::to_string(piece) + " has the wrong size for " + root_);
    return write(layout_.piece_offset(piece), data, len);
}

Status Storage::write(int64_t torrent_offset, const uint8_t* data, size_t len) {
    // io() takes a mutable pointer for the read path; writes never modify it.
    std::lock_guard<std::mutex> lock(write_mu_);
    return io(torrent_offset, const_cast<uint8_t*>(data), len, true, nullptr);
}

Status Storage::write_gather(int64_t off, const iovec* parts, size_t count) {
    size_t len = 0;
    for (size_t i = 0; i < count; ++i) len += parts[i].iov_len;
    if (count == 1) return write(off, static_cast<const uint8_t*>(parts[0].iov_base), len);
    if (len == 0) return Ok{};
    if (off < 0 || int64_t(len) > layout_.total() || off > layout_.total() - int64_t(len))
        return make_error("range beyond the end of " + root_);
    std::lock_guard<std::mutex> lock(write_mu_);
    thread_local std::vector<FileSlice> slices;
    slices.clear();
    layout_.map(off, int64_t(len), slices);
    const iovec* part = parts;
    size_t part_off = 0;  // bytes of *part already written
    for (const FileSlice& s : slices) {
        if (layout_.is_pad(s.file_index)) {
            int64_t skip = s.length;
            while (skip > 0) {
                int64_t take = std::min<int64_t>(skip, int64_t(part->iov_len - part_off));
                skip -= take;
                part_off += size_t(take);
                if (part_off == part->iov_len) ++part, part_off = 0;
            }
            continue;
        }
        Status st = write_slice_gather(s.file_index, s.file_offset, s.length, part, part_off, parts + count);
        if (!st.ok()) return st;
    }
    return Ok{};
}

// Writes len bytes of the gathered buffers (from *part + part_off on) to
// one file at file_offset, advancing the cursor past them.
Status Storage::write_slice_gather(uint32_t file, int64_t file_offset, int64_t len, const iovec*& part,
                                   size_t& part_off, const iovec* end) {
    int e = 0;
    auto l = live_lease(file, true, &e);
    if (!l) {
        if (e == ENOSPC || e == EDQUOT || e == EFBIG) return make_sys_error(write_error(file_path(file), e), e);
        return make_sys_error(l.error().message, e);
    }
    constexpr int kMaxIov = 64;
    int64_t done = 0;
    while (done < len) {
        iovec v[kMaxIov];
        int n = 0;
        int64_t want = 0;
        const iovec* p = part;
        size_t po = part_off;
        while (n < kMaxIov && p != end && want < len - done) {
            size_t take = size_t(std::min<int64_t>(int64_t(p->iov_len - po), len - done - want));
            v[n++] = iovec{static_cast<char*>(p->iov_base) + po, take};
            want += int64_t(take);
            ++p, po = 0;
        }
        ssize_t w = ::pwritev(l->fd(), v, n, off_t(file_offset + done));
        if (w < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            return make_sys_error(write_error(file_path(file), err), err);
        }
        if (w == 0) return make_sys_error(write_error(file_path(file), ENOSPC), ENOSPC);
        done += w;
        for (int64_t adv = w; adv > 0;) {
            int64_t take = std::min<int64_t>(adv, int64_t(part->iov_len - part_off));
            adv -= take;
            part_off += size_t(take);
            if (part_off == part->iov_len) ++part, part_off = 0;
        }
    }
    return Ok{};
}

Status Storage::read(int64_t torrent_offset, uint8_t* buf, size_t len) {
    return io(torrent_offset, buf, len, false, nullptr);
}

Status Storage::read_lenient(int64_t torrent_offset, uint8_t* buf, size_t len,
                             std::vector<ByteRange>& missing) {
    return io(torrent_offset, buf, len, false, &missing);
}

Result<Sha1Digest> Storage::hash_piece(uint32_t piece, std::vector<uint8_t>& scratch) {
    if (piece >= layout_.num_pieces()) return make_error("piece index out of range for " + root_);
    scratch.resize(size_t(layout_.piece_size(piece)));
    auto st = read(layout_.piece_offset(piece), scratch.data(), scratch.size());
    if (!st) return st.error();
    return sha1(scratch.data(), scratch.size());
}

Status Storage::create_empty_files(const std::vector<bool>& skip) {
    for (uint32_t i = 0; i < rel_paths_.size(); ++i) {
        if (layout_.file_length(i) != 0 || layout_.is_pad(i) || (i < skip.size() && skip[i])) continue;
        auto l = lease(i, true, nullptr);
        if (!l) return l.error();
    }
    return Ok{};
}

std::vector<FileStat> Storage::stat_files() const {
    std::vector<FileStat> out(rel_paths_.size());
    for (uint32_t i = 0; i < rel_paths_.size(); ++i) {
        if (layout_.is_pad(i)) {
            out[i] = FileStat{layout_.file_length(i), 0, true};
            continue;
        }
        struct stat st;
        // lstat: a symlink in the file's place is not our file.
        if (::lstat(file_path(i).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        out[i].exists = true;
        out[i].size = st.st_size;
        out[i].mtime_ns = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    return out;
}

Status Storage::check_writable() const {
    // The files' directory, or the nearest ancestor that exists (the rest is
    // created on the first write).  access() answers EROFS for a read-only
    // mount even for root, who ignores permission bits.
    std::string dir = base_dir_;
    for (;;) {
        struct stat st;
        if (::stat(dir.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode)) return make_sys_error("save directory " + dir + " is not a directory", ENOTDIR);
            if (::access(dir.c_str(), W_OK | X_OK) != 0) {
                int e = errno;
                return make_sys_error("save directory " + dir + " is not writable: " + std::strerror(e), e);
            }
            return Ok{};
        }
        int e = errno;
        if (e != ENOENT) return make_sys_error("save directory " + dir + ": " + std::strerror(e), e);
        size_t slash = dir.find_last_of('/');
        if (slash == std::string::npos) {
            if (dir == ".") return Ok{};
            dir = ".";
        } else if (slash == 0) {
            if (dir == "/") return Ok{};
            dir = "/";
        } else {
            dir.resize(slash);
        }
    }
}

void Storage::close_files() {
    for (uint32_t i = 0; i < rel_paths_.size(); ++i) pool_->close(file_path(i));
}

}  // namespace btl
