// The client half of Transmission's RPC: answers as transmission-daemon
// writes them, read into the view's snapshot types.
#include <doctest/doctest.h>

#include "btl/base/sha1.hpp"
#include "btl/rpc/rpc_client.hpp"
#include "btl/rpc/rpc_client_codec.hpp"

using namespace btl;
using namespace btl::rpc;

namespace {

// An answer shaped as transmission-daemon 3.00 gives it for the row fields.
const char* const kFull = R"({"arguments":{"torrents":[
 {"id":1,"hashString":"0123456789abcdef0123456789abcdef01234567","name":"ubuntu.iso","status":4,
  "error":0,"errorString":"","percentDone":0.25,"recheckProgress":0,"totalSize":4000,"haveValid":1000,
  "rateDownload":2048,"rateUpload":512,"downloadedEver":1100,"uploadedEver":300,"peersConnected":7,
  "peersSendingToUs":3,"eta":120,"addedDate":1700000000,"downloadDir":"/srv/dl","isStalled":false,
  "pieceCount":4,"pieceSize":1000},
 {"id":2,"hashString":"89abcdef0123456789abcdef0123456789abcdef","name":"paused one","status":0,
  "error":3,"errorString":"No data found!","percentDone":1,"eta":-2,"totalSize":10,"haveValid":10},
 {"id":3,"hashString":"ffffffffffffffffffffffffffffffffffffffff","name":"seed","status":6,"error":2,
  "errorString":"Tracker gave HTTP 404","percentDone":1,"eta":-1,"isStalled":true}
]},"result":"success","tag":7})";

}  // namespace

TEST_CASE("torrent-get: every row field read with Transmission's meaning") {
    auto r = parse_torrent_get(kFull);
    REQUIRE(r.ok());
    REQUIRE(r->torrents.size() == 3);
    CHECK(r->removed.empty());
    const RemoteTorrent& a = r->torrents[0];
    CHECK(a.id == 1);
    CHECK(to_hex(a.st.info_hash) == "0123456789abcdef0123456789abcdef01234567");
    CHECK(a.st.name == "ubuntu.iso");
    CHECK(a.st.save_path == "/srv/dl/ubuntu.iso");
    CHECK(a.st.state == TorrentState::downloading);
    CHECK(a.st.progress == doctest::Approx(0.25));
    CHECK(a.st.total_size == 4000);
    CHECK(a.st.have_bytes == 1000);
    CHECK(a.st.down_rate == 2048);
    CHECK(a.st.up_rate == 512);
    CHECK(a.st.total_downloaded == 1100);
    CHECK(a.st.total_uploaded == 300);
    CHECK(a.st.peers == 7);
    CHECK(a.st.seeds == 3);
    CHECK(a.st.eta_s == 120);
    CHECK(a.st.added_time == 1700000000);
    CHECK(a.st.num_pieces == 4);
    CHECK(a.st.pieces_have == 1);
    // error 3 (local) makes an error row; eta -2 (never) is unknown.
    const RemoteTorrent& b = r->torrents[1];
    CHECK(b.st.state == TorrentState::error);
    CHECK(b.st.error == "No data found!");
    CHECK(b.st.eta_s == -1);
    // a tracker error is the tracker message, not an error row.
    const RemoteTorrent& c = r->torrents[2];
    CHECK(c.st.state == TorrentState::seeding);
    CHECK(c.st.error.empty());
    CHECK(c.st.tracker_message == "error: Tracker gave HTTP 404");
}

TEST_CASE("torrent-get recently-active: changed rows and removed ids") {
    auto r = parse_torrent_get(R"({"arguments":{"torrents":[{"id":5,"name":"x","status":2,"recheckProgress":0.5}],
        "removed":[1,2,"junk",3.5,9]},"result":"success"})");
    REQUIRE(r.ok());
    REQUIRE(r->torrents.size() == 1);
    CHECK(r->torrents[0].st.state == TorrentState::checking);
    CHECK(r->torrents[0].st.check_progress == doctest::Approx(0.5));
    CHECK(r->removed == std::vector<int64_t>{1, 2, 9});
    // An idle engine: nothing changed, nothing removed.
    auto idle = parse_torrent_get(R"({"arguments":{"torrents":[],"removed":[]},"result":"success"})");
    REQUIRE(idle.ok());
    CHECK(idle->torrents.empty());
    CHECK(idle->removed.empty());
}

