// The status schema has one writer and one comparison (engine/status_json):
// the launcher rewrites a cached row object only when same_row_json says it
// changed, so same_row_json must be true exactly when the objects are equal,
// whichever field changes, shown or not.
#include <doctest/doctest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../base/json_check.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"

using namespace btl;

namespace {
Row base_row() {
    Row r;
    r.file = "a.torrent";
    r.loaded = true;
    r.st.name = "a";
    r.st.state = TorrentState::downloading;
    r.st.progress = 0.25;
    TrackerStatus tr;
    tr.url = "http://127.0.0.1:1/announce";
    tr.status = "ok";
    r.st.trackers = {tr};
    return r;
}

std::string object(const Row& r) {
    std::string o;
    append_row_json(o, r);
    return o;
}
}  // namespace

TEST_CASE("same_row_json is true exactly when the row objects are the same text") {
    using Edit = std::function<void(Row&)>;
    const std::vector<Edit> edits = {
        [](Row& r) { r.file = "b.torrent"; },
        [](Row& r) { r.loaded = false; },
        [](Row& r) { r.st.info_hash[19] = 1; },
        [](Row& r) { r.st.name = "b"; },
        [](Row& r) { r.st.save_path = "/x"; },
        [](Row& r) { r.st.state = TorrentState::seeding; },
        [](Row& r) { r.st.progress = 0.5; },
        [](Row& r) { r.st.check_progress = 0.5; },
        [](Row& r) { r.st.total_size = 7; },
        [](Row& r) { r.st.have_bytes = 7; },
        [](Row& r) { r.st.down_rate = 7; },
        [](Row& r) { r.st.up_rate = 7; },
        [](Row& r) { r.st.downloaded = 7; },
        [](Row& r) { r.st.uploaded = 7; },
        [](Row& r) { r.st.total_downloaded = 7; },
        [](Row& r) { r.st.total_uploaded = 7; },
        [](Row& r) { r.st.peers = 7; },
        [](Row& r) { r.st.seeds = 7; },
        [](Row& r) { r.st.eta_s = 7; },
        [](Row& r) { r.st.error = "e"; },
        [](Row& r) { r.st.tracker_message = "m"; },
        [](Row& r) { r.st.trackers[0].url = "udp://127.0.0.1:2"; },
        [](Row& r) { r.st.trackers[0].status = "error: x"; },
        [](Row& r) { r.st.trackers[0].seeds = 7; },
        [](Row& r) { r.st.trackers[0].leechers = 7; },
        [](Row& r) { r.st.trackers[0].fails = 7; },
        [](Row& r) { r.st.trackers[0].interval_s = 7; },
        [](Row& r) { r.st.trackers[0].next_announce_at = 7; },
        [](Row& r) { r.st.trackers.push_back(r.st.trackers[0]); },
        [](Row& r) { r.st.queue_position = 7; },
        [](Row& r) { r.st.completed_time = 7; },
        // Not in the document: the row must not be rewritten for these.
        [](Row& r) { r.st.trackers[0].next_announce_s = 7; },
        [](Row& r) { r.st.needs_recheck = true; },
        [](Row& r) { r.st.retry_in_s = 7; },
        [](Row& r) { r.st.added_time = 7; },
        [](Row& r) { r.st.num_pieces = 7; },
        [](Row& r) { r.st.pieces_have = 7; },
        [](Row& r) { r.st.files.push_back({"f", 1, 0}); },
        [](Row& r) { r.st.peer_list.push_back({}); },
        [](Row& r) { r.added_seq = 7; },
        [](Row& r) { r.st.limits.priority = 1; },
    };
    const Row a = base_row();
    size_t shown = 0;
    for (size_t i = 0; i < edits.size(); ++i) {
        Row b = a;
        edits[i](b);
        INFO("edit #", i);
        bool same_text = object(a) == object(b);
        CHECK(same_row_json(a, b) == same_text);
        CHECK(same_row_json(b, a) == same_text);
        CHECK(test::parse_json(object(b)).has_value());
        shown += !same_text;
    }
    CHECK(shown == 31);  // every member of the document was edited once
    CHECK(same_row_json(a, a));
}

TEST_CASE("btl::status_json's objects are the launcher's row objects without file and loaded") {
    Row r = base_row();
    std::string row = object(r);
    std::string doc = status_json({r.st}, SessionStatus{});
    std::string prefix = "{\"file\":\"a.torrent\",\"loaded\":true,";
    REQUIRE(row.rfind(prefix, 0) == 0);
    CHECK(doc.find("{" + row.substr(prefix.size())) == std::string("{\"torrents\":[").size());
    auto v = test::parse_json(doc);
    REQUIRE(v.has_value());
    CHECK((*v)["totals"]["listen_port"].text == "0");
}

TEST_CASE("a non-finite number is written as null, so the document stays JSON") {
    Row r = base_row();
    r.st.down_rate = std::numeric_limits<double>::infinity();
    r.st.progress = std::numeric_limits<double>::quiet_NaN();
    std::string o = object(r);
    CHECK(o.find("\"down_rate\":null") != std::string::npos);
    CHECK(o.find("\"progress\":null") != std::string::npos);
    CHECK(test::parse_json(o).has_value());
    SessionStatus s;
    s.up_rate = -std::numeric_limits<double>::infinity();
    std::string doc = status_json({r.st}, s);
    CHECK(doc.find("\"up_rate\":null") != std::string::npos);
    CHECK(test::parse_json(doc).has_value());
}
