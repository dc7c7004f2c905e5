// The status document's version and the DHT's packet counters: datagrams
// alone (the counters move a few times a second with every torrent idle)
// make no new document, and a document built for another reason shows the
// counters as they are then.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "btl/base/sha1.hpp"
#include "btl/engine/session.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"
#include "launcher_rig.hpp"

using namespace btl;
using namespace btl::testing;

namespace {
constexpr size_t kSeeds = 3;

std::string content_of(size_t i) { return std::string(700, char('k' + i)) + std::to_string(i); }
std::string name_of(size_t i) { return "dhtver" + std::to_string(i); }

std::string metainfo_of(size_t i) { return one_piece_metainfo(name_of(i), content_of(i)); }


// One datagram to the session's UDP port on loopback.  It starts with 'd',
// so the socket hands it to the DHT, which counts it and drops it as not
// KRPC: the routing table (dht_nodes) stays as it is.
void send_datagram(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char kNotKrpc[] = "d1:xi0ee";
    CHECK(::sendto(fd, kNotKrpc, sizeof kNotKrpc - 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
          ssize_t(sizeof kNotKrpc - 1));
    ::close(fd);
}
}  // namespace

TEST_CASE("versioned_totals: only the DHT's packet counters are left out") {
    SessionStatus a;
    a.dht_nodes = 12;
    a.dht_packets_in = 500;
    a.dht_packets_out = 700;
    a.torrents = 3;
    SessionStatus v = versioned_totals(a);
    CHECK(v.dht_packets_in == 0);
    CHECK(v.dht_packets_out == 0);
    CHECK(v.dht_nodes == 12);
    CHECK(v.torrents == 3);
    SessionStatus b = a;
    b.dht_packets_in += 9;
    b.dht_packets_out += 4;
    CHECK(status_json({}, versioned_totals(a)) == status_json({}, versioned_totals(b)));
    b.dht_nodes += 1;  // the node count still makes a new document
    CHECK(status_json({}, versioned_totals(a)) != status_json({}, versioned_totals(b)));
}

TEST_CASE("status document: DHT datagrams alone make no new version; a document written shows them") {
    const std::string dir = scratch_dir("status-dht");
    for (size_t i = 0; i < kSeeds; ++i) {
        put(dir + "/watch/" + name_of(i) + ".torrent", metainfo_of(i));
        put(dir + "/data/" + name_of(i), content_of(i));
    }
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    {
        LogBook log;
        SessionOptions so = loopback_session(dir);
        so.dht = true;  // on, with no bootstrap node: it sends nothing by itself
        so.dht_bootstrap = "";
        Session s(&loop, so, &log);
        REQUIRE(s.start().ok());
        LauncherOptions lo = watching(dir);
        lo.queue.max_downloads = 0;
        Launcher l(&loop, s, log, lo);
        REQUIRE(l.start().ok());
        REQUIRE(run_until(&loop, 30'000, [&] {
            return l.row_count() == kSeeds && l.state_counts()[size_t(TorrentState::seeding)] == kSeeds;
        }));
        // Settled: two seconds in a row with the same version.
        REQUIRE(run_until(&loop, 60'000, [&] {
            uint64_t v = l.status_json_version();
            run_for(&loop, 2000);
            return l.status_json_version() == v;
        }));
        const uint64_t version = l.status_json_version();
        const SessionStatus before = l.session_status();
        REQUIRE(before.dht_nodes >= 0);  // the DHT is on
        const uint16_t port = s.listen_port();
        for (int i = 0; i < 3; ++i) {
            send_datagram(port);
            run_for(&loop, 300);
        }
        // The version is asked first, as the status file does: it brings the totals up to date.
        CHECK(l.status_json_version() == version);
        const SessionStatus after = l.session_status();
        CHECK(after.dht_packets_in == before.dht_packets_in + 3);
        CHECK(after.dht_nodes == before.dht_nodes);
        // A document built now (the once-a-minute rewrite, or for another
        // change) has the counters of now.
        std::string doc = l.status_json();
        CHECK(doc.find("\"dht_packets_in\":" + std::to_string(after.dht_packets_in) + ",") != std::string::npos);

        // Anything else still makes a new version: a pause.
        l.toggle_pause(l.sorted_rows(SortKey::name)[0]->st.info_hash);
        CHECK(l.status_json_version() != version);

        bool down = false;
        l.shutdown([&] { down = true; });
        REQUIRE(run_until(&loop, 30'000, [&] { return down; }));
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    std::filesystem::remove_all(dir);
}
