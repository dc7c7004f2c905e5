// Reading --allowed_dir; see allowed_dir.hpp.
#include "btl/tracker/allowed_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "btl/core/bencode.hpp"

namespace btl {

namespace {

constexpr int64_t kMaxTorrentFile = 64 << 20;

bool read_file(const std::string& path, int64_t size, std::string& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    out.resize(static_cast<size_t>(size));
    size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return got == static_cast<size_t>(size);
}

}  // namespace

Result<TorrentIdentity> torrent_identity(std::string_view bytes) {
    auto doc = decode(bytes);
    if (!doc) return doc.error();
    BNode info = doc->root().find_dict("info");
    if (!info) return make_error("no info dictionary");
    TorrentIdentity id;
    id.info_hash = sha1(info.raw());
    id.name = std::string(info.find_string("name").string());
    return id;
}

Result<AllowedScan> scan_allowed_dir(const std::string& dir, const AllowedScan* previous) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return make_error(dir + ": " + std::strerror(errno));
    AllowedScan scan;
    std::string buf;
    while (dirent* ent = ::readdir(d)) {
        std::string name = ent->d_name;
        if (name.size() < 9 || name.compare(name.size() - 8, 8, ".torrent") != 0) continue;
        std::string path = dir + "/" + name;
        struct stat st;
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        AllowedScan::FileEntry fe;
        fe.size = st.st_size;
        fe.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        const AllowedScan::FileEntry* old = nullptr;
        if (previous) {
            auto it = previous->files.find(name);
            if (it != previous->files.end() && it->second.size == fe.size && it->second.mtime_ns == fe.mtime_ns)
                old = &it->second;
        }
        if (old) {
            fe = *old;
        } else if (fe.size > kMaxTorrentFile) {
            scan.warnings.push_back(path + ": too large for a .torrent, ignored");
        } else if (!read_file(path, fe.size, buf)) {
            scan.warnings.push_back(path + ": cannot read, ignored");
        } else if (auto id = torrent_identity(buf); !id) {
            scan.warnings.push_back(path + ": " + id.error().describe() + ", ignored");
        } else {
            fe.info_hash = id->info_hash;
            fe.name = std::move(id->name);
            fe.valid = true;
        }
        if (fe.valid) scan.allowed.emplace(fe.info_hash, fe.name);
        scan.files.emplace(std::move(name), std::move(fe));
    }
    ::closedir(d);
    return scan;
}

}  // namespace btl
