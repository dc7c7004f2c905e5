#include <doctest/doctest.h>
#include <optional>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "btl/disk/piece_store.hpp"
#include "btl/disk/storage.hpp"
#include "storage_test_util.hpp"

using namespace btl;
using testutil::TempDir;

namespace {

struct Fixture {
    TempDir dir;
    std::vector<int64_t> lengths{1000, 0, 3000, 17, 5000};
    int64_t pl = 1024;
    std::vector<uint8_t> data = testutil::pattern(9017, 3);
    Metainfo m = testutil::make_meta(lengths, pl, data, true, {"a", "empty", "sub/b", "sub/deep/c", "d"});
    std::shared_ptr<FilePool> pool = std::make_shared<FilePool>(4);
    std::shared_ptr<Storage> st;
    Fixture() {
        auto r = Storage::open(m, dir / "t", pool);
        REQUIRE(r.ok());
        st = *r;
    }
    Status write_all() {
        for (uint32_t p = 0; p < m.num_pieces(); ++p) {
            int64_t off = int64_t(p) * pl;
            size_t n = size_t(std::min<int64_t>(pl, m.total_length - off));
            auto s = st->write_piece(p, data.data() + off, n);
            if (!s) return s;
        }
        return Ok{};
    }
};

}  // namespace

TEST_CASE("storage: write_piece then read round trip over uneven files") {
    Fixture f;
    REQUIRE(f.write_all().ok());
    CHECK(f.st->create_empty_files().ok());
    CHECK(testutil::read_file(f.dir / "t/a") == std::vector<uint8_t>(f.data.begin(), f.data.begin() + 1000));
    CHECK(testutil::read_file(f.dir / "t/sub/deep/c") ==
          std::vector<uint8_t>(f.data.begin() + 4000, f.data.begin() + 4017));
    CHECK(std::filesystem::file_size(f.dir / "t/empty") == 0);

    std::vector<uint8_t> all(f.data.size());
    REQUIRE(f.st->read(0, all.data(), all.size()).ok());
    CHECK(all == f.data);
    for (int64_t off : {0, 999, 1000, 3990, 4016, 9000}) {
        std::vector<uint8_t> b(17);
        REQUIRE(f.st->read(off, b.data(), b.size()).ok());
        CHECK(std::equal(b.begin(), b.end(), f.data.begin() + off));
    }
    std::vector<uint8_t> scratch;
    for (uint32_t p = 0; p < f.m.num_pieces(); ++p) {
        auto h = f.st->hash_piece(p, scratch);
        REQUIRE(h.ok());
        CHECK(std::memcmp(h->data(), f.m.pieces.data() + 20 * p, 20) == 0);
    }
    auto stats = f.st->stat_files();
    REQUIRE(stats.size() == 5);
    CHECK(stats[2].exists);
    CHECK(stats[2].size == 3000);
    CHECK(stats[2].mtime_ns > 0);
    CHECK(f.st->file_path(2) == f.dir / "t/sub/b");
}

TEST_CASE("storage: empty files and their directories exist before any piece is written") {
    TempDir dir;
    std::vector<int64_t> lengths{0, 2000, 0, 0, 0};
    std::vector<uint8_t> data = testutil::pattern(2000, 4);
    Metainfo m = testutil::make_meta(lengths, 1024, data, true,
                                     {"pkg/__init__.py", "pkg/core.py", "empty_dir/.gitkeep", "a/b/c/.keep", "last"});
    auto st = Storage::open(m, dir / "t", std::make_shared<FilePool>(4));
    REQUIRE(st.ok());
    REQUIRE((*st)->create_empty_files().ok());
    for (const char* rel : {"t/pkg/__init__.py", "t/empty_dir/.gitkeep", "t/a/b/c/.keep", "t/last"}) {
        CAPTURE(rel);
        CHECK(std::filesystem::is_regular_file(dir / rel));
        CHECK(std::filesystem::file_size(dir / rel) == 0);
    }
    // Only the empty files: the data file appears with its first piece.
    CHECK_FALSE(std::filesystem::exists(dir / "t/pkg/core.py"));
    // Idempotent, and it never truncates a file that gained data.
    REQUIRE((*st)->write_piece(0, data.data(), 1024).ok());
    REQUIRE((*st)->create_empty_files().ok());
    CHECK(std::filesystem::file_size(dir / "t/pkg/core.py") == 1024);
}

