#include "btl/base/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace btl {

Status write_file_atomic(const std::string& path, std::string_view data, bool durable) {
    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) return make_error("cannot write " + path + ": " + std::strerror(errno));
    auto fail = [&](int e) -> Status {
        ::close(fd);
        ::unlink(tmp.c_str());
        return make_error("cannot write " + path + ": " + std::strerror(e));
    };
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno);
        done += size_t(n);
    }
    if (::fchmod(fd, 0644) != 0) return fail(errno);
    // fsync before rename: otherwise a crash can leave the new name pointing
    // at an empty file.
    if (durable && ::fsync(fd) != 0) return fail(errno);
    if (::close(fd) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error("cannot write " + path + ": " + std::strerror(e));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error("cannot rename over " + path + ": " + std::strerror(e));
    }
    if (durable) {
        size_t slash = path.rfind('/');
        std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
        int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            ::fsync(dfd);  // makes the rename durable; failure here loses nothing
            ::close(dfd);
        }
    }
    return Ok{};
}

int remove_atomic_temps(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return 0;
    int removed = 0;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        // mkostemp's six characters exactly: PATH.tmp.old is someone else's.
        if (n.size() == prefix.size() + 6 && n.compare(0, prefix.size(), prefix) == 0 &&
            ::unlink((dir + "/" + n).c_str()) == 0)
            ++removed;
    }
    ::closedir(d);
    return removed;
}

}  // namespace btl
