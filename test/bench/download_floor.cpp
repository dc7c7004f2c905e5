// Benchmark: the floor of a single-peer download on this machine.
//   build/bench/download_floor [--size MIB] [--runs N] [--read KIB] [--piece KIB] [--file PATH]
// What any leecher must do for every byte, and nothing else: recv from a
// loopback TCP socket (fed by a trivial sender process that writes one
// buffer over and over), pwrite to a new file, SHA-1 each piece.  One
// thread, blocking calls, --read KiB per recv (default 256).  Stages are
// measured separately so the cost of each shows:
//   recv             recv only (the bytes are dropped)
//   recv+pwrite      recv, then pwrite at the running offset
//   recv+pwrite+sha1 the above, and SHA-1 of each piece in-line
// CPU is the receiving process's user+sys (getrusage; the sender is another
// process), scaled to "s per 256 MiB" so it reads beside bench_download.py's
// figures; the median of --runs runs of each stage.  The file is unlinked
// before and after each run (a fresh file, as a leecher writes).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "btl/base/sha1.hpp"

namespace {

struct Args {
    int64_t size = int64_t(256) << 20;
    int runs = 3;
    size_t read = 256 << 10;
    int64_t piece = int64_t(1) << 20;
    std::string file = "/tmp/btl-download-floor.bin";
};

enum class Stage { recv, write, hash };

double cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// A listening socket on 127.0.0.1 and a child that connects and sends
// `size` bytes; returns the accepted socket (the child's pid in *pid).
int start_sender(int64_t size, pid_t* pid) {
    int ls = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (ls < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls, 1) != 0 ||
        ::getsockname(ls, reinterpret_cast<sockaddr*>(&a), &al) != 0) {
        std::perror("download_floor: listen");
        std::exit(1);
    }
    *pid = ::fork();
    if (*pid == 0) {
        ::close(ls);
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) _exit(1);
        std::vector<char> buf(size_t(1) << 20);
        for (size_t i = 0; i < buf.size(); ++i) buf[i] = char(i * 2654435761u >> 24);
        int64_t left = size;
        while (left > 0) {
            ssize_t n = ::send(s, buf.data(), size_t(std::min<int64_t>(left, int64_t(buf.size()))), 0);
            if (n <= 0) _exit(1);
            left -= n;
        }
        ::close(s);
        _exit(0);
    }
    int s = ::accept(ls, nullptr, nullptr);
    ::close(ls);
    if (s < 0) {
        std::perror("download_floor: accept");
        std::exit(1);
    }
    return s;
}

struct RunResult {
    double cpu, wall;
};

RunResult one_run(const Args& a, Stage stage) {
    ::unlink(a.file.c_str());
    int fd = -1;
    if (stage != Stage::recv) {
        fd = ::open(a.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            std::perror(a.file.c_str());
            std::exit(1);
        }
    }
    pid_t pid = 0;
    std::vector<uint8_t> buf(a.read);
    btl::Sha1Hasher h;
    int64_t got = 0, piece_left = a.piece;
    const double c0 = cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    int s = start_sender(a.size, &pid);
    while (got < a.size) {
        ssize_t n = ::recv(s, buf.data(), buf.size(), 0);
        if (n <= 0) {
            std::fprintf(stderr, "download_floor: the sender stopped after %lld bytes\n", (long long)got);
            std::exit(1);
        }
        if (stage != Stage::recv && ::pwrite(fd, buf.data(), size_t(n), got) != n) {
            std::perror("download_floor: pwrite");
            std::exit(1);
        }
        if (stage == Stage::hash) {
            // Pieces are cut where they end, as a leecher must.
            const uint8_t* p = buf.data();
            int64_t left = n;
            while (left > 0) {
                int64_t take = std::min(left, piece_left);
                h.update(p, size_t(take));
                p += take;
                left -= take;
                piece_left -= take;
                if (piece_left == 0) {
                    (void)h.finish();
                    piece_left = a.piece;
                }
            }
        }
        got += n;
    }
    ::close(s);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_s() - c0;
    if (fd >= 0) ::close(fd);
    int st = 0;
    ::waitpid(pid, &st, 0);
    ::unlink(a.file.c_str());
    return {cpu, wall};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool parse_args(int argc, char** argv, Args& a) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const char* k = argv[i];
        long long v = std::atoll(argv[i + 1]);
        if (!std::strcmp(k, "--size")) a.size = int64_t(v) << 20;
        else if (!std::strcmp(k, "--runs")) a.runs = int(v);
        else if (!std::strcmp(k, "--read")) a.read = size_t(v) << 10;
        else if (!std::strcmp(k, "--piece")) a.piece = int64_t(v) << 10;
        else if (!std::strcmp(k, "--file")) a.file = argv[i + 1];
        else {
            std::fprintf(stderr, "download_floor: unknown option %s\n", k);
            return false;
        }
    }
    if (argc % 2 == 0 || a.size <= 0 || a.runs <= 0 || a.read == 0 || a.piece <= 0) {
        std::fprintf(stderr, "usage: download_floor [--size MIB] [--runs N] [--read KIB] [--piece KIB] [--file PATH]\n");
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    if (!parse_args(argc, argv, a)) return 2;
    const double per256 = double(int64_t(256) << 20) / double(a.size);
    struct Row {
        const char* name;
        Stage stage;
    } rows[] = {{"recv", Stage::recv}, {"recv+pwrite", Stage::write}, {"recv+pwrite+sha1", Stage::hash}};
    std::printf("download_floor: %lld MiB over loopback TCP, %zu KiB per recv, %lld KiB pieces, median of %d\n",
                (long long)(a.size >> 20), a.read >> 10, (long long)(a.piece >> 10), a.runs);
    for (const auto& r : rows) {
        std::vector<double> cpu, wall;
        for (int i = 0; i < a.runs; ++i) {
            RunResult x = one_run(a, r.stage);
            cpu.push_back(x.cpu);
            wall.push_back(x.wall);
        }
        const double c = median(cpu), w = median(wall);
        std::printf("floor %-17s CPU %.3f s per 256 MiB, %.0f MB/s\n", r.name, c * per256, double(a.size) / w / 1e6);
    }
    return 0;
}
