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
