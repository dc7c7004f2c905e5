// Session::remove_torrent as the launcher relies on it: a second removal of
// a torrent that is still stopping must not report it gone early (the
// launcher re-adds a reloaded file from that callback).
#include <doctest/doctest.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "btl/base/sha1.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/engine/session.hpp"
#include "session_rig.hpp"

using namespace btl;
using namespace btl::testing;

namespace {
struct NullSink : EventSink {
    void log(LogLevel, const std::string&, const std::string&) override {}
};

std::string tiny_torrent() {
    std::string data(1000, 'x');
    auto h = sha1(data);
    std::string pieces(reinterpret_cast<const char*>(h.data()), h.size());
    return "d4:infod6:lengthi1000e4:name4:tiny12:piece lengthi16384e6:pieces20:" + pieces + "ee";
}
}  // namespace

TEST_CASE("a second remove_torrent waits for the removal already under way") {
    const std::string dir = scratch_dir("session-remove");
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        NullSink sink;
        Session s(&loop, loopback_session(dir), &sink);
        REQUIRE(s.start().ok());
        auto mi = parse_metainfo(tiny_torrent());
        REQUIRE(mi.ok());
        Sha1Digest ih = mi->info_hash;
        AddTorrentParams p;
        p.metainfo = std::move(*mi);
        p.save_path = dir + "/tiny";
        REQUIRE(s.add_torrent(std::move(p)).ok());

        std::vector<std::string> order;
        bool present_at_second = true;
        s.remove_torrent(ih, [&] { order.push_back("first"); });
        s.remove_torrent(ih, [&] {
            order.push_back("second");
            present_at_second = s.find(ih) != nullptr;
        });
        CHECK(order.empty());  // neither may finish before the torrent has stopped
        for (int i = 0; i < 1000 && order.size() < 2; ++i) uv_run(&loop, UV_RUN_ONCE);
        CHECK(order == std::vector<std::string>{"first", "second"});
        CHECK_FALSE(present_at_second);
        // Unknown torrent: done at once.
        bool called = false;
        s.remove_torrent(ih, [&] { called = true; });
        CHECK(called);
        bool down = false;
        s.shutdown([&] { down = true; });
        for (int i = 0; i < 1000 && !down; ++i) uv_run(&loop, UV_RUN_ONCE);
        CHECK(down);
    }
    // Let the closed handles' callbacks run before the loop goes.
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_walk(&loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    std::filesystem::remove_all(dir);
}
