// Benchmark: DiskIo::check throughput on a warm page cache.
//   build/bench/recheck FILE PIECE_LEN [--jobs N] [--chunk MIB] [--read KIB] [--runs N] [--serve 1]
//                       [--cold 1]
// --serve 1 also times DiskIo::read serving every 16 KiB block in order (64
// requests outstanding, as a fast peer would), with and without the cache.
// --cold 1 drops FILE's pages from the page cache (posix_fadvise DONTNEED,
// this file only) before every run: a re-check from the disk.
// FILE must exist.  Piece hashes are computed in-process first (which also
// warms the page cache), then the median of --runs rechecks is reported as
// "recheck GB/s: X" (CPU per GB: the median too).
// Then the ceiling: what one byte costs a core at the least, measured here
// on one thread: the kernel's copy from the page cache (pread of --read
// slices into one buffer, nothing else) plus SHA-1 of a buffer already in
// L2; "ceiling GB/s" is every job's core spending only that.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "btl/disk/disk_io.hpp"

using namespace btl;

namespace {

double thread_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void drop_cache(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

// CPU seconds per GB, on this thread, of the two costs a re-check cannot
// avoid: copying the file out of the (warm) page cache, and SHA-1.
void print_ceiling(const std::string& path, int64_t size, const DiskIoOptions& opt, double ours_per_gb) {
    const size_t slice = std::max<size_t>(opt.check_read, 4096);
    std::vector<uint8_t> buf(slice);
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return;
    double gb = double(size) / 1e9;
    double c0 = thread_cpu_s();
    for (int64_t at = 0; at < size; at += int64_t(slice))
        if (::pread(fd, buf.data(), slice, at) < 0) break;
    double read_per_gb = (thread_cpu_s() - c0) / gb;
    ::close(fd);
    Sha1Hasher h;
    c0 = thread_cpu_s();
    for (int64_t at = 0; at < size; at += int64_t(slice)) h.update(buf.data(), slice);
    volatile uint8_t sink = h.finish()[0];
    (void)sink;
    double sha_per_gb = (thread_cpu_s() - c0) / gb;
    double floor = read_per_gb + sha_per_gb;
    std::printf("per GB on one core: pread from the page cache %.3f s + SHA-1 %.3f s = %.3f s; "
                "ours %.3f s (%.0f%% of it is the floor)\n",
                read_per_gb, sha_per_gb, floor, ours_per_gb, 100.0 * floor / ours_per_gb);
    std::printf("ceiling GB/s: %.2f (%u cores doing only pread + SHA-1); SHA-1 alone: %.2f\n",
                opt.check_jobs / floor, opt.check_jobs, opt.check_jobs / sha_per_gb);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s FILE PIECE_LEN [--jobs N] [--chunk MIB] [--runs N]\n", argv[0]);
        return 2;
    }
    std::string path = argv[1];
    int64_t pl = std::atoll(argv[2]);
    DiskIoOptions opt;
    int runs = 3;
    bool serve = false, cold = false;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--jobs")) opt.check_jobs = unsigned(std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--chunk")) opt.check_chunk = size_t(std::atoll(argv[i + 1])) << 20;
        else if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--read")) opt.check_read = size_t(std::atoll(argv[i + 1])) << 10;
        else if (!std::strcmp(argv[i], "--serve")) serve = std::atoi(argv[i + 1]) != 0;
        else if (!std::strcmp(argv[i], "--cold")) cold = std::atoi(argv[i + 1]) != 0;
    }
    struct stat sb;
    if (pl <= 0 || ::stat(path.c_str(), &sb) != 0 || sb.st_size == 0) {
        std::fprintf(stderr, "recheck: cannot use %s\n", path.c_str());
        return 1;
    }
    Metainfo m;
    m.name = path;
    m.piece_length = pl;
    m.total_length = sb.st_size;
    FileEntry fe;
    fe.path = {path};
    fe.path_string = path;
    fe.length = sb.st_size;
    m.files.push_back(fe);
    auto st = Storage::open(m, path, std::make_shared<FilePool>());
    if (!st) {
        std::fprintf(stderr, "recheck: %s\n", st.error().message.c_str());
        return 1;
    }
    std::vector<uint8_t> scratch;
    auto th0 = std::chrono::steady_clock::now();
    uint32_t n = uint32_t((sb.st_size + pl - 1) / pl);
    for (uint32_t p = 0; p < n; ++p) {
        auto h = (*st)->hash_piece(p, scratch);
        if (!h) {
            std::fprintf(stderr, "recheck: %s\n", h.error().message.c_str());
            return 1;
        }
        m.pieces.append(reinterpret_cast<const char*>(h->data()), 20);
    }

    double hs = std::chrono::duration<double>(std::chrono::steady_clock::now() - th0).count();
    std::printf("single-thread pread+SHA-1 (first pass, may be cold): %.2f GB/s\n", double(sb.st_size) / hs / 1e9);

    uv_loop_t loop;
    uv_loop_init(&loop);
    // CPU per run (all threads): on a busy machine wall-clock speed says
    // little, CPU seconds per GB and the share of the cores kept busy do.
    auto cpu_s = [] {
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    std::vector<double> all_gbs, all_cpu;
    for (int r = 0; r < runs; ++r) {
        if (cold) drop_cache(path);
        DiskIo io(&loop, opt);
        bool ok = false;
        double c0 = cpu_s();
        auto t0 = std::chrono::steady_clock::now();
        io.check(*st, m, nullptr, [&](Result<DiskIo::PieceMask> res) {
            ok = res.ok();
            if (ok)
                for (uint8_t b : *res) ok = ok && b;
        });
        uv_run(&loop, UV_RUN_DEFAULT);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!ok) {
            std::fprintf(stderr, "recheck: not every piece verified\n");
            return 1;
        }
        double gbs = double(sb.st_size) / s / 1e9;
        double cpu = cpu_s() - c0;
        std::printf("run %d: %.3f s, %.2f GB/s, CPU %.3f s (%.2f s per GB), %.0f%% of %u jobs' time busy\n", r + 1, s,
                    gbs, cpu, cpu / (double(sb.st_size) / 1e9), 100.0 * cpu / (s * opt.check_jobs), opt.check_jobs);
        all_gbs.push_back(gbs);
        all_cpu.push_back(cpu);
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    double med_cpu = median(all_cpu);
    std::printf("recheck CPU s per GB: %.3f (GB/s if %u cores were all ours: %.2f)\n",
                med_cpu / (double(sb.st_size) / 1e9), opt.check_jobs, opt.check_jobs * double(sb.st_size) / med_cpu / 1e9);
    std::printf("recheck GB/s: %.2f (median of %d)\n", median(all_gbs), runs);
    if (!cold) print_ceiling(path, sb.st_size, opt, med_cpu / (double(sb.st_size) / 1e9));

    for (size_t cache : {size_t(0), size_t(32) << 20}) {
        if (!serve) break;
        DiskIoOptions so;
        so.cache_bytes = cache;
        DiskIo io(&loop, so);
        const uint32_t block = 16384;
        int64_t next = 0, done = 0, total = sb.st_size;
        int failures = 0;
        std::function<void()> issue = [&] {
            while (next < total && next - done < 64 * int64_t(block)) {
                uint32_t len = uint32_t(std::min<int64_t>(block, total - next));
                io.read(*st, next, len, [&, len](Result<BufferPtr> r) {
                    if (!r) ++failures;
                    done += len;
                    issue();
                });
                next += len;
            }
        };
        auto t0 = std::chrono::steady_clock::now();
        issue();
        uv_run(&loop, UV_RUN_DEFAULT);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("serve 16 KiB blocks, cache %zu MiB: %.2f GB/s (%d failures, %llu disk reads)\n",
                    cache >> 20, double(total) / s / 1e9, failures,
                    (unsigned long long)io.stats().cache_misses);
    }
    uv_loop_close(&loop);
    return 0;
}
