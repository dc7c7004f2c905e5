// Launcher::status_json keeps each row's JSON and the name order between
// calls; whatever happens to the files and torrents, the document must be
// exactly the one built from scratch from rows().
#include <doctest/doctest.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "../base/json_check.hpp"
#include "btl/base/sha1.hpp"
#include "btl/base/utf8.hpp"
#include "btl/engine/session.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"
#include "launcher_rig.hpp"

using namespace btl;
using namespace btl::testing;

namespace {
std::string torrent_named(const std::string& name, char fill) {
    return one_piece_metainfo(name, std::string(1000, fill));
}

// The views' cached, sorted pointers against rows() sorted from scratch.
bool same_order(const Launcher& l) {
    for (SortKey k : {SortKey::name, SortKey::progress, SortKey::rate, SortKey::ratio, SortKey::added}) {
        auto want = l.rows();
        sort_rows(want, k);
        const auto& got = l.sorted_rows(k);
        if (got.size() != want.size()) return false;
        for (size_t i = 0; i < want.size(); ++i)
            if (got[i]->file != want[i].file || got[i]->st.state != want[i].st.state) return false;
    }
    return true;
}

std::string reference(const Launcher& l, uint16_t port) {
    auto rs = l.rows();
    sort_rows(rs, SortKey::name);
    SessionStatus ss = rows_totals(rs, port);
    ss.port_mapping = l.session_status().port_mapping;  // the session's, not the rows'
    return rows_status_json(rs, ss);
}
}  // namespace

TEST_CASE("the incremental --status_json document equals the one built from scratch") {
    const std::string dir = scratch_dir("launcher-status");
    // Names out of file order, a duplicate and a broken file.
    put(dir + "/watch/a.torrent", torrent_named("zeta", 'a'));
    put(dir + "/watch/b.torrent", torrent_named("Alpha", 'b'));
    put(dir + "/watch/c.torrent", torrent_named("mid", 'c'));
    put(dir + "/watch/d.torrent", torrent_named("mid", 'c'));
    put(dir + "/watch/e.torrent", "not bencode");
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        LogBook log;
        Session s(&loop, loopback_session(dir), &log);
        REQUIRE(s.start().ok());
        LauncherOptions lo = watching(dir);
        Launcher l(&loop, s, log, lo);
        REQUIRE(l.start().ok());
        uint16_t port = s.listen_port();

        REQUIRE(run_until(&loop, 10'000, [&] { return l.rows().size() == 5; }));
        std::string first = l.status_json();
        CHECK(first == reference(l, port));
        CHECK(first.find("\"name\":\"Alpha\"") < first.find("\"name\":\"zeta\""));
        CHECK(l.status_json() == first);  // nothing changed: same document
        CHECK(same_order(l));

        // A state change in one row, then a file removed (the duplicate takes
        // over), then a new file and a broken one mended.
        Sha1Digest alpha{};
        for (const auto& r : l.rows())
            if (r.st.name == "Alpha") alpha = r.st.info_hash;
        l.toggle_pause(alpha);
        CHECK(same_order(l));  // the pause shows at once, not 100 ms later
        CHECK(l.status_json() == reference(l, port));
        CHECK(l.status_json() != first);

        std::filesystem::remove(dir + "/watch/c.torrent");
        l.on_file_removed("c.torrent");
        CHECK(l.status_json() == reference(l, port));
        REQUIRE(run_until(&loop, 10'000, [&] {
            for (const auto& r : l.rows())
                if (r.file == "d.torrent" && r.loaded) return true;
            return false;
        }));
        CHECK(l.status_json() == reference(l, port));

        put(dir + "/watch/f.torrent", torrent_named("beta", 'f'));
        put(dir + "/watch/e.torrent", torrent_named("epsilon", 'e'));
        std::filesystem::last_write_time(dir + "/watch/e.torrent",
                                         std::filesystem::file_time_type::clock::now() - std::chrono::seconds(5));
        REQUIRE(run_until(&loop, 10'000, [&] {
            size_t loaded = 0;
            for (const auto& r : l.rows()) loaded += r.loaded;
            return loaded == 5;
        }));
        std::string last = l.status_json();
        CHECK(last == reference(l, port));
        CHECK(last.find("\"name\":\"epsilon\"") != std::string::npos);
        CHECK(last.find("\"errors\":0") != std::string::npos);
        CHECK(same_order(l));

        bool down = false;
        l.shutdown([&] { down = true; });
        REQUIRE(run_until(&loop, 10'000, [&] { return down; }));
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::filesystem::remove_all(dir);
}

TEST_CASE("the --status_json document is valid UTF-8 when file and torrent names are Latin-1") {
    // A .torrent copied from a Windows share: its file name and the name
    // inside are Latin-1 bytes, as is the file name of a broken one.
    const std::string dir = scratch_dir("launcher-utf8");
    put(dir + "/watch/caf\xe9.torrent", torrent_named("caf\xe9", 'a'));
    put(dir + "/watch/\xff broken.torrent", "not bencode");
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        LogBook log;
        Session s(&loop, loopback_session(dir), &log);
        REQUIRE(s.start().ok());
        LauncherOptions lo = watching(dir);
        lo.saveas_style = 1;  // save_in/STEM: the save path holds the raw file name
        Launcher l(&loop, s, log, lo);
        REQUIRE(l.start().ok());
        uint16_t port = s.listen_port();
        REQUIRE(run_until(&loop, 10'000, [&] { return l.rows().size() == 2; }));
        const std::string& doc = l.status_json();
        CHECK(is_valid_utf8(doc));
        CHECK(doc == reference(l, port));
        auto v = test::parse_json(doc);
        REQUIRE(v.has_value());
        const auto& ts = (*v)["torrents"];
        REQUIRE(ts.items.size() == 2);
        // In name order, by the bytes: "caf\xe9" before "\xff broken.torrent".
        const auto &caf = ts[0], &broken = ts[1];
        CHECK(broken["file"].text == "%FF broken.torrent");
        CHECK(broken["name"].text == "%FF broken.torrent");
        CHECK(broken["loaded"].b == false);
        CHECK(caf["file"].text == "caf%E9.torrent");
        CHECK(caf["name"].text == "caf%E9");  // metainfo's escaping, as btshowmetainfo shows it
        CHECK(caf["loaded"].b == true);
        CHECK(caf["save_path"].text == dir + "/data/caf%E9");

        bool down = false;
        l.shutdown([&] { down = true; });
        REQUIRE(run_until(&loop, 10'000, [&] { return down; }));
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::filesystem::remove_all(dir);
}
