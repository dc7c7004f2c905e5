#include <doctest/doctest.h>

#include <optional>

#include "btl/disk/disk_io.hpp"
#include "storage_test_util.hpp"

using namespace btl;
using testutil::TempDir;

namespace {

struct Loop {
    uv_loop_t loop;
    Loop() { uv_loop_init(&loop); }
    ~Loop() {
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    // Runs until `done` or a generous timeout of iterations.
    template <class F>
    void run_until(F done) {
        for (int i = 0; i < 100000 && !done(); ++i) uv_run(&loop, UV_RUN_ONCE);
    }
};

struct Torrent {
    TempDir dir;
    std::vector<int64_t> lengths{70000, 0, 200000, 5, 130000};
    int64_t pl = 32768;
    std::vector<uint8_t> data = testutil::pattern(400005, 11);
    Metainfo m = testutil::make_meta(lengths, pl, data, true, {"a", "e", "b", "c", "d"});
    std::shared_ptr<Storage> st = *Storage::open(m, dir / "t", std::make_shared<FilePool>());

    BufferPtr piece(uint32_t p) const {
        int64_t off = int64_t(p) * pl;
        int64_t n = std::min(pl, m.total_length - off);
        return std::make_shared<std::vector<uint8_t>>(data.begin() + off, data.begin() + off + n);
    }
    Sha1Digest hash(uint32_t p) const {
        Sha1Digest d;
        std::memcpy(d.data(), m.pieces.data() + 20 * p, 20);
        return d;
    }
};

}  // namespace

TEST_CASE("disk_io: hash_and_write writes good pieces and rejects bad ones") {
    Loop l;
    Torrent t;
    DiskIo io(&l.loop);
    int calls = 0;
    bool good_ok = false, bad_ok = true;
    Status good_status = make_error("unset");
    io.hash_and_write(t.st, 0, t.piece(0), t.hash(0), [&](bool ok, Status s) {
        ++calls;
        good_ok = ok;
        good_status = s;
    });
    auto corrupt = t.piece(1);
    (*corrupt)[5] ^= 1;
    io.hash_and_write(t.st, 1, corrupt, t.hash(1), [&](bool ok, Status) {
        ++calls;
        bad_ok = ok;
    });
    CHECK(io.pending() == 2);
    l.run_until([&] { return calls == 2; });
    CHECK(calls == 2);
    CHECK(io.pending() == 0);
    CHECK(good_ok);
    CHECK(good_status.ok());
    CHECK_FALSE(bad_ok);
    auto a = testutil::read_file(t.dir / "t/a");
    REQUIRE(a.size() == 32768);  // piece 1 was never written
    CHECK(std::equal(a.begin(), a.end(), t.data.begin()));
}

TEST_CASE("disk_io: write errors reach the callback") {
    Loop l;
    Torrent t;
    TempDir outside;
    std::filesystem::create_directories(t.dir / "t");
    REQUIRE(::symlink(outside.path.c_str(), (t.dir / "t/a").c_str()) == 0);
    DiskIo io(&l.loop);
    bool done = false;
    io.hash_and_write(t.st, 0, t.piece(0), t.hash(0), [&](bool ok, Status s) {
        done = true;
        CHECK(ok);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().message == "refusing to follow symlink " + t.dir / "t/a");
    });
    l.run_until([&] { return done; });
    CHECK(done);
}

