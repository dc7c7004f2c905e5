#include "btl/launcher/remove_data.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace btl {

namespace {

std::vector<std::string> split_path(const std::string& p) {
    std::vector<std::string> out;
    size_t at = 0;
    while (at <= p.size()) {
        size_t slash = p.find('/', at);
        if (slash == std::string::npos) slash = p.size();
        if (slash > at) out.push_back(p.substr(at, slash - at));
        at = slash + 1;
    }
    return out;
}

std::string why(const std::string& what) { return what + ": " + std::strerror(errno); }

// Deletes `name` inside the open directory `dir`, never following a link.
Status remove_at(int dir, const std::string& name, const std::string& shown, int depth) {
    if (depth > 256) return make_error(shown + ": directory tree too deep");
    struct stat st {};
    if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? Status(Ok{}) : make_error(why(shown));
    if (!S_ISDIR(st.st_mode)) {
        // Files and links alike: unlinking a link leaves its target alone.
        if (unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) return make_error(why(shown));
        return Ok{};
    }
    int fd = openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return make_error(why(shown));
    DIR* d = fdopendir(fd);
    if (!d) {
        close(fd);
        return make_error(why(shown));
    }
    std::vector<std::string> children;
    while (dirent* ent = readdir(d)) {
        std::string n = ent->d_name;
        if (n != "." && n != "..") children.push_back(std::move(n));
    }
    Status result = Ok{};
    for (const auto& c : children) {
        Status r = remove_at(dirfd(d), c, shown + "/" + c, depth + 1);
        if (!r.ok() && result.ok()) result = r;
    }
    closedir(d);
    if (!result.ok()) return result;
    if (unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) return make_error(why(shown));
    return Ok{};
}

}  // namespace

bool removable_data_path(const std::string& root, const std::string& path) {
    if (root.empty() || path.empty() || (root[0] == '/') != (path[0] == '/')) return false;
    auto r = split_path(root), p = split_path(path);
    for (const auto& e : p)
        if (e == "." || e == "..") return false;
    for (const auto& e : r)
        if (e == "..") return false;
    if (p.size() <= r.size()) return false;
    for (size_t i = 0; i < r.size(); ++i)
        if (r[i] != p[i]) return false;
    return true;
}

Status remove_torrent_data(const std::string& root, const std::string& path) {
    if (!removable_data_path(root, path))
        return make_error("refusing to delete " + path + ": not inside the save directory " + root);
    size_t slash = path.find_last_of('/');
    std::string parent = path.substr(0, slash == 0 ? 1 : slash), leaf = path.substr(slash + 1);
    // The parent may be reached through links the user made (the save
    // directory itself); from there on nothing is followed.
    int dir = open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno == ENOENT ? Status(Ok{}) : make_error(why(parent));
    Status r = remove_at(dir, leaf, path, 0);
    close(dir);
    if (!r.ok()) return r;
    // Empty directories between the data and the save directory go too
    // (rmdir fails harmlessly on one that still holds something).
    std::string up = parent;
    while (removable_data_path(root, up) && rmdir(up.c_str()) == 0) up = up.substr(0, up.find_last_of('/'));
    return Ok{};
}

}  // namespace btl
