#include "btl/disk/move_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

namespace btl {

namespace {

std::string trim_slashes(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

std::string parent_of(const std::string& p) {
    size_t s = p.rfind('/');
    if (s == std::string::npos) return ".";
    if (s == 0) return "/";
    return p.substr(0, s);
}

std::string sys_msg(const std::string& what, const std::string& path, int err) {
    return what + " " + path + ": " + std::strerror(err);
}

// mkdir -p, refusing nothing: the destination is the user's choice.
Status make_dirs(const std::string& dir) {
    if (dir.empty() || dir == "/" || dir == ".") return Ok{};
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return Ok{};
        return make_error("cannot create directory " + dir + ": a file is in the way");
    }
    if (Status s = make_dirs(parent_of(dir)); !s.ok()) return s;
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
        return make_sys_error(sys_msg("cannot create directory", dir, errno), errno);
    return Ok{};
}

enum class Where { absent, file, other };
Where probe(const std::string& p, struct stat* out = nullptr) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return Where::absent;
    if (out) *out = st;
    return S_ISREG(st.st_mode) ? Where::file : Where::other;
}

Status fsync_path(const std::string& p, int flags) {
    int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return make_sys_error(sys_msg("cannot open", p, errno), errno);
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) return make_sys_error(sys_msg("cannot sync", p, err), err);
    return Ok{};
}

// Copies from -> to via to.btlmove: chunks, fsync, the source's mtime, rename.
Status copy_file(const MoveFile& f, const struct stat& src_st, MoveProgress* prog) {
    const std::string tmp = f.to + ".btlmove";
    int in = ::open(f.from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) return make_sys_error(sys_msg("cannot open", f.from, errno), errno);
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (out < 0) {
        int err = errno;
        ::close(in);
        return make_sys_error(sys_msg("cannot create", tmp, err), err);
    }
    std::vector<uint8_t> buf(size_t(1) << 20);
    Status result = Ok{};
    off_t at = 0;
    for (;;) {
        ssize_t n = ::pread(in, buf.data(), buf.size(), at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            result = make_sys_error(sys_msg("cannot read", f.from, errno), errno);
            break;
        }
        if (n == 0) break;
        if (prog && prog->cancel) {
            result = make_error("move interrupted");
            break;
        }
        ssize_t done = 0;
        while (done < n) {
            ssize_t w = ::pwrite(out, buf.data() + done, size_t(n - done), at + done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                int err = w < 0 ? errno : ENOSPC;
                result = make_sys_error(sys_msg("cannot write", tmp, err), err);
                break;
            }
            done += w;
        }
        if (!result.ok()) break;
        at += n;
        if (prog) prog->bytes_done += n;
    }
    if (result.ok() && ::fsync(out) != 0) result = make_sys_error(sys_msg("cannot sync", tmp, errno), errno);
    if (result.ok()) {
        timespec times[2] = {src_st.st_atim, src_st.st_mtim};
        ::futimens(out, times);
    }
    ::close(in);
    if (::close(out) != 0 && result.ok()) result = make_sys_error(sys_msg("cannot write", tmp, errno), errno);
    if (result.ok() && ::rename(tmp.c_str(), f.to.c_str()) != 0)
        result = make_sys_error(sys_msg("cannot rename " + tmp + " to", f.to, errno), errno);
    if (!result.ok()) ::unlink(tmp.c_str());
    return result;
}

// Moves one file to its destination; *copied says the source stays until
// every file is done.
Status move_one(const MoveFile& f, bool force_copy, MoveProgress* prog, bool* copied) {
    *copied = false;
    struct stat st {};
    Where src = probe(f.from, &st);
    if (src == Where::other) return make_error("refusing to move " + f.from + ": not a regular file");
    if (src == Where::absent) {
        // Done already, or never written: either way nothing to do.
        if (prog && probe(f.to) == Where::file) prog->bytes_done += f.length;
        return Ok{};
    }
    if (Status s = make_dirs(parent_of(f.to)); !s.ok()) return s;
    if (!force_copy) {
        if (::rename(f.from.c_str(), f.to.c_str()) == 0) {
            if (prog) prog->bytes_done += int64_t(st.st_size);
            return Ok{};
        }
        if (errno != EXDEV) return make_sys_error(sys_msg("cannot move " + f.from + " to", f.to, errno), errno);
    }
    *copied = true;
    return copy_file(f, st, prog);
}

