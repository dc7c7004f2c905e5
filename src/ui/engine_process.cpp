#include "btl/ui/engine_process.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "btl/base/lock_file.hpp"

namespace btl::ui {

bool engine_running(const std::string& data_dir, int* pid) {
    auto lock = try_lock_file(data_dir + "/btlaunchmany.lock");
    if (pid) *pid = lock.holder_pid;
    return lock.busy;  // a lock we got is released (and unlinked) right here
}

std::vector<std::string> engine_argv(const std::string& self, const std::vector<std::string>& args) {
    std::vector<std::string> out{self};
    for (const auto& a : args) {
        if (a == "--") break;
        out.push_back(a);
    }
    // Positional arguments after "--" keep their place after the options.
    std::vector<std::string> tail;
    bool after = false;
    for (const auto& a : args) {
        if (after) tail.push_back(a);
        if (a == "--") after = true;
    }
    out.push_back("--display");
    out.push_back("plain");
    if (after) {
        out.push_back("--");
        out.insert(out.end(), tail.begin(), tail.end());
    }
    return out;
}

Result<pid_t> spawn_engine(const std::string& program, const std::vector<std::string>& argv,
                           const std::string& log_path) {
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) return make_error("cannot open " + log_path + ": " + std::strerror(errno));
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        ::close(log_fd);
        return make_error(std::string("cannot open /dev/null: ") + std::strerror(errno));
    }
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(log_fd);
        ::close(null_fd);
        return make_error(std::string("cannot start the engine: ") + std::strerror(e));
    }
    if (pid == 0) {
        // The child: its own session, no terminal, the log as its output.
        ::setsid();
        ::dup2(null_fd, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        ::execv(program.c_str(), cargv.data());
        ::_exit(127);
    }
    ::close(log_fd);
    ::close(null_fd);
    return pid;
}

namespace {

bool socket_answers(const std::string& path) {
    sockaddr_un sa{};
    if (path.size() >= sizeof sa.sun_path) return false;
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

Status wait_for_engine(const std::string& path, pid_t child, const std::string& data_dir, double timeout_s,
                       const std::string& log_path) {
    if (path.size() >= sizeof(sockaddr_un{}.sun_path))
        return make_error(path + ": socket path too long (at most " + std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                          " bytes); use a shorter --data_dir");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    bool child_gone = false;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (socket_answers(path)) return Ok{};
        if (!child_gone && child > 0 && ::waitpid(child, &status, WNOHANG) == child) child_gone = true;
        // Our engine died; another may have taken the data dir in between.
        if (child_gone && !engine_running(data_dir)) {
            std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                                : "signal " + std::to_string(WTERMSIG(status));
            return make_error("the engine stopped at start (" + how + "); see " + log_path);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return make_error("the engine did not open " + path + " within " + std::to_string(int(timeout_s)) + " s; see " +
                      log_path);
}

}  // namespace btl::ui
