// Every status document is valid UTF-8 JSON whatever bytes the rows hold: a
// .torrent file name copied from a Latin-1 share, a tracker's failure reason,
// an error naming such a path.  Invalid bytes come out as "%XX" (as in
// metainfo names and btshowmetainfo --json), everything else as it was.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../base/json_check.hpp"
#include "btl/base/utf8.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"

using namespace btl;

namespace {
const std::vector<std::string>& hostile() {
    static const std::vector<std::string> v = {
        "caf\xe9",
        "\xff",
        "\xe2\x82",
        "x\xe2\x82y\xf0\x9f\x98",
        "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80",
        "ctl\x01\x1f\x7f\n\t",
        std::string("nul\0x", 5),
        "\"q\" \\",
        "\xc3\xa9t\xc3\xa9",
    };
    return v;
}

TorrentStatus hostile_status(const std::string& s) {
    TorrentStatus t;
    t.name = s + "-name";
    t.save_path = "/srv/" + s;
    t.error = "file missing: /srv/" + s + "/a";
    t.tracker_message = "tracker said: " + s;
    t.state = TorrentState::error;
    TrackerStatus tr;
    tr.url = "http://127.0.0.1:1/" + s;
    tr.status = "error: " + s;
    t.trackers = {tr, tr};
    return t;
}

// Each string field of one torrent object decodes to what the row held,
// with its invalid bytes as %XX.
void check_torrent_object(const test::JsonValue& o, const TorrentStatus& t) {
    CHECK(o["name"].text == escape_invalid_utf8(t.name));
    CHECK(o["save_path"].text == escape_invalid_utf8(t.save_path));
    CHECK(o["error"].text == escape_invalid_utf8(t.error));
    CHECK(o["tracker"].text == escape_invalid_utf8(t.tracker_message));
    REQUIRE(o["trackers"].items.size() == t.trackers.size());
    for (size_t i = 0; i < t.trackers.size(); ++i) {
        CHECK(o["trackers"][i]["url"].text == escape_invalid_utf8(t.trackers[i].url));
        CHECK(o["trackers"][i]["status"].text == escape_invalid_utf8(t.trackers[i].status));
    }
}
}  // namespace

TEST_CASE("status utf8: the launcher's rows document is valid UTF-8 JSON for any bytes") {
    for (const auto& s : hostile()) {
        INFO("bytes = '", s, "'");
        Row loaded;
        loaded.file = s + ".torrent";
        loaded.loaded = true;
        loaded.st = hostile_status(s);
        Row broken;  // an error row: the name is the file's
        broken.file = "broken " + s + ".torrent";
        broken.st.name = broken.file;
        broken.st.state = TorrentState::error;
        broken.st.error = "invalid bencode in " + s;
        std::vector<Row> rows{loaded, broken};
        std::string doc = rows_status_json(rows, rows_totals(rows, 6881));
        CHECK(is_valid_utf8(doc));
        auto v = test::parse_json(doc);
        REQUIRE(v.has_value());
        REQUIRE((*v)["torrents"].items.size() == 2);
        for (size_t i = 0; i < rows.size(); ++i) {
            const auto& o = (*v)["torrents"][i];
            CHECK(o["file"].text == escape_invalid_utf8(rows[i].file));
            CHECK(o["loaded"].b == rows[i].loaded);
            check_torrent_object(o, rows[i].st);
        }
        CHECK((*v)["errors"].text == "1");
        // One row's object on its own is a JSON document too.
        std::string one;
        append_row_json(one, loaded);
        CHECK(test::parse_json(one).has_value());
    }
}

TEST_CASE("status utf8: btl::status_json is valid UTF-8 JSON for any bytes") {
    for (const auto& s : hostile()) {
        INFO("bytes = '", s, "'");
        TorrentStatus t = hostile_status(s);
        std::string doc = status_json({t, t}, SessionStatus{});
        CHECK(is_valid_utf8(doc));
        auto v = test::parse_json(doc);
        REQUIRE(v.has_value());
        REQUIRE((*v)["torrents"].items.size() == 2);
        check_torrent_object((*v)["torrents"][0], t);
        CHECK(trackers_json(t.trackers) == doc.substr(doc.find("\"trackers\":") + 11, trackers_json(t.trackers).size()));
    }
}