// Directories between each source file and from_root, deepest first, then
// from_root itself (multi-file torrents): removed if empty.
void remove_empty_dirs(const MovePlan& p) {
    if (!p.multi_file) return;
    std::set<std::string> dirs;
    for (const auto& f : p.files)
        for (std::string d = parent_of(f.from); d.size() > p.from_root.size(); d = parent_of(d)) dirs.insert(d);
    std::vector<std::string> order(dirs.begin(), dirs.end());
    std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const auto& d : order) ::rmdir(d.c_str());
    ::rmdir(p.from_root.c_str());
}

}  // namespace

std::string relocated_save_path(const std::string& save_path, const std::string& dest_dir) {
    std::string sp = trim_slashes(save_path);
    size_t s = sp.rfind('/');
    std::string last = s == std::string::npos ? sp : sp.substr(s + 1);
    if (last.empty() || last == "/" || last == "." || last == "..") return "";
    std::string d = trim_slashes(dest_dir);
    if (d.empty()) return "";
    return d == "/" ? "/" + last : d + "/" + last;
}

MovePlan plan_move(const Metainfo& m, const std::string& from_root, const std::string& to_root) {
    MovePlan p;
    p.from_root = trim_slashes(from_root);
    p.to_root = trim_slashes(to_root);
    p.multi_file = m.multi_file;
    if (!m.multi_file) {
        int64_t len = m.files.empty() ? m.total_length : m.files[0].length;
        p.files.push_back({p.from_root, p.to_root, len});
        return p;
    }
    for (const auto& f : m.files) {
        if (f.pad) continue;
        p.files.push_back({p.from_root + "/" + f.path_string, p.to_root + "/" + f.path_string, f.length});
    }
    return p;
}

std::string move_refusal(const std::string& from, const std::string& to) {
    std::string a = trim_slashes(from), b = trim_slashes(to);
    if (a.empty() || b.empty()) return "empty path";
    if (a == b) return "the data is already at " + a;
    auto inside = [](const std::string& x, const std::string& y) {
        return x.size() > y.size() && x.compare(0, y.size(), y) == 0 && (y == "/" || x[y.size()] == '/');
    };
    if (inside(b, a)) return b + " lies inside " + a;
    if (inside(a, b)) return a + " lies inside " + b;
    return "";
}

Status execute_move(const MovePlan& plan, MoveProgress* progress) {
    if (std::string why = move_refusal(plan.from_root, plan.to_root); !why.empty())
        return make_error("cannot move " + plan.from_root + " to " + plan.to_root + ": " + why);
    if (progress) {
        int64_t total = 0;
        for (const auto& f : plan.files) total += f.length;
        progress->bytes_total = total;
        progress->bytes_done = 0;
    }
    std::vector<const MoveFile*> copied;
    std::set<std::string> dest_dirs;
    for (const auto& f : plan.files) {
        if (progress && progress->cancel) return make_error("move interrupted");
        bool c = false;
        if (Status s = move_one(f, plan.force_copy, progress, &c); !s.ok()) return s;
        if (c) copied.push_back(&f);
        // A temp a killed copy left, when this run could rename instead.
        if (!c) ::unlink((f.to + ".btlmove").c_str());
        dest_dirs.insert(parent_of(f.to));
    }
    // The renames into place must be on disk before a source goes.
    for (const auto& d : dest_dirs)
        if (probe(d) != Where::absent)
            if (Status s = fsync_path(d, O_RDONLY | O_DIRECTORY); !s.ok()) return s;
    for (const MoveFile* f : copied)
        if (::unlink(f->from.c_str()) != 0 && errno != ENOENT)
            return make_sys_error(sys_msg("moved, but cannot remove", f->from, errno), errno);
    remove_empty_dirs(plan);
    return Ok{};
}

}  // namespace btl