TEST_CASE("disk_io: read serves blocks from a whole-piece cache") {
    Loop l;
    Torrent t;
    testutil::write_file(t.dir / "t/a", std::vector<uint8_t>(t.data.begin(), t.data.begin() + 70000));
    testutil::write_file(t.dir / "t/b", std::vector<uint8_t>(t.data.begin() + 70000, t.data.begin() + 270000));
    DiskIo io(&l.loop);
    int got = 0, wrong = 0;
    // Two pieces' blocks, requested all at once as a peer pipeline would.
    for (int64_t off = 0; off < 2 * 32768; off += 4096) {
        io.read(t.st, off, 4096, [&, off](Result<BufferPtr> r) {
            ++got;
            if (!r || (*r)->size() != 4096 || !std::equal((*r)->begin(), (*r)->end(), t.data.begin() + off)) ++wrong;
        });
    }
    bool synchronous = got != 0;
    l.run_until([&] { return got == 16; });
    CHECK_FALSE(synchronous);
    CHECK(got == 16);
    CHECK(wrong == 0);
    auto s = io.stats();
    CHECK(s.cache_misses == 2);
    CHECK(s.cache_hits == 14);
    CHECK(s.bytes_read == 2 * 32768);
    // Now a pure hit, crossing the file boundary at 70000 inside piece 2.
    got = 0;
    io.read(t.st, 69000, 2000, [&](Result<BufferPtr> r) {
        ++got;
        REQUIRE(r.ok());
        CHECK(std::equal((*r)->begin(), (*r)->end(), t.data.begin() + 69000));
    });
    l.run_until([&] { return got == 1; });
    io.read(t.st, 69000, 2000, [&](Result<BufferPtr> r) { got += r.ok(); });
    l.run_until([&] { return got == 2; });
    CHECK(io.stats().cache_hits == 15);
    // A read of a missing file is an error naming it.
    Result<BufferPtr> res = make_error("unset");
    io.read(t.st, 350000, 100, [&](Result<BufferPtr> r) { res = r; ++got; });
    l.run_until([&] { return got == 3; });
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().message == "file missing: " + t.dir / "t/d");
    // Requests crossing a piece boundary are refused.
    io.read(t.st, 32000, 1000, [&](Result<BufferPtr> r) { res = r; ++got; });
    l.run_until([&] { return got == 4; });
    CHECK_FALSE(res.ok());
    io.evict(t.st.get());
    CHECK(io.stats().cache_bytes == 0);
}

