// RemoteModel::apply: how torrent-get answers become the view's rows.
#include <doctest/doctest.h>

#include "btl/ui/remote_model.hpp"

using namespace btl;
using namespace btl::ui;

namespace {

rpc::RemoteTorrent torrent(int64_t id, const std::string& name, double progress) {
    rpc::RemoteTorrent t;
    t.id = id;
    t.st.name = name;
    t.st.progress = progress;
    t.st.info_hash[0] = uint8_t(id);
    return t;
}

}  // namespace

TEST_CASE("remote rows: a full list replaces, recently-active updates and removes") {
    std::map<int64_t, Row> rows;
    rpc::TorrentList full;
    full.torrents = {torrent(1, "a", 0.1), torrent(2, "b", 0.2), torrent(3, "c", 0.3)};
    RemoteModel::apply(rows, full, true);
    REQUIRE(rows.size() == 3);
    CHECK(rows[2].file == "b");
    CHECK(rows[2].loaded);
    CHECK(rows[2].added_seq == 2);

    rpc::TorrentList changed;
    changed.torrents = {torrent(2, "b", 0.9)};
    changed.removed = {3, 42};  // an id we never saw is no error
    RemoteModel::apply(rows, changed, false);
    REQUIRE(rows.size() == 2);
    CHECK(rows.count(3) == 0);
    CHECK(rows[2].st.progress == doctest::Approx(0.9));
    CHECK(rows[1].st.progress == doctest::Approx(0.1));  // untouched

    // Idle: nothing changes.
    RemoteModel::apply(rows, rpc::TorrentList{}, false);
    CHECK(rows.size() == 2);

    // After a reconnection the full list is the truth: 1 went while we were away.
    rpc::TorrentList again;
    again.torrents = {torrent(2, "b", 1.0), torrent(4, "d", 0)};
    RemoteModel::apply(rows, again, true);
    REQUIRE(rows.size() == 2);
    CHECK(rows.count(1) == 0);
    CHECK(rows.count(4) == 1);
}

TEST_CASE("remote rows: a torrent without a name is shown by its info-hash") {
    std::map<int64_t, Row> rows;
    rpc::TorrentList l;
    l.torrents = {torrent(7, "", 0)};
    RemoteModel::apply(rows, l, true);
    CHECK(rows[7].file == "0700000000000000000000000000000000000000");
}