TEST_CASE("storage: DiskPieceStore creates the empty files on the pool and answers on the loop") {
    TempDir dir;
    std::vector<int64_t> lengths{3000, 0};
    std::vector<uint8_t> data = testutil::pattern(3000, 5);
    Metainfo m = testutil::make_meta(lengths, 1024, data, true, {"data.bin", "sub/.gitkeep"});
    auto st = Storage::open(m, dir / "t", std::make_shared<FilePool>(4));
    REQUIRE(st.ok());
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::optional<Status> got;
    {
        DiskIo io(&loop);
        DiskPieceStore store(&loop, io, *st);
        store.create_empty_files([&](Status s) { got = std::move(s); });
        CHECK_FALSE(got.has_value());  // never inside the call
        for (int i = 0; i < 100000 && !got; ++i) uv_run(&loop, UV_RUN_ONCE);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    REQUIRE(got.has_value());
    CHECK(got->ok());
    CHECK(std::filesystem::is_regular_file(dir / "t/sub/.gitkeep"));
    CHECK_FALSE(std::filesystem::exists(dir / "t/data.bin"));
}

TEST_CASE("storage: wrong sizes and out-of-range reads are errors") {
    Fixture f;
    CHECK_FALSE(f.st->write_piece(0, f.data.data(), 10).ok());
    CHECK_FALSE(f.st->write_piece(99, f.data.data(), 1024).ok());
    std::vector<uint8_t> b(10);
    CHECK_FALSE(f.st->read(9010, b.data(), 10).ok());
    CHECK_FALSE(f.st->read(-1, b.data(), 1).ok());
}

TEST_CASE("storage: missing and short files are reported, never read as garbage") {
    Fixture f;
    REQUIRE(f.write_all().ok());
    std::filesystem::remove(f.dir / "t/sub/b");
    f.pool->close_all();  // a cached fd would still read the unlinked file
    std::vector<uint8_t> b(100);
    auto s = f.st->read(1500, b.data(), b.size());
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "file missing: " + f.dir / "t/sub/b");
    std::filesystem::resize_file(f.dir / "t/d", 100);
    s = f.st->read(8000, b.data(), b.size());
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "file truncated: " + f.dir / "t/d");

    // The lenient read zero-fills and reports what was missing.
    std::vector<ByteRange> missing;
    std::vector<uint8_t> all(f.data.size(), 0xAA);
    REQUIRE(f.st->read_lenient(0, all.data(), all.size(), missing).ok());
    REQUIRE(missing.size() == 2);
    CHECK(missing[0].offset == 1000);
    CHECK(missing[0].length == 3000);
    CHECK(missing[1].offset == 4017 + 100);
    CHECK(missing[1].length == 4900);
    CHECK(all[2000] == 0);
    CHECK(all[9016] == 0);
    CHECK(std::equal(all.begin(), all.begin() + 1000, f.data.begin()));
}

TEST_CASE("storage: pad files are never written and read as zeros") {
    TempDir dir;
    std::vector<uint8_t> data = testutil::pattern(48, 9);
    std::fill(data.begin() + 10, data.begin() + 16, 0);
    auto m = testutil::make_meta({10, 6, 32}, 16, data, true, {"x", ".pad/6", "y"}, {false, true, false});
    auto st = Storage::open(m, dir / "t", nullptr);
    REQUIRE(st.ok());
    for (uint32_t p = 0; p < 3; ++p) REQUIRE((*st)->write_piece(p, data.data() + 16 * p, 16).ok());
    CHECK_FALSE(std::filesystem::exists(dir / "t/.pad"));
    std::vector<uint8_t> back(48, 0xff);
    REQUIRE((*st)->read(0, back.data(), 48).ok());
    CHECK(back == data);
}

TEST_CASE("storage: single-file torrent writes exactly at root") {
    TempDir dir;
    auto data = testutil::pattern(5000, 4);
    auto m = testutil::make_meta({5000}, 2048, data, false, {"movie.bin"});
    auto st = Storage::open(m, dir / "dl/movie.bin", nullptr);
    REQUIRE(st.ok());
    REQUIRE((*st)->write(0, data.data(), data.size()).ok());
    CHECK(testutil::read_file(dir / "dl/movie.bin") == data);
    CHECK((*st)->file_path(0) == dir / "dl/movie.bin");
}

TEST_CASE("storage: a symlinked directory inside root never redirects a write") {
    Fixture f;
    TempDir outside;
    std::filesystem::create_directories(f.dir / "t");
    REQUIRE(::symlink(outside.path.c_str(), (f.dir / "t/sub").c_str()) == 0);
    auto s = f.write_all();
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "refusing to follow symlink " + f.dir / "t/sub");
    CHECK(std::filesystem::is_empty(outside.path));
    std::vector<uint8_t> b(10);
    CHECK_FALSE(f.st->read(1500, b.data(), b.size()).ok());
    CHECK_FALSE(f.st->stat_files()[2].exists);
}

TEST_CASE("storage: a full disk is one clear error naming the file") {
    // RLIMIT_FSIZE makes writes past the limit fail with EFBIG (SIGXFSZ
    // ignored); a child process keeps the limit away from the test binary.
    Fixture f;
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl{2048, 2048};
        ::setrlimit(RLIMIT_FSIZE, &rl);
        auto s = f.write_all();
        bool good = !s.ok() && s.error().message == "file too large writing " + f.dir / "t/sub/b";
        ::_exit(good ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("storage: a file deleted while its fd is cached reads as missing, never as the ghost") {
    Fixture f;
    REQUIRE(f.write_all().ok());
    std::vector<uint8_t> b(100);
    REQUIRE(f.st->read(1500, b.data(), b.size()).ok());  // the fd of sub/b is now in the pool
    std::filesystem::remove(f.dir / "t/sub/b");
    auto s = f.st->read(1500, b.data(), b.size());
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "file missing: " + f.dir / "t/sub/b");
    CHECK(s.error().sys_errno == ENOENT);
    // The re-check sees the hole too.
    REQUIRE(f.st->read(1500, b.data(), b.size()).ok() == false);
    std::vector<ByteRange> missing;
    std::vector<uint8_t> all(f.data.size());
    REQUIRE(f.st->read_lenient(0, all.data(), all.size(), missing).ok());
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].offset == 1000);
    CHECK(missing[0].length == 3000);
}

