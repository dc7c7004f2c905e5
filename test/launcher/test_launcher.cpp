#include <doctest/doctest.h>

#include <algorithm>

#include "btl/base/format.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"

using namespace btl;

TEST_CASE("saveas styles name the download after the file, the torrent, or both") {
    std::vector<std::string> none;
    CHECK(choose_save_path(1, "/dl", "ubuntu.torrent", "ubuntu-24.04.iso", none) == "/dl/ubuntu");
    CHECK(choose_save_path(2, "/dl", "ubuntu.torrent", "ubuntu-24.04.iso", none) == "/dl/ubuntu-24.04.iso");
    CHECK(choose_save_path(3, "/dl", "ubuntu.torrent", "ubuntu-24.04.iso", none) == "/dl/ubuntu/ubuntu-24.04.iso");
    CHECK(choose_save_path(4, "/dl", "ubuntu.torrent", "ubuntu-24.04.iso", none) == "/dl/ubuntu-24.04.iso");
    CHECK(choose_save_path(4, "/dl/", "a.torrent", "x", none) == "/dl/x");
}

TEST_CASE("style 4: two torrents with the same name never share a path") {
    std::vector<std::string> taken{"/dl/data"};
    CHECK(choose_save_path(4, "/dl", "second.torrent", "data", taken) == "/dl/second/data");
}

TEST_CASE("styles 1 and 2 fall back to a directory named after the file instead of overwriting") {
    CHECK(choose_save_path(2, "/dl", "b.torrent", "data", {"/dl/data"}) == "/dl/b/data");
    CHECK(choose_save_path(1, "/dl", "data.torrent", "x", {"/dl/data"}) == "/dl/data.2/x");
}

TEST_CASE("a path inside or around another torrent's path counts as taken") {
    CHECK(paths_overlap("/dl/a", "/dl/a"));
    CHECK(paths_overlap("/dl/a", "/dl/a/b"));
    CHECK(paths_overlap("/dl/a/b", "/dl/a"));
    CHECK_FALSE(paths_overlap("/dl/a", "/dl/ab"));
    CHECK_FALSE(paths_overlap("/dl/ab", "/dl/a"));
    // A torrent called "b" saved as /dl/b must push b.torrent's style-3 dir aside.
    std::vector<std::string> taken{"/dl/b"};
    CHECK(choose_save_path(3, "/dl", "b.torrent", "other", taken) == "/dl/b.2/other");
    taken.push_back("/dl/b.2/other");
    CHECK(choose_save_path(3, "/dl", "b.torrent", "other", taken) == "/dl/b.3/other");
}

TEST_CASE("the stem drops only a trailing .torrent") {
    CHECK(torrent_file_stem("a.b.torrent") == "a.b");
    CHECK(torrent_file_stem("plain") == "plain");
}

namespace {
Row row(const std::string& name, double progress, double rate, int64_t up, int64_t down, uint64_t seq) {
    Row r;
    r.file = name + ".torrent";
    r.loaded = seq != 0;
    r.st.name = name;
    r.st.progress = progress;
    r.st.down_rate = rate;
    r.st.total_uploaded = up;
    r.st.total_downloaded = down;
    r.added_seq = seq;
    return r;
}
std::vector<std::string> names(const std::vector<Row>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.st.name);
    return out;
}
}  // namespace

TEST_CASE("rows sort by name case-insensitively, numbers biggest first, added oldest first") {
    std::vector<Row> rows{row("beta", 0.5, 10, 300, 100, 2), row("Alpha", 1.0, 0, 50, 100, 3),
                          row("gamma", 0.1, 99, 0, 100, 1), row("broken", 0, 0, 0, 0, 0)};
    sort_rows(rows, SortKey::name);
    CHECK(names(rows) == std::vector<std::string>{"Alpha", "beta", "broken", "gamma"});
    sort_rows(rows, SortKey::progress);
    CHECK(names(rows) == std::vector<std::string>{"Alpha", "beta", "gamma", "broken"});
    sort_rows(rows, SortKey::rate);
    CHECK(names(rows) == std::vector<std::string>{"gamma", "beta", "Alpha", "broken"});
    sort_rows(rows, SortKey::ratio);
    CHECK(names(rows) == std::vector<std::string>{"beta", "Alpha", "broken", "gamma"});
    sort_rows(rows, SortKey::added);
    CHECK(names(rows) == std::vector<std::string>{"gamma", "beta", "Alpha", "broken"});
}

