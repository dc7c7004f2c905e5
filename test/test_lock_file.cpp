#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "btl/lock_file.hpp"

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
