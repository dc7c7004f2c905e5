// WatchDir with many files: a scan stats what it lists in its own pool job
// and the confirming stats go in batches; every file is still delivered
// exactly once, and files that go away are reported.
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

using Recorder = testing::WatchRecorder;

std::string file_name(int i) {
    char b[32];
    std::snprintf(b, sizeof b, "t%04d.torrent", i);
    return b;
}

// Written a minute in the past: already quiet, so only the confirming look
// is needed.
void write_old(const std::string& path, size_t size) {
    testutil::write_file(path, std::vector<uint8_t>(size, 'x'));
    testing::set_old(path);
}

using testing::poll_until;

}  // namespace

TEST_CASE("watch dir: 1,500 files (several stat batches) are each delivered once; removed ones are reported") {
    testutil::TempDir dir;
    const int n = 1500;  // more than kStatsInFlight * kStatBatch waiting at once
    for (int i = 0; i < n; ++i) write_old(dir / file_name(i), size_t(10 + i % 7));
    write_old(dir / "notes.txt", 5);  // not watched
    ::mkdir((dir / "lbl").c_str(), 0755);
    write_old(dir / "lbl/sub.torrent", 3);  // a label's file comes in the same scan

    uv_loop_t loop;
    uv_loop_init(&loop);
    Recorder rec;
    {
        WatchDir w(&loop, dir.path, &rec, 100, 0);
        REQUIRE(w.start().ok());
        CHECK(poll_until(&loop, [&] { return rec.ready.size() == size_t(n + 1); }));
        CHECK(rec.ready.size() == size_t(n + 1));
        bool once = true;
        for (const auto& [name, count] : rec.ready) once = once && count == 1;
        CHECK(once);
        CHECK(rec.ready.count("lbl/sub.torrent") == 1);
        CHECK(rec.ready.count("notes.txt") == 0);
        CHECK(rec.stamps[file_name(3)].size == 13);
        CHECK(rec.errors.empty());

        // Gone files are reported at the next scan; the others stay delivered once.
        for (int i = 0; i < 10; ++i) ::unlink((dir / file_name(i)).c_str());
        size_t before = rec.ready.size();
        w.rescan();
        CHECK(poll_until(&loop, [&] { return rec.removed.size() == 10; }));
        CHECK(rec.removed.size() == 10);
        CHECK(rec.ready.size() == before);
        // A rewritten file (new size) is delivered again, once.
        write_old(dir / file_name(20), 999);
        w.rescan();
        CHECK(poll_until(&loop, [&] { return rec.ready[file_name(20)] == 2; }));
        CHECK(rec.stamps[file_name(20)].size == 999);
        w.stop();
    }
    uv_run(&loop, UV_RUN_DEFAULT);  // jobs still out finish; their answers are ignored
    CHECK(uv_loop_close(&loop) == 0);
}
