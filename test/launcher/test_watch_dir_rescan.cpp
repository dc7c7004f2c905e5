// WatchDir's periodic rescan: while the directory's own stamp has not moved
// it is not listed again, and each pass re-stats only a slice of the known
// files (counted by slice_stats(), not timed), walking all of them in turn;
// a directory whose stamp moved (a file added or removed) or is too recent
// to trust is listed in full.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../disk/storage_test_util.hpp"
#include "btl/launcher/watch_dir.hpp"
#include "watch_dir_rig.hpp"

using namespace btl;

namespace {

using Seen = testing::WatchRecorder;
using testing::set_old;

std::string name_of(int i) { return "r" + std::to_string(1000 + i) + ".torrent"; }

using testing::poll_until;

}  // namespace

TEST_CASE("watch dir: an unchanged directory is not listed again; each rescan re-stats one slice") {
    testutil::TempDir dir;
    const int n = 50;
    for (int i = 0; i < n; ++i) {
        testutil::write_file(dir / name_of(i), std::vector<uint8_t>(20, 'x'));
        set_old(dir / name_of(i));
    }
    set_old(dir.path);  // the directory's stamp can be trusted at once
    uv_loop_t loop;
    uv_loop_init(&loop);
    Seen seen;
    {
        WatchDir w(&loop, dir.path, &seen, 100, 0);  // no timer: the test calls periodic_rescan()
        w.set_slice(8, 1000);                       // 8 files a pass (1/1000 of 50 is less)
        REQUIRE(w.start().ok());
        REQUIRE(poll_until(&loop, [&] { return seen.ready.size() == size_t(n); }));
        CHECK(w.listings() == 1);

        // Seven passes cover the 50 files (8 a pass), and no listing.
        for (int pass = 1; pass <= 7; ++pass) {
            uint64_t before = w.slice_stats();
            w.periodic_rescan();
            REQUIRE(poll_until(&loop, [&] { return w.slice_stats() > before; }));
            CHECK(w.slice_stats() == before + 8);
            CHECK(w.listings() == 1);
        }
        poll_until(&loop, [] { return false; }, 300);  // the slices' stats come back
        CHECK(seen.ready.size() == size_t(n));
        bool once = true;
        for (const auto& [name, count] : seen.ready) once = once && count == 1;
        CHECK(once);  // an unchanged file is not delivered again

        // A file added: the directory's stamp moved, so the next pass lists
        // (and the new stamp is recent, so the pass after lists once more).
        testutil::write_file(dir / name_of(n), std::vector<uint8_t>(20, 'y'));
        set_old(dir / name_of(n));
        uint64_t listed = w.listings();
        w.periodic_rescan();
        REQUIRE(poll_until(&loop, [&] { return w.listings() == listed + 1; }));
        REQUIRE(poll_until(&loop, [&] { return seen.ready.count(name_of(n)) == 1; }));
        // Aged by hand (the watch may see the directory's own attribute
        // change and list it once more), then a pass that may list once
        // more (the stamp from the last listing was too recent to trust)...
        set_old(dir.path);
        poll_until(&loop, [] { return false; }, 300);
        uint64_t l0 = w.listings(), s0 = w.slice_stats();
        w.periodic_rescan();
        REQUIRE(poll_until(&loop, [&] { return w.listings() > l0 || w.slice_stats() > s0; }));
        poll_until(&loop, [] { return false; }, 300);
        // ...and from then on slices again.
        uint64_t l1 = w.listings(), before = w.slice_stats();
        w.periodic_rescan();
        REQUIRE(poll_until(&loop, [&] { return w.slice_stats() > before; }));
        CHECK(w.listings() == l1);
        listed = l1;

        // A file removed: listed, and reported.
        ::unlink((dir / name_of(3)).c_str());
        w.periodic_rescan();
        REQUIRE(poll_until(&loop, [&] { return w.listings() == listed + 1; }));
        REQUIRE(poll_until(&loop, [&] { return !seen.removed.empty(); }));
        CHECK(seen.removed.front() == name_of(3));
        w.stop();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

TEST_CASE("watch dir: the slice is a tenth of the known files, at least kSliceMin") {
    testutil::TempDir dir;
    for (int i = 0; i < 30; ++i) {
        testutil::write_file(dir / name_of(i), std::vector<uint8_t>(10, 'z'));
        set_old(dir / name_of(i));
    }
    set_old(dir.path);
    uv_loop_t loop;
    uv_loop_init(&loop);
    Seen seen;
    {
        WatchDir w(&loop, dir.path, &seen, 100, 0);
        w.set_slice(2, 10);  // 30 / 10 = 3 a pass
        REQUIRE(w.start().ok());
        REQUIRE(poll_until(&loop, [&] { return seen.ready.size() == 30; }));
        w.periodic_rescan();
        REQUIRE(poll_until(&loop, [&] { return w.slice_stats() > 0; }));
        CHECK(w.slice_stats() == 3);
        w.set_slice(WatchDir::kSliceMin, WatchDir::kSliceRounds);  // the default: all 30 (fewer than the minimum)
        w.periodic_rescan();
        REQUIRE(poll_until(&loop, [&] { return w.slice_stats() > 3; }));
        CHECK(w.slice_stats() == 33);
        CHECK(w.listings() == 1);
        w.stop();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}
