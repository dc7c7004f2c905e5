#include <doctest/doctest.h>

#include <filesystem>

#include "btl/engine/session.hpp"
#include "btl/ui/plain_view.hpp"

#include "../launcher/launcher_rig.hpp"

using namespace btl;
using namespace btl::testing;
using namespace btl::ui;

TEST_CASE("plain mode: a progress line for an active torrent, none for an idle one") {
    Row r;
    r.file = "a.torrent";
    r.loaded = true;
    r.st.name = "a.iso";
    r.st.state = TorrentState::downloading;
    r.st.progress = 0.452;
    r.st.total_size = 1'000'000;
    r.st.down_rate = 1.5e6;
    r.st.peers = 3;
    r.st.seeds = 1;
    r.st.eta_s = 123;
    std::string l = progress_line(r);
    CHECK(l.rfind("a.iso: downloading 45.2% of ", 0) == 0);
    CHECK(l.find("down 1.5 MB/s") != std::string::npos);
    CHECK(l.find("3 peers (1 seeds)") != std::string::npos);
    CHECK(l.find("ETA 2:03") != std::string::npos);
    r.st.state = TorrentState::seeding;
    r.st.down_rate = 0;
    CHECK(progress_line(r).empty());  // idle seed: nothing to report
    r.st.up_rate = 1000;
    CHECK(progress_line(r).find("seeding") != std::string::npos);  // uploading counts
    r.loaded = false;
    CHECK(progress_line(r).empty());
}

TEST_CASE("plain mode: an idle summary that repeats the last one is left out") {
    const std::string dir = scratch_dir("plain");
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        LogBook log;
        Session s(&loop, loopback_session(dir), &log);
        REQUIRE(s.start().ok());
        Launcher l(&loop, s, log, watching(dir));
        PlainView v(&loop, l, 10, false);
        auto first = v.tick_lines();
        REQUIRE(first.size() == 1);
        CHECK(first[0].rfind("summary: 0 torrents", 0) == 0);
        CHECK(v.tick_lines().empty());  // nothing changed, nothing active
        bool done = false;
        l.shutdown([&] { done = true; });
        for (int i = 0; i < 1000 && !done; ++i) uv_run(&loop, UV_RUN_NOWAIT);
        v.stop();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::filesystem::remove_all(dir);
}
