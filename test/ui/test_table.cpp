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