TEST_CASE("disk_io: check finds exactly the good pieces") {
    Loop l;
    Torrent t;
    auto a = std::vector<uint8_t>(t.data.begin(), t.data.begin() + 70000);
    a[40000] ^= 0xff;  // corrupts piece 1
    testutil::write_file(t.dir / "t/a", a);
    testutil::write_file(t.dir / "t/b", std::vector<uint8_t>(t.data.begin() + 70000, t.data.begin() + 270000));
    testutil::write_file(t.dir / "t/c", std::vector<uint8_t>(t.data.begin() + 270000, t.data.begin() + 270005));
    // d (270005..400005) is missing: pieces 8..12 cannot verify.
    DiskIoOptions opt;
    opt.check_chunk = 65536;  // 2 pieces per job, several jobs
    DiskIo io(&l.loop, opt);
    uint32_t last_progress = 0, progress_calls = 0;
    std::optional<Result<DiskIo::PieceMask>> result;
    io.check(
        t.st, t.m,
        [&](uint32_t done, uint32_t total) {
            CHECK(total == 13);
            CHECK(done > last_progress);
            last_progress = done;
            ++progress_calls;
        },
        [&](Result<DiskIo::PieceMask> r) { result = std::move(r); });
    l.run_until([&] { return result.has_value(); });
    REQUIRE(result);
    REQUIRE(result->ok());
    DiskIo::PieceMask want = {1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    CHECK(**result == want);
    CHECK(last_progress == 13);
    CHECK(progress_calls == 7);
    CHECK(io.checks_pending() == 0);
}

TEST_CASE("disk_io: checks run one at a time and can be cancelled") {
    Loop l;
    Torrent t1, t2, t3;
    testutil::write_file(t1.dir / "t/a", std::vector<uint8_t>(t1.data.begin(), t1.data.begin() + 70000));
    DiskIoOptions opt;
    opt.check_chunk = 32768;
    DiskIo io(&l.loop, opt);
    std::vector<int> order;
    bool cancelled_called = false;
    io.check(t1.st, t1.m, [&](uint32_t, uint32_t) { CHECK(order.empty()); },
             [&](Result<DiskIo::PieceMask> r) {
                 REQUIRE(r.ok());
                 CHECK((*r)[0] == 1);
                 CHECK((*r)[1] == 1);
                 order.push_back(1);
             });
    CheckHandle h2 = io.check(t2.st, t2.m, [&](uint32_t, uint32_t) { cancelled_called = true; },
                              [&](Result<DiskIo::PieceMask>) { cancelled_called = true; });
    io.check(t3.st, t3.m.pieces, nullptr, [&](Result<DiskIo::PieceMask> r) {
        CHECK(r.ok());
        order.push_back(3);
    });
    CHECK(io.checks_pending() == 3);
    h2.cancel();
    h2.cancel();  // idempotent
    CHECK(io.checks_pending() == 2);
    l.run_until([&] { return order.size() == 2; });
    CHECK(order == std::vector<int>{1, 3});
    CHECK_FALSE(cancelled_called);

    // Cancelling the running check stops its callbacks and starts the next.
    bool first_called = false, second_done = false;
    CheckHandle h = io.check(t1.st, t1.m, nullptr, [&](Result<DiskIo::PieceMask>) { first_called = true; });
    io.check(t1.st, t1.m, nullptr, [&](Result<DiskIo::PieceMask>) { second_done = true; });
    h.cancel();
    l.run_until([&] { return second_done; });
    CHECK(second_done);
    CHECK_FALSE(first_called);

    // Hashes that do not fit the layout are an error, not a crash.
    std::optional<Result<DiskIo::PieceMask>> bad;
    io.check(t1.st, std::string("short"), nullptr, [&](Result<DiskIo::PieceMask> r) { bad = r; });
    l.run_until([&] { return bad.has_value(); });
    REQUIRE(bad);
    CHECK_FALSE(bad->ok());
}

TEST_CASE("disk_io: destroying DiskIo with jobs in flight drops their callbacks safely") {
    Loop l;
    Torrent t;
    bool called = false;
    {
        DiskIo io(&l.loop);
        io.hash_and_write(t.st, 0, t.piece(0), t.hash(0), [&](bool, Status) { called = true; });
        io.read(t.st, 0, 100, [&](Result<BufferPtr>) { called = true; });
        io.check(t.st, t.m, nullptr, [&](Result<DiskIo::PieceMask>) { called = true; });
    }
    uv_run(&l.loop, UV_RUN_DEFAULT);
    CHECK_FALSE(called);
    // The write itself still happened.
    CHECK(std::filesystem::file_size(t.dir / "t/a") == 32768);
}

TEST_CASE("disk_io: read_verified never serves a piece that changed on disk") {
    Loop l;
    Torrent t;
    DiskIo io(&l.loop);
    int done = 0;
    for (uint32_t p = 0; p < 3; ++p)
        io.hash_and_write(t.st, p, t.piece(p), t.hash(p), [&](bool ok, Status s) { done += ok && s.ok(); });
    l.run_until([&] { return done == 3; });
    REQUIRE(done == 3);
    // Piece 1 (bytes 32768..65535 of file a) is overwritten in place, same size.
    {
        int fd = ::open((t.dir / "t/a").c_str(), O_WRONLY);
        REQUIRE(fd >= 0);
        uint8_t junk[100] = {};
        REQUIRE(::pwrite(fd, junk, sizeof junk, 40000) == ssize_t(sizeof junk));
        ::close(fd);
    }
    std::optional<Result<BufferPtr>> good, bad;
    io.read_verified(t.st, 0, 16384, t.hash(0), [&](Result<BufferPtr> r) { good = r; });
    io.read_verified(t.st, 32768 + 16384, 16384, t.hash(1), [&](Result<BufferPtr> r) { bad = r; });
    l.run_until([&] { return good && bad; });
    REQUIRE(good);
    REQUIRE(bad);
    REQUIRE(good->ok());
    CHECK(std::equal((**good)->begin(), (**good)->end(), t.data.begin()));
    REQUIRE_FALSE(bad->ok());
    CHECK(bad->error().message == "file changed: " + t.dir / "t/a" + " (piece 1 fails its hash check)");
    // A failed piece is not cached: once the file is repaired it reads fine.
    io.hash_and_write(t.st, 1, t.piece(1), t.hash(1), [&](bool, Status) { ++done; });
    l.run_until([&] { return done == 4; });
    bad.reset();
    io.read_verified(t.st, 32768, 100, t.hash(1), [&](Result<BufferPtr> r) { bad = r; });
    l.run_until([&] { return bad.has_value(); });
    REQUIRE(bad);
    CHECK(bad->ok());
}
