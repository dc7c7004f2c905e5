#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "btl/disk/disk_fault.hpp"

using namespace btl;

TEST_CASE("a full disk, a quota and a too-large file are the recoverable no-space fault") {
    CHECK(classify_errno(ENOSPC) == DiskFault::no_space);
    CHECK(classify_errno(EDQUOT) == DiskFault::no_space);
    CHECK(classify_errno(EFBIG) == DiskFault::no_space);
}

TEST_CASE("other errors need the user and are told apart") {
    CHECK(classify_errno(0) == DiskFault::none);
    CHECK(classify_errno(EROFS) == DiskFault::read_only);
    CHECK(classify_errno(EACCES) == DiskFault::permission);
    CHECK(classify_errno(EPERM) == DiskFault::permission);
    CHECK(classify_errno(ENOENT) == DiskFault::missing);
    CHECK(classify_errno(ENOTDIR) == DiskFault::missing);
    CHECK(classify_errno(EIO) == DiskFault::other);
    CHECK(std::string(disk_fault_name(DiskFault::no_space)) == "no space");
}

TEST_CASE("retries after failed writes back off exponentially up to the cap") {
    DiskRetry r({10'000, 60'000});
    CHECK(r.delay_after(1) == 10'000);
    CHECK(r.delay_after(2) == 20'000);
    CHECK(r.delay_after(3) == 40'000);
    CHECK(r.delay_after(4) == 60'000);
    CHECK(r.delay_after(1000) == 60'000);
    CHECK(r.on_full(1'000) == 11'000);
    CHECK_FALSE(r.due(10'999));
    CHECK(r.due(11'000));
    CHECK(r.on_full(11'000) == 31'000);
    CHECK(r.failures() == 2);
}

TEST_CASE("a look without enough space polls again after one interval, not the backoff") {
    DiskRetry r({5'000, 80'000});
    r.on_full(0);
    r.on_full(0);
    r.on_full(0);  // next look 20 s later
    CHECK(r.next_ms() == 20'000);
    CHECK_FALSE(r.on_check(20'000, 100, 1 << 20));
    CHECK(r.next_ms() == 25'000);
    CHECK(r.failures() == 3);  // polling does not grow the backoff
    CHECK(r.on_check(25'000, 2 << 20, 1 << 20));
    CHECK(r.on_check(25'000, -1, 1 << 20));  // unknown free space: just try
}

TEST_CASE("writes succeeding for the whole cap after the last failure reset the backoff") {
    DiskRetry r({1'000, 100'000});
    r.on_full(0);
    r.on_full(1'000);
    r.on_full(3'000);
    // Some pieces still fit (below a file-size limit, say): no reset yet.
    r.on_write_ok(50'000);
    CHECK(r.failures() == 3);
    CHECK(r.on_full(60'000) == 60'000 + 8'000);
    r.on_write_ok(160'000);
    CHECK(r.failures() == 0);
    CHECK(r.on_full(160'050) == 161'050);
}

TEST_CASE("a nonsense policy is made sane") {
    DiskRetry r({0, -5});
    CHECK(r.policy().interval_ms == 1);
    CHECK(r.policy().max_ms == 1);
    CHECK(r.on_full(7) == 8);
}