TEST_CASE("equal keys keep a stable order by name") {
    std::vector<Row> rows{row("b", 0.5, 0, 0, 0, 1), row("a", 0.5, 0, 0, 0, 2)};
    sort_rows(rows, SortKey::progress);
    CHECK(names(rows) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("the sort key cycles through all six keys") {
    SortKey k = SortKey::name;
    std::vector<std::string> seen;
    for (int i = 0; i < 6; ++i, k = next_sort_key(k)) seen.push_back(sort_key_name(k));
    CHECK(seen == std::vector<std::string>{"name", "progress", "rate", "ratio", "added", "label"});
    CHECK(k == SortKey::name);
}

TEST_CASE("share ratio uses the data we have when nothing was downloaded") {
    TorrentStatus t;
    t.total_uploaded = 200;
    t.have_bytes = 100;
    CHECK(share_ratio(t) == doctest::Approx(2.0));
    t.total_downloaded = 400;
    CHECK(share_ratio(t) == doctest::Approx(0.5));
    CHECK(share_ratio(TorrentStatus{}) == 0.0);
}

TEST_CASE("the log book keeps the last lines, without debug, and tells the listener everything") {
    LogBook b(2);
    int heard = 0;
    b.listener = [&](const LogLine&) { ++heard; };
    b.log(LogLevel::info, "t", "one");
    b.log(LogLevel::debug, "t", "noise");
    b.log(LogLevel::info, "t", "two");
    b.log(LogLevel::error, "", "three");
    CHECK(heard == 4);
    REQUIRE(b.lines().size() == 2);
    CHECK(b.lines().front().message == "two");
    CHECK(b.lines().back().message == "three");
}

TEST_CASE("the status_json document is btl::status_json's per row, with file and loaded first") {
    Row a;
    a.file = "a \"quoted\".torrent";
    a.loaded = true;
    a.st.name = "tab\tname";
    a.st.info_hash[0] = 0xab;
    a.st.state = TorrentState::seeding;
    a.st.progress = 1.0 / 3;
    a.st.down_rate = 1234.5678;
    a.st.up_rate = 1e12;
    a.st.total_size = 5'000'000'000;
    a.st.have_bytes = -1;
    a.st.eta_s = -1;
    a.st.peers = 3;
    a.st.error = "";
    a.st.tracker_message = "ok \\ fine";
    a.st.save_path = "/srv/\xc3\xa9t\xc3\xa9";
    Row b;
    b.file = "broken.torrent";
    b.st.name = "broken.torrent";
    b.st.state = TorrentState::error;
    b.st.error = "bad bencode\n";
    std::vector<Row> rows{a, b};
    SessionStatus ss = rows_totals(rows, 6881);
    CHECK(ss.torrents == 1);
    CHECK(ss.peers == 3);
    CHECK(ss.up_rate == 1e12);

    std::string doc = rows_status_json(rows, ss);
    std::string expect = "{\"torrents\":[";
    for (const auto& r : rows) {
        std::string one = btl::status_json({r.st}, ss);
        size_t end = one.find("}],\"totals\"");
        REQUIRE(end != std::string::npos);
        if (expect.back() != '[') expect += ",";
        expect += "{\"file\":" + json_escape(r.file) + ",\"loaded\":" + (r.loaded ? "true" : "false") + "," +
                  one.substr(std::string("{\"torrents\":[{").size(), end - std::string("{\"torrents\":[{").size()) +
                  "}";
    }
    std::string totals = btl::status_json({}, ss);
    expect += "],\"errors\":1," + totals.substr(totals.find("\"totals\":{"));
    CHECK(doc == expect);
    CHECK(rows_status_json({}, ss).rfind("{\"torrents\":[],\"errors\":0,\"totals\":{", 0) == 0);
}

TEST_CASE("TakenPaths::overlaps answers as paths_overlap against every taken path") {
    // Short random paths over a tiny alphabet make prefixes, trailing
    // slashes and near-misses ("/a" vs "/ab", "/a!") common.
    uint64_t x = 0x9E3779B97F4A7C15ull;
    auto rnd = [&](uint64_t n) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return x % n;
    };
    auto path = [&] {
        static const char alpha[] = {'/', 'a', 'b', '!', '/'};
        std::string p;
        for (uint64_t i = 0, n = rnd(7); i < n; ++i) p += alpha[rnd(sizeof alpha)];
        return p;
    };
    for (int round = 0; round < 200; ++round) {
        std::vector<std::string> list;
        TakenPaths taken;
        for (uint64_t i = 0, n = rnd(12); i < n; ++i) {
            list.push_back(path());
            taken.add(list.back());
        }
        if (!list.empty() && rnd(2)) {  // removal takes out one copy only
            std::string gone = list[rnd(list.size())];
            list.erase(std::find(list.begin(), list.end(), gone));
            taken.remove(gone);
        }
        for (int q = 0; q < 50; ++q) {
            std::string p = path();
            bool want = false;
            for (const auto& t : list) want = want || paths_overlap(p, t);
            INFO("p = '", p, "'");
            REQUIRE(taken.overlaps(p) == want);
        }
    }
}

TEST_CASE("the +/- rate keys climb a ladder that ends in unlimited") {
    CHECK(next_rate_step(0, true) == 0);               // unlimited stays at the top
    CHECK(next_rate_step(0, false) == 100'000'000);    // down from unlimited: the top step
    CHECK(next_rate_step(100'000'000, true) == 0);
    CHECK(next_rate_step(50'000, true) == 100'000);
    CHECK(next_rate_step(50'000, false) == 20'000);
    CHECK(next_rate_step(75'000, true) == 100'000);    // between steps: the neighbour
    CHECK(next_rate_step(75'000, false) == 50'000);
    CHECK(next_rate_step(10'000, false) == 10'000);    // the bottom step holds
    CHECK(next_rate_step(3'000, false) == 3'000);     // set lower by hand: left alone
}

TEST_CASE("a rate limit of 0 reads unlimited, never 0 kB/s") {
    CHECK(rate_limit_text(0) == "unlimited");
    CHECK(rate_limit_text(2'000'000) == "2000 kB/s");
}
