#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <utility>
#include <string>

#include "btl/base/lock_file.hpp"

using namespace btl;

namespace {

std::string temp_dir() {
    char tmpl[] = "/tmp/btl-lock-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    return tmpl;
}

bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("lock_file: a second lock on the same file is refused with the holder's pid") {
    std::string d = temp_dir(), p = d + "/x.lock";
    auto a = try_lock_file(p);
    REQUIRE(a.ok());
    CHECK(a.lock.path() == p);
    // flock belongs to the open file description: a second open in the same
    // process conflicts like another process would.
    auto b = try_lock_file(p);
    CHECK(!b.ok());
    CHECK(b.busy);
    CHECK(b.holder_pid == int(::getpid()));
    a.lock.release();
    CHECK(!exists(p));  // released locks leave no file behind
    auto c = try_lock_file(p);
    CHECK(c.ok());
    c.lock.release();
    ::rmdir(d.c_str());
}

TEST_CASE("lock_file: moving a lock keeps it held; destruction releases it") {
    std::string d = temp_dir(), p = d + "/m.lock";
    {
        LockFile held;
        {
            auto a = try_lock_file(p);
            REQUIRE(a.ok());
            held = std::move(a.lock);
        }
        CHECK(held.held());
        CHECK(try_lock_file(p).busy);
    }
    CHECK(!exists(p));
    CHECK(try_lock_file(p).ok());
    ::rmdir(d.c_str());
}

TEST_CASE("lock_file: a SIGKILLed holder leaves a file but no lock") {
    std::string d = temp_dir(), p = d + "/k.lock";
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto a = try_lock_file(p);
        char c = a.ok() ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        for (;;) ::pause();
    }
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    REQUIRE(c == 'y');
    auto busy = try_lock_file(p);
    CHECK(busy.busy);
    CHECK(busy.holder_pid == int(child));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(exists(p));  // the stale file stays ...
    auto after = try_lock_file(p);
    CHECK(after.ok());  // ... but the lock went with the process
    after.lock.release();
    ::close(ready[0]);
    ::close(ready[1]);
    ::rmdir(d.c_str());
}

TEST_CASE("lock_file: an unusable directory is an error naming the path, not busy") {
    auto a = try_lock_file("/nonexistent-btl-dir/x.lock");
    CHECK(!a.ok());
    CHECK(!a.busy);
    CHECK(a.error.find("/nonexistent-btl-dir/x.lock") != std::string::npos);
}

TEST_CASE("lock_file: make_directories creates nested directories and refuses a file") {
    std::string d = temp_dir();
    CHECK(make_directories(d + "/a/b/c") == 0);
    CHECK(exists(d + "/a/b/c"));
    CHECK(make_directories(d + "/a/b/c") == 0);
    auto l = try_lock_file(d + "/a/f");
    REQUIRE(l.ok());
    CHECK(make_directories(d + "/a/f") != 0);
    l.lock.release();
    ::rmdir((d + "/a/b/c").c_str());
    ::rmdir((d + "/a/b").c_str());
    ::rmdir((d + "/a").c_str());
    ::rmdir(d.c_str());
}

