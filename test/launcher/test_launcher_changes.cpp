// Push-based change tracking in the Launcher: an idle launcher builds no row
// per refresh however many torrents it runs (refresh_visits() counts the
// rows built), a change builds that row once, and the caches it feeds (the
// status document, the sorted views, the RPC change feed) still equal what
// a sweep from scratch gives.
#include <doctest/doctest.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "btl/base/sha1.hpp"
#include "btl/engine/session.hpp"
#include "btl/launcher/launcher.hpp"
#include "launcher_rig.hpp"

using namespace btl;
using namespace btl::testing;

namespace {
constexpr size_t kTorrents = 24;

std::string content_of(size_t i) { return std::string(1000, char('a' + i % 26)) + std::to_string(i); }

std::string name_of(size_t i) { return "seed" + std::to_string(100 + i); }

std::string metainfo_of(size_t i) { return one_piece_metainfo(name_of(i), content_of(i)); }


// Everything the views and the RPC read, once.
void read_all(const Launcher& l, uint64_t& cursor) {
    (void)l.status_json();
    (void)l.sorted_rows(SortKey::name);
    (void)l.sorted_rows(SortKey::rate);
    (void)l.session_status();
    (void)l.live_rows();
    (void)l.state_counts();
    std::vector<Launcher::RowChange> feed;
    l.changes_since(cursor, feed);
}

std::string reference(const Launcher& l) {
    auto rs = l.rows();
    sort_rows(rs, SortKey::name);
    SessionStatus ss = rows_totals(rs, l.session_status().listen_port);
    ss.port_mapping = l.session_status().port_mapping;
    return rows_status_json(rs, ss);
}
}  // namespace

TEST_CASE("an idle launcher builds no row per refresh; a change builds its row once") {
    const std::string dir = scratch_dir("launcher-changes");
    for (size_t i = 0; i < kTorrents; ++i) {
        put(dir + "/watch/" + name_of(i) + ".torrent", metainfo_of(i));
        put(dir + "/data/" + name_of(i), content_of(i));  // complete: the torrents seed
    }
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        LogBook log;
        Session s(&loop, loopback_session(dir), &log);
        REQUIRE(s.start().ok());
        LauncherOptions lo = watching(dir);
        lo.queue.max_downloads = 0;
        Launcher l(&loop, s, log, lo);
        REQUIRE(l.start().ok());
        REQUIRE(run_until(&loop, 30'000, [&] {
            if (l.row_count() != kTorrents) return false;
            return l.state_counts()[size_t(TorrentState::seeding)] == kTorrents;
        }));
        uint64_t cursor = 0;
        // Settled: the checks and first saves are over, no torrent ticks.
        bool idle = run_until(&loop, 90'000, [&] {
            read_all(l, cursor);
            uint64_t before = l.refresh_visits();
            run_for(&loop, 1200);
            read_all(l, cursor);
            return l.refresh_visits() == before;
        });
        REQUIRE(idle);
        CHECK(l.status_json() == reference(l));

        // Three more ticks of an idle session: not one row built, the
        // document is the same one, nothing in the feed.
        uint64_t visits = l.refresh_visits(), version = l.status_json_version();
        for (int i = 0; i < 3; ++i) {
            run_for(&loop, 1100);
            read_all(l, cursor);
        }
        CHECK(l.refresh_visits() == visits);
        CHECK(l.status_json_version() == version);
        std::vector<Launcher::RowChange> feed;
        CHECK(l.changes_since(cursor, feed));
        CHECK(feed.empty());
        CHECK(l.live_rows().empty());
        CHECK(l.sorted_rows(SortKey::name).size() == kTorrents);

        // A pause: that row, once.
        Sha1Digest ih = l.sorted_rows(SortKey::name)[3]->st.info_hash;
        l.toggle_pause(ih);
        read_all(l, cursor);
        CHECK(l.refresh_visits() == visits + 1);
        read_all(l, cursor);  // read: not built again
        CHECK(l.refresh_visits() == visits + 1);
        CHECK(l.status_json_version() != version);
        CHECK(l.status_json() == reference(l));
        CHECK(l.state_counts()[size_t(TorrentState::stopped)] == 1);
        // session-stats' counts, kept as rows change, against a count of rows().
        Launcher::TorrentCounts want;
        for (const auto& r : l.rows()) {
            if (!r.loaded) continue;
            ++want.torrents;
            want.paused += r.st.state == TorrentState::stopped;
            want.up_total += r.st.total_uploaded;
            want.down_total += r.st.total_downloaded;
        }
        Launcher::TorrentCounts got = l.torrent_counts();
        CHECK(got.torrents == int64_t(kTorrents));
        CHECK(got.torrents == want.torrents);
        CHECK(got.paused == 1);
        CHECK(got.paused == want.paused);
        CHECK(got.up_total == want.up_total);
        CHECK(got.down_total == want.down_total);
        CHECK(got.active == 0);
        uint64_t from = 0;
        feed.clear();
        REQUIRE(l.changes_since(from, feed));  // everything since the start, in order
        CHECK(feed.size() >= kTorrents + 1);
        CHECK(feed.back().info_hash == ih);
        CHECK_FALSE(feed.back().removed);

        // A queue move shifts positions of many rows: a sweep of them all.
        visits = l.refresh_visits();
        Sha1Digest last = l.sorted_rows(SortKey::name)[kTorrents - 1]->st.info_hash;
        REQUIRE(l.queue_move(last, QueueMove::top));
        read_all(l, cursor);
        CHECK(l.refresh_visits() >= visits + kTorrents);
        CHECK(l.status_json() == reference(l));

        // A file removed: its torrent leaves the feed as removed.
        std::string gone = l.sorted_rows(SortKey::name)[0]->file;
        Sha1Digest gone_ih = l.sorted_rows(SortKey::name)[0]->st.info_hash;
        std::filesystem::remove(dir + "/watch/" + gone);
        l.on_file_removed(gone);
        feed.clear();
        REQUIRE(l.changes_since(cursor, feed));
        bool removed = false;
        for (const auto& c : feed) removed = removed || (c.removed && c.info_hash == gone_ih);
        CHECK(removed);
        CHECK(l.row_count() == kTorrents - 1);
        CHECK(l.status_json() == reference(l));

        bool down = false;
        l.shutdown([&] { down = true; });
        REQUIRE(run_until(&loop, 30'000, [&] { return down; }));
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::filesystem::remove_all(dir);
}
