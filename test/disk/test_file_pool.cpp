#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "btl/disk/file_pool.hpp"
#include "storage_test_util.hpp"

using namespace btl;
using testutil::TempDir;

static bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST_CASE("file_pool: the LRU stays bounded and evicts the least recently used") {
    TempDir t;
    FilePool pool(3);
    for (int i = 0; i < 5; ++i) testutil::write_file(t / ("f" + std::to_string(i)), {uint8_t(i)});
    for (int i = 0; i < 5; ++i) REQUIRE(pool.acquire(t / ("f" + std::to_string(i)), false).ok());
    CHECK(pool.open_count() == 3);
    CHECK(pool.max_open() == 3);
    pool.close_prefix(t.path + "/");
    CHECK(pool.open_count() == 0);
}

TEST_CASE("file_pool: a lease keeps its fd open through eviction and close") {
    TempDir t;
    testutil::write_file(t / "a", {42});
    testutil::write_file(t / "b", {43});
    FilePool pool(1);
    auto a = pool.acquire(t / "a", false);
    REQUIRE(a.ok());
    int fd = a->fd();
    REQUIRE(pool.acquire(t / "b", false).ok());  // evicts a from the cache
    CHECK(pool.open_count() == 1);
    CHECK(fd_open(fd));
    pool.close_all();
    CHECK(fd_open(fd));
    uint8_t byte = 0;
    CHECK(::pread(fd, &byte, 1, 0) == 1);
    CHECK(byte == 42);
    a = Result<FilePool::Lease>(FilePool::Lease{});  // drop the last reference
    CHECK_FALSE(fd_open(fd));
}

TEST_CASE("file_pool: opening for write upgrades a read-only fd") {
    TempDir t;
    testutil::write_file(t / "a", {1, 2, 3});
    FilePool pool;
    auto ro = pool.acquire(t / "a", false);
    REQUIRE(ro.ok());
    CHECK_FALSE(ro->writable());
    CHECK(::pwrite(ro->fd(), "x", 1, 0) < 0);
    auto rw = pool.acquire(t / "a", true);
    REQUIRE(rw.ok());
    CHECK(rw->writable());
    CHECK(rw->fd() != ro->fd());
    CHECK(::pwrite(rw->fd(), "x", 1, 0) == 1);
    CHECK(fd_open(ro->fd()));  // the old lease still works
    auto again = pool.acquire(t / "a", false);  // a read-write fd serves reads
    CHECK(again->fd() == rw->fd());
    CHECK(pool.open_count() == 1);
}

TEST_CASE("file_pool: acquire_under refuses symlinks below root and creates directories") {
    TempDir t, outside;
    FilePool pool;
    ::mkdir((t / "root").c_str(), 0755);
    REQUIRE(::symlink(outside.path.c_str(), (t / "root/evil").c_str()) == 0);
    REQUIRE(::symlink((outside / "target").c_str(), (t / "root/link").c_str()) == 0);

    auto r = pool.acquire_under(t / "root", "evil/x", true);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "refusing to follow symlink " + t.path + "/root/evil");
    r = pool.acquire_under(t / "root", "link", true);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "refusing to follow symlink " + t.path + "/root/link");
    CHECK(std::filesystem::is_empty(outside.path));

    int e = 0;
    r = pool.acquire_under(t / "root", "no/such", false, &e);
    CHECK_FALSE(r.ok());
    CHECK(e == ENOENT);

    r = pool.acquire_under(t / "root", "a/b/c", true);
    REQUIRE(r.ok());
    CHECK(std::filesystem::is_regular_file(t / "root/a/b/c"));
    // A trusted root that is itself a symlink is fine (the user chose it).
    REQUIRE(::symlink((t / "root").c_str(), (t / "alias").c_str()) == 0);
    CHECK(pool.acquire_under(t / "alias", "a/b/c", false).ok());
    // A missing root is created when writing.
    CHECK(pool.acquire_under(t / "new/root", "x", true).ok());
    CHECK(std::filesystem::is_regular_file(t / "new/root/x"));
}

TEST_CASE("file_pool: concurrent readers through a tiny pool see the right data") {
    TempDir t;
    const int files = 8;
    for (int i = 0; i < files; ++i) testutil::write_file(t / ("f" + std::to_string(i)), testutil::pattern(4096, i));
    FilePool pool(2);
    std::atomic<int> bad{0};
    std::vector<std::thread> th;
    for (int k = 0; k < 4; ++k) {
        th.emplace_back([&, k] {
            for (int n = 0; n < 2000; ++n) {
                int i = (n * 7 + k) % files;
                auto l = pool.acquire(t / ("f" + std::to_string(i)), n % 5 == 0);
                if (!l) {
                    ++bad;
                    continue;
                }
                uint8_t b[16];
                auto want = testutil::pattern(4096, i);
                if (::pread(l->fd(), b, 16, 100) != 16 || std::memcmp(b, want.data() + 100, 16) != 0) ++bad;
            }
        });
    }
    for (auto& x : th) x.join();
    CHECK(bad == 0);
    CHECK(pool.open_count() <= 2);
}
