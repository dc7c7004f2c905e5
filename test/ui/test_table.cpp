#include <doctest/doctest.h>

#include <clocale>

#include "btl/ui/table.hpp"
#include "btl/ui/text_width.hpp"

using namespace btl;
using namespace btl::ui;

namespace {
Row sample(const std::string& name) {
    Row r;
    r.file = name + ".torrent";
    r.loaded = true;
    r.st.name = name;
    r.st.state = TorrentState::downloading;
    r.st.progress = 0.5;
    r.st.total_size = 123456789;
    r.st.down_rate = 1.5e6;
    r.st.tracker_message = "ok";
    return r;
}
}  // namespace

TEST_CASE("every table line is exactly the terminal width, CJK names included") {
    REQUIRE(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr);
    Row error;
    error.file = "bad.torrent";
    error.st.name = "bad.torrent";
    error.st.state = TorrentState::error;
    error.st.error = "invalid character";
    for (int w : {30, 60, 90, 120, 160, 250}) {
        auto cols = layout_columns(w);
        CHECK(display_width(header_line(cols, w)) == w);
        CHECK(display_width(row_line(sample("日本語のとても長いファイル名です.iso"), cols, w)) == w);
        CHECK(display_width(row_line(error, cols, w)) == w);
    }
    std::setlocale(LC_CTYPE, "C");
}

TEST_CASE("narrow terminals drop ratio and peers first; name and state always stay") {
    auto wide = layout_columns(200), narrow = layout_columns(90);
    auto has = [](const std::vector<Column>& c, Col id) {
        for (auto& x : c)
            if (x.id == id) return true;
        return false;
    };
    CHECK(has(wide, Col::ratio));
    CHECK(has(wide, Col::message));
    CHECK_FALSE(has(narrow, Col::ratio));
    CHECK_FALSE(has(narrow, Col::peers));
    for (int w : {20, 40, 90}) {
        CHECK(has(layout_columns(w), Col::name));
        CHECK(has(layout_columns(w), Col::state));
    }
}

TEST_CASE("the progress bar fills in proportion and shows the percent") {
    CHECK(progress_bar(0.5, 10) == "#####-----  50.0%");
    CHECK(progress_bar(1.0, 10) == "########## 100.0%");
    CHECK(progress_bar(-1, 4) == "----   0.0%");
}

TEST_CASE("a row whose data changed on disk names the file briefly and says how to re-check") {
    REQUIRE(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr);
    Row r = sample("data");
    r.st.state = TorrentState::error;
    r.st.save_path = "/srv/very/long/downloads/path/data";
    r.st.error = "file truncated: /srv/very/long/downloads/path/data/sub/f1.bin";
    r.st.needs_recheck = true;
    auto cols = layout_columns(200);
    std::string line = row_line(r, cols, 200);
    CHECK(line.find("file truncated: sub/f1.bin \u2014 press r to re-check") != std::string::npos);
    // A single-file torrent: its save path is the file.
    r.st.save_path = "/srv/x/one.iso";
    r.st.error = "file missing: /srv/x/one.iso";
    CHECK(row_line(r, cols, 200).find("file missing: one.iso \u2014 press r") != std::string::npos);
    r.st.error = "file changed: /srv/x/one.iso (piece 7 fails its hash check)";
    CHECK(row_line(r, cols, 200).find("file changed: one.iso \u2014 press r") != std::string::npos);
    // Other errors are shown as they are.
    r.st.needs_recheck = false;
    r.st.error = "save directory /srv is not writable: Read-only file system";
    CHECK(row_line(r, cols, 200).find("save directory /srv is not writable") != std::string::npos);
}

TEST_CASE("the table shows bytes that are not UTF-8 as the status JSON does, as %XX") {
    REQUIRE(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr);
    Row error;  // a .torrent copied from a Latin-1 share that did not load
    error.file = "caf\xe9.torrent";
    error.st.name = "caf\xe9.torrent";
    error.st.state = TorrentState::error;
    error.st.error = "invalid bencode in caf\xe9.torrent";
    auto cols = layout_columns(160);
    std::string line = row_line(error, cols, 160);
    CHECK(line.find("caf%E9.torrent") != std::string::npos);
    CHECK(line.find("invalid bencode in caf%E9.torrent") != std::string::npos);
    CHECK(display_width(line) == 160);
    TorrentStatus t;
    t.name = "\xff name";
    t.save_path = "/srv/caf\xe9";
    t.files.push_back({"sous-r\xe9p/f", 10, 1.0});
    std::string all;
    for (const auto& l : detail_lines(t, 120)) all += l + "\n";
    CHECK(all.find("%FF name") != std::string::npos);
    CHECK(all.find("/srv/caf%E9") != std::string::npos);
    CHECK(all.find("sous-r%E9p/f") != std::string::npos);
    std::setlocale(LC_CTYPE, "C");
}