TEST_CASE("storage: a write to a file deleted while its fd is cached creates it again") {
    Fixture f;
    REQUIRE(f.write_all().ok());
    std::vector<uint8_t> b(100);
    REQUIRE(f.st->read(8000, b.data(), b.size()).ok());
    std::filesystem::remove(f.dir / "t/d");
    REQUIRE(f.st->write(8000, f.data.data() + 8000, 100).ok());
    REQUIRE(std::filesystem::exists(f.dir / "t/d"));
    CHECK(std::filesystem::file_size(f.dir / "t/d") == 8100 - 4017);
}

TEST_CASE("storage: check_writable looks at the nearest existing directory") {
    TempDir dir;
    auto m = testutil::make_meta({10}, 16, testutil::pattern(10), false, {"x"});
    auto st = Storage::open(m, dir / "not/yet/there/x", std::make_shared<FilePool>());
    REQUIRE(st.ok());
    CHECK((*st)->check_writable().ok());
    testutil::write_file(dir / "plain", {1, 2, 3});
    auto st2 = Storage::open(m, dir / "plain/x", std::make_shared<FilePool>());
    REQUIRE(st2.ok());
    auto w = (*st2)->check_writable();
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().message == "save directory " + dir / "plain" + " is not a directory");
}

TEST_CASE("storage: write errors carry their errno") {
    Fixture f;
    // A regular file where the directory "sub" should be.
    testutil::write_file(f.dir / "t/sub", {1});
    auto s = f.st->write(1500, f.data.data() + 1500, 10);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().sys_errno == ENOTDIR);
}

TEST_CASE("storage: write_gather lays buffers end to end across files, pad files and uneven cuts") {
    SUBCASE("uneven files, the buffers cut across file ends") {
        Fixture f;
        // Buffers of 700, 1, 2299, 3017, 3000 bytes: cuts fall inside files
        // and exactly at the file boundaries at 1000 and 4000 (sizes sum to
        // the whole stream, 9017 bytes).
        std::vector<size_t> sizes{700, 1, 2299, 3017, 3000};
        std::vector<iovec> iov;
        size_t at = 0;
        for (size_t n : sizes) {
            iov.push_back(iovec{f.data.data() + at, n});
            at += n;
        }
        REQUIRE(at == f.data.size());
        REQUIRE(f.st->write_gather(0, iov.data(), iov.size()).ok());
        std::vector<uint8_t> all(f.data.size());
        REQUIRE(f.st->read(0, all.data(), all.size()).ok());
        CHECK(all == f.data);
        CHECK(testutil::read_file(f.dir / "t/sub/deep/c") ==
              std::vector<uint8_t>(f.data.begin() + 4000, f.data.begin() + 4017));
    }
    SUBCASE("a range in the middle, more buffers than one pwritev takes") {
        Fixture f;
        std::vector<iovec> iov;
        for (size_t off = 500; off < 8500; off += 50) iov.push_back(iovec{f.data.data() + off, 50});
        REQUIRE(iov.size() > 64);
        REQUIRE(f.st->write_gather(500, iov.data(), iov.size()).ok());
        std::vector<uint8_t> mid(8000);
        REQUIRE(f.st->read(500, mid.data(), mid.size()).ok());
        CHECK(std::equal(mid.begin(), mid.end(), f.data.begin() + 500));
    }
    SUBCASE("pad files are skipped, the buffers after them land where they belong") {
        TempDir dir;
        std::vector<uint8_t> data = testutil::pattern(48, 9);
        std::fill(data.begin() + 10, data.begin() + 16, 0);
        auto m = testutil::make_meta({10, 6, 32}, 16, data, true, {"x", ".pad/6", "y"}, {false, true, false});
        auto st = Storage::open(m, dir / "t", nullptr);
        REQUIRE(st.ok());
        iovec iov[3] = {{data.data(), 12}, {data.data() + 12, 20}, {data.data() + 32, 16}};
        REQUIRE((*st)->write_gather(0, iov, 3).ok());
        CHECK_FALSE(std::filesystem::exists(dir / "t/.pad"));
        std::vector<uint8_t> back(48, 0xff);
        REQUIRE((*st)->read(0, back.data(), 48).ok());
        CHECK(back == data);
    }
    SUBCASE("beyond the end is refused") {
        Fixture f;
        iovec iov[2] = {{f.data.data(), 9000}, {f.data.data(), 100}};
        auto s = f.st->write_gather(0, iov, 2);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().message.find("range beyond the end") == 0);
    }
}