TEST_CASE("torrent-get: rows without an integer id are skipped, wrong types count as absent") {
    auto r = parse_torrent_get(R"({"arguments":{"torrents":[{"name":"no id"},{"id":"7"},
        {"id":8,"name":12,"percentDone":"lots","totalSize":-5,"peersConnected":1e300}]},"result":"success"})");
    REQUIRE(r.ok());
    REQUIRE(r->torrents.size() == 1);
    CHECK(r->torrents[0].id == 8);
    CHECK(r->torrents[0].st.name.empty());
    CHECK(r->torrents[0].st.progress == 0);
    CHECK(r->torrents[0].st.total_size == 0);
    CHECK(r->torrents[0].st.peers == 1 << 30);
}

TEST_CASE("torrent-get detail: files with their progress, peers, trackers") {
    auto r = parse_torrent_get(R"({"arguments":{"torrents":[{"id":1,"name":"d",
        "files":[{"name":"d/a","length":100,"bytesCompleted":50},{"name":"d/b","length":0,"bytesCompleted":0}],
        "fileStats":[{"bytesCompleted":25,"wanted":true},{"bytesCompleted":0}],
        "peers":[{"address":"10.0.0.1","port":51413,"clientName":"Transmission 3.00","rateToClient":100,
                  "rateToPeer":5,"progress":0.5,"flagStr":"DE","isIncoming":true}],
        "trackerStats":[{"announce":"http://t/announce","hasAnnounced":true,"lastAnnounceSucceeded":false,
                         "lastAnnounceResult":"Connection failed","seederCount":4,"leecherCount":-1}]}]},
        "result":"success"})");
    REQUIRE(r.ok());
    const TorrentStatus& t = r->torrents.at(0).st;
    REQUIRE(t.files.size() == 2);
    CHECK(t.files[0].path == "d/a");
    CHECK(t.files[0].progress == doctest::Approx(0.25));  // fileStats wins over files
    CHECK(t.files[1].progress == 1.0);                    // an empty file is complete
    REQUIRE(t.peer_list.size() == 1);
    CHECK(t.peer_list[0].address == "10.0.0.1:51413");
    CHECK(t.peer_list[0].client == "Transmission 3.00");
    CHECK(t.peer_list[0].down_rate == 100);
    CHECK(t.peer_list[0].incoming);
    REQUIRE(t.trackers.size() == 1);
    CHECK(t.trackers[0].status == "error: Connection failed");
    CHECK(t.trackers[0].seeds == 4);
}

TEST_CASE("torrent-get: an engine's own 'error: ...' is not prefixed twice; pieces from the share") {
    auto r = parse_torrent_get(R"({"arguments":{"torrents":[{"id":1,"percentDone":0.5,"pieceCount":10,
        "trackerStats":[{"hasAnnounced":true,"lastAnnounceSucceeded":false,"lastAnnounceResult":"error: refused"}]}]},
        "result":"success"})");
    REQUIRE(r.ok());
    const TorrentStatus& t = r->torrents.at(0).st;
    CHECK(t.trackers.at(0).status == "error: refused");
    CHECK(t.pieces_have == 5);
}

TEST_CASE("RPC answers: failures carry the engine's words; broken ones one line") {
    auto bad = parse_torrent_get(R"({"arguments":{},"result":"no such method"})");
    REQUIRE(!bad.ok());
    CHECK(bad.error().message == "engine says: no such method");
    CHECK(!parse_torrent_get("<html>").ok());
    CHECK(!parse_torrent_get("[1,2]").ok());
    CHECK(!parse_torrent_get(R"({"arguments":{}})").ok());
    std::string deep = "{\"result\":\"success\",\"arguments\":" + std::string(100, '[') + std::string(100, ']') + "}";
    auto d = parse_torrent_get(deep);
    REQUIRE(!d.ok());
    CHECK(d.error().message.find("nested") != std::string::npos);
    // Brackets inside strings are text, not nesting.
    std::string text = R"({"result":"success","arguments":{"torrents":[{"id":1,"name":")" + std::string(100, '[') + R"("}]}})";
    auto t = parse_torrent_get(text);
    REQUIRE(t.ok());
    CHECK(t->torrents.at(0).st.name == std::string(100, '['));
    CHECK(parse_result(R"({"arguments":{},"result":"success"})").ok());
}