TEST_CASE("at 120 columns the name gets the spare width and no empty MESSAGE column") {
    auto cols = layout_columns(120);
    int name_w = 0;
    bool message = false;
    for (auto& c : cols) {
        if (c.id == Col::name) name_w = c.width;
        message |= c.id == Col::message;
    }
    CHECK(name_w >= 30);
    CHECK_FALSE(message);
    CHECK(header_line(cols, 120).find("MESSAGE") == std::string::npos);
    // Two names that differ only near the end stay apart.
    std::string a = row_line(sample("ubuntu-24.04.1-desktop-amd64.iso"), cols, 120);
    std::string b = row_line(sample("ubuntu-24.04.1-desktop-arm64.iso"), cols, 120);
    CHECK(a.find("amd64.iso") != std::string::npos);
    CHECK(b.find("arm64.iso") != std::string::npos);
}

TEST_CASE("an error row shows its whole message in place of its rates") {
    Row r = sample("data");
    r.st.state = TorrentState::error;
    r.st.error = "/srv/dl is not writable: Permission denied";  // 42 cells: 45 are free
    auto cols = layout_columns(120);
    std::string line = row_line(r, cols, 120);
    CHECK(line.find("Permission denied") != std::string::npos);
    CHECK(line.size() == 120);
    // A healthy row keeps its rates.
    CHECK(row_line(sample("data"), cols, 120).find("1.5 MB/s") != std::string::npos);
}

TEST_CASE("a stopped torrent's state reads paused; the message is empty when there is none") {
    Row r = sample("x");
    r.st.state = TorrentState::stopped;
    CHECK(state_cell(r.st) == "paused");
    CHECK(row_line(r, layout_columns(120), 120).find("paused") != std::string::npos);
    r.st.tracker_message.clear();
    CHECK(row_message(r.st).empty());
}

TEST_CASE("the detail pane scrolls with N more markers and never passes the end") {
    std::vector<std::string> lines;
    for (int i = 0; i < 10; ++i) lines.push_back("line " + std::to_string(i));
    int scroll = 0;
    auto w = scroll_window(lines, 4, scroll, 40);
    REQUIRE(w.size() == 4);
    CHECK(w[0] == fit_width("line 0", 40).substr(0, w[0].size()));
    CHECK(w[3].find("7 more below") != std::string::npos);
    scroll = 3;
    w = scroll_window(lines, 4, scroll, 40);
    CHECK(w[0].find("3 more above") != std::string::npos);
    CHECK(w[1].rfind("line 3", 0) == 0);
    CHECK(w[3].find("5 more below") != std::string::npos);
    scroll = 1000;  // End: clamped to the last page, no marker below
    w = scroll_window(lines, 4, scroll, 40);
    CHECK(scroll == 7);
    CHECK(w[0].find("7 more above") != std::string::npos);
    CHECK(w[3].rfind("line 9", 0) == 0);
    scroll = 5;  // everything fits: no markers, scroll back to 0
    w = scroll_window(std::vector<std::string>(lines.begin(), lines.begin() + 3), 4, scroll, 40);
    CHECK(scroll == 0);
    CHECK(w.size() == 3);
}

TEST_CASE("the detail pane shows full client names and a legend for the peer flags") {
    TorrentStatus t;
    t.name = "x";
    PeerStatus p;
    p.address = "127.0.0.2:6881";
    p.client = "libtorrent (Rasterbar) 2.0.8.0";
    p.flags = "DUSIF";
    t.peer_list.push_back(p);
    std::string all;
    for (const auto& l : detail_lines(t, 200)) all += l + "\n";
    CHECK(all.find("libtorrent (Rasterbar) 2.0.8.0") != std::string::npos);
    CHECK(all.find("flags: D/d") != std::string::npos);
}

TEST_CASE("the filter matches the name or the file without regard to case") {
    Row r = sample("Ubuntu-24.04.iso");
    CHECK(row_matches(r, "ubuntu"));
    CHECK(row_matches(r, "24.04.ISO.torrent"));
    CHECK_FALSE(row_matches(r, "debian"));
    CHECK(row_matches(r, ""));
}

TEST_CASE("an unwritable save directory says how to retry") {
    TorrentStatus t;
    t.state = TorrentState::error;
    t.error = "save directory /srv is not writable: Read-only file system";
    CHECK(row_message(t) == t.error + " \u2014 make it writable, then press r to retry");
}

TEST_CASE("detail pane: files show wanted and priority, the cursor and where the files begin") {
    TorrentStatus t;
    t.name = "pack";
    t.total_size = 300;
    t.wanted_bytes = 100;
    t.sequential = true;
    FileStatus a{"a.bin", 100, 1.0}, b{"b.bin", 200, 0.0};
    a.priority = 1;
    b.wanted = false;
    b.priority = -1;
    t.files = {a, b};
    int files_at = -1;
    auto lines = detail_lines(t, 200, 1, &files_at);
    REQUIRE(files_at >= 0);
    REQUIRE(size_t(files_at) + 1 < lines.size());
    CHECK(lines[size_t(files_at)].find("  [x] high") == 0);
    CHECK(lines[size_t(files_at)].find("a.bin") != std::string::npos);
    CHECK(lines[size_t(files_at) + 1].find("> [ ] low") == 0);
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    CHECK(all.find("sequential download") != std::string::npos);
    CHECK(all.find("wanted 100 B of 300 B") != std::string::npos);
}