namespace {

// Runs `body` in a forked child that reports one byte through a pipe and then
// waits to be killed; returns the child's pid and the byte.
std::pair<pid_t, char> child_reporting(const std::function<char()>& body, int fds[2]) {
    REQUIRE(::pipe(fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        char c = body();
        (void)!::write(fds[1], &c, 1);
        for (;;) ::pause();
    }
    char c = 0;
    REQUIRE(::read(fds[0], &c, 1) == 1);
    return {child, c};
}

void reap(pid_t child, int fds[2]) {
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace

TEST_CASE("lock_table: keys are the first 8 bytes big-endian, masked to 62 bits") {
    const uint8_t a[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    CHECK(lock_table_key(a) == 0x0102030405060708ULL);
    const uint8_t b[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(lock_table_key(b) == (uint64_t(1) << 62) - 1);
}

TEST_CASE("lock_table: lock and unlock in one process; the file is lazy and stays") {
    std::string d = temp_dir(), p = d + "/torrents.lock";
    {
        LockTable t(p);
        CHECK(!exists(p));  // opened on first use
        auto a = t.lock(42);
        REQUIRE(a.ok());
        CHECK(exists(p));
        CHECK(t.holder_pid(42) == 0);  // F_GETLK does not report our own locks
        CHECK(t.lock(7).ok());
        t.unlock(42);
        t.unlock(42);  // twice is harmless
        CHECK(t.lock(42).ok());
        CHECK(t.lock((uint64_t(1) << 62) - 1).ok());
    }
    CHECK(exists(p));  // never unlinked
    ::unlink(p.c_str());
    ::rmdir(d.c_str());
}

TEST_CASE("lock_table: another process's lock is busy with its pid, and goes with it") {
    std::string d = temp_dir(), p = d + "/torrents.lock";
    int fds[2];
    LockTable* kept = nullptr;
    auto [holder, c2] = child_reporting(
        [&] {
            kept = new LockTable(p);  // never destroyed: the child is killed holding it
            return kept->lock(1000).ok() && kept->lock(2000).ok() ? 'y' : 'n';
        },
        fds);
    REQUIRE(c2 == 'y');
    LockTable t(p);
    auto busy = t.lock(1000);
    CHECK(!busy.ok());
    CHECK(busy.busy);
    CHECK(busy.error.empty());
    CHECK(busy.holder_pid == int(holder));
    CHECK(t.holder_pid(2000) == int(holder));
    CHECK(t.holder_pid(1001) == 0);
    CHECK(t.lock(1001).ok());  // a neighbouring byte is free
    reap(holder, fds);         // SIGKILL: the kernel drops its locks
    CHECK(t.holder_pid(1000) == 0);
    CHECK(t.lock(1000).ok());
    ::unlink(p.c_str());
    ::rmdir(d.c_str());
}

TEST_CASE("lock_table: a child sees the parent's lock as busy; unlock frees it") {
    std::string d = temp_dir(), p = d + "/torrents.lock";
    LockTable t(p);
    REQUIRE(t.lock(5).ok());
    int fds[2];
    pid_t parent = ::getpid();
    auto probe = [&] {
        // A fresh LockTable: the inherited one's descriptor is shared with the parent.
        LockTable mine(p);
        auto a = mine.lock(5);
        if (a.ok()) return 'f';
        return a.busy && a.holder_pid == int(parent) ? 'b' : 'x';
    };
    auto [c1, r1] = child_reporting(probe, fds);
    CHECK(r1 == 'b');
    reap(c1, fds);
    t.unlock(5);
    auto [c2, r2] = child_reporting(probe, fds);
    CHECK(r2 == 'f');
    reap(c2, fds);
    ::unlink(p.c_str());
    ::rmdir(d.c_str());
}

TEST_CASE("lock_table: an unusable path is an error naming it, not busy") {
    LockTable t("/nonexistent-btl-dir/torrents.lock");
    auto a = t.lock(1);
    CHECK(!a.ok());
    CHECK(!a.busy);
    CHECK(a.error.find("/nonexistent-btl-dir/torrents.lock") != std::string::npos);
    CHECK(t.holder_pid(1) == 0);
}

TEST_CASE("lock_table claims: the owner holds one byte; others see its keys busy with its pid") {
    std::string d = temp_dir(), p = d + "/torrents.lock";
    int fds[2];
    LockTable* kept = nullptr;
    auto [owner, c] = child_reporting(
        [&] {
            kept = new LockTable(p);  // never destroyed: the child is killed holding it
            if (!kept->own_claims().empty()) return 'n';
            bool ok = true;
            for (uint64_t k = 1; k <= 20'000; ++k) ok = ok && kept->lock(k * 7919).ok();
            kept->unlock(7919);  // let go again: free for others
            return ok && kept->owns_claims() ? 'y' : 'n';
        },
        fds);
    REQUIRE(c == 'y');
    LockTable t(p);
    CHECK(t.holder_pid(2 * 7919) == int(owner));
    CHECK(t.holder_pid(20'000 * 7919) == int(owner));
    CHECK(t.holder_pid(7919) == 0);
    CHECK(t.holder_pid(5) == 0);
    auto busy = t.lock(3 * 7919);
    CHECK(busy.busy);
    CHECK(busy.holder_pid == int(owner));
    CHECK(t.lock(7919).ok());  // released by the owner
    CHECK(t.lock(5).ok());
    // The byte of a key refused on the claims is let go again.
    {
        LockTable third(p);
        CHECK(third.own_claims().find("another process (pid " + std::to_string(owner)) != std::string::npos);
    }
    reap(owner, fds);  // SIGKILL: its one lock goes, and with it every claim
    CHECK(t.holder_pid(2 * 7919) == 0);
    CHECK(t.lock(2 * 7919).ok());
    ::unlink((p + ".claims").c_str());
    ::unlink(p.c_str());
    ::rmdir(d.c_str());
}

TEST_CASE("lock_table claims: the owner is refused a key another process holds, and sees nothing of its own") {
    std::string d = temp_dir(), p = d + "/torrents.lock";
    LockTable mine(p);
    REQUIRE(mine.lock(77).ok());  // plain per-key lock in this process
    int fds[2];
    pid_t parent = ::getpid();
    auto [child, r] = child_reporting(
        [&] {
            auto& owner = *new LockTable(p);  // never destroyed: the child is killed holding it
            if (!owner.own_claims().empty()) return 'x';
            auto a = owner.lock(77);
            if (a.ok() || !a.busy || a.holder_pid != int(parent)) return 'b';
            if (!owner.lock(78).ok() || !owner.lock(78).ok()) return 'c';  // twice is fine
            owner.unlock(78);
            owner.unlock(78);
            // Many keys taken and let go: the log is compacted and still right.
            for (uint64_t k = 1000; k < 12'000; ++k)
                if (!owner.lock(k).ok()) return 'd';
            for (uint64_t k = 1000; k < 11'990; ++k) owner.unlock(k);
            return 'y';
        },
        fds);
    CHECK(r == 'y');
    CHECK(mine.holder_pid(11'995) == int(child));
    CHECK(mine.holder_pid(11'989) == 0);
    CHECK(mine.holder_pid(1000) == 0);
    CHECK(mine.holder_pid(78) == 0);
    struct stat st {};
    REQUIRE(::stat((p + ".claims").c_str(), &st) == 0);
    CHECK(st.st_size < 120'000);  // 22,000 lines uncompacted would be 396,000 bytes
    reap(child, fds);
    ::unlink((p + ".claims").c_str());
    ::unlink(p.c_str());
    ::rmdir(d.c_str());
}