TEST_CASE("session-get and session-stats: limits in bytes/s, port, free space") {
    auto s = parse_session_get(R"({"arguments":{"speed-limit-down":500,"speed-limit-down-enabled":true,
        "speed-limit-up":100,"speed-limit-up-enabled":false,"peer-port":51413,"download-dir":"/srv",
        "version":"3.00","rpc-version":16,"download-dir-free-space":12345,
        "units":{"speed-bytes":1000}},"result":"success"})");
    REQUIRE(s.ok());
    CHECK(s->down_limit == 500'000);
    CHECK(s->up_limit == 0);  // set but switched off: unlimited
    CHECK(s->peer_port == 51413);
    CHECK(s->free_space == 12345);
    CHECK(s->rpc_version == 16);
    auto st = parse_session_stats(R"({"arguments":{"downloadSpeed":10,"uploadSpeed":20,"torrentCount":3},"result":"success"})");
    REQUIRE(st.ok());
    CHECK(st->down_rate == 10);
    CHECK(st->up_rate == 20);
    CHECK(st->torrents == 3);
}

TEST_CASE("free-space: the request names the path, the answer its size-bytes") {
    CHECK(free_space_request("/srv/dl").find(R"("path":"/srv/dl")") != std::string::npos);
    // A path that is not UTF-8 is sent, replaced, rather than thrown on.
    CHECK(free_space_request(std::string("/srv/\xff")).find("path") != std::string::npos);
    auto n = parse_free_space(R"({"arguments":{"path":"/srv","size-bytes":4096},"result":"success"})");
    REQUIRE(n.ok());
    CHECK(*n == 4096);
    CHECK(!parse_free_space(R"({"arguments":{"path":"/srv"},"result":"success"})").ok());
}

TEST_CASE("requests: torrent-get asks for recently-active, commands name the id") {
    CHECK(torrent_get_request(Which::recently_active).find(R"("ids":"recently-active")") != std::string::npos);
    CHECK(torrent_get_request(Which::all).find("\"ids\"") == std::string::npos);
    CHECK(torrent_get_request(Which::one, 4, true).find(R"("ids":[4])") != std::string::npos);
    CHECK(torrent_get_request(Which::one, 4, true).find("trackerStats") != std::string::npos);
    CHECK(torrent_get_request(Which::all).find("trackerStats") == std::string::npos);
    std::string rm = torrent_action_request("torrent-remove", 3, true);
    CHECK(rm.find(R"("delete-local-data":true)") != std::string::npos);
    CHECK(rm.find(R"("method":"torrent-remove")") != std::string::npos);
    CHECK(torrent_action_request("torrent-stop", 3).find("delete-local-data") == std::string::npos);
    std::string lim = session_limits_request(500'000, 0);
    CHECK(lim.find(R"("speed-limit-down":500)") != std::string::npos);
    CHECK(lim.find(R"("speed-limit-down-enabled":true)") != std::string::npos);
    CHECK(lim.find(R"("speed-limit-up-enabled":false)") != std::string::npos);
}

TEST_CASE("--attach targets: URL, HOST:PORT, socket path, default socket") {
    auto d = parse_attach_target("", "/var/lib/btl/rpc.sock");
    REQUIRE(d.ok());
    CHECK(d->unix_socket == "/var/lib/btl/rpc.sock");
    CHECK(d->url == "http://localhost/transmission/rpc");
    auto u = parse_attach_target("http://127.0.0.1:9091/transmission/rpc", "x");
    REQUIRE(u.ok());
    CHECK(u->url == "http://127.0.0.1:9091/transmission/rpc");
    CHECK(u->unix_socket.empty());
    auto bare = parse_attach_target("http://127.0.0.1:9091", "x");
    REQUIRE(bare.ok());
    CHECK(bare->url == "http://127.0.0.1:9091/transmission/rpc");
    auto hp = parse_attach_target("example.org:9091", "x");
    REQUIRE(hp.ok());
    CHECK(hp->url == "http://example.org:9091/transmission/rpc");
    auto sock = parse_attach_target("./data/rpc.sock", "x");
    REQUIRE(sock.ok());
    CHECK(sock->unix_socket == "./data/rpc.sock");
    CHECK(!parse_attach_target("nonsense", "x").ok());
    CHECK(!parse_attach_target("http:///path", "x").ok());
}
