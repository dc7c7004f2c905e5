#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>

#include "btl/core/bencode.hpp"
#include "btl/tracker/registry.hpp"

using namespace btl;

namespace {

Sha1Digest ih(uint8_t b) {
    Sha1Digest d;
    d.fill(b);
    return d;
}

ClientAnnounce req(uint8_t torrent, uint8_t peer, uint8_t ip_last, uint16_t port, int64_t left = 100,
                    ClientEvent ev = ClientEvent::none) {
    ClientAnnounce r;
    r.info_hash = ih(torrent);
    r.peer_id.fill(peer);
    r.addr = PeerAddr::from_v4(0x7f000000u | ip_last);
    r.port = port;
    r.left = left;
    r.event = ev;
    r.compact = true;
    return r;
}

struct Answer {
    std::string body;
    BDoc doc;
    BNode root;
};

// Decodes an announce answer; returns compact peers as "ip_last:port" strings.
std::set<std::string> peers_of(const std::string& body, int64_t* complete = nullptr, int64_t* incomplete = nullptr,
                               int64_t* downloaded = nullptr) {
    auto d = decode(body);
    REQUIRE(d.ok());
    BNode root = d->root();
    REQUIRE(!root.find("failure reason"));
    if (complete) *complete = root.find_int("complete").int_value();
    if (incomplete) *incomplete = root.find_int("incomplete").int_value();
    if (downloaded) *downloaded = root.find_int("downloaded").int_value();
    std::string_view p = root.find_string("peers").string();
    REQUIRE(p.size() % 6 == 0);
    std::set<std::string> out;
    for (size_t i = 0; i < p.size(); i += 6) {
        auto* b = reinterpret_cast<const uint8_t*>(p.data() + i);
        out.insert(std::to_string(b[3]) + ":" + std::to_string(b[4] << 8 | b[5]));
    }
    return out;
}

std::string announce(TrackerRegistry& r, const ClientAnnounce& a, int64_t now = 1000) {
    std::string out;
    r.announce(a, now, out);
    return out;
}

}  // namespace

TEST_CASE("registry: peers find each other and never see themselves") {
    TrackerRegistry r;
    CHECK(peers_of(announce(r, req(1, 'a', 2, 1000, 0, ClientEvent::started))).empty());
    CHECK(peers_of(announce(r, req(1, 'b', 3, 1001))) == std::set<std::string>{"2:1000"});
    CHECK(peers_of(announce(r, req(1, 'c', 4, 1002))) == std::set<std::string>{"2:1000", "3:1001"});
    // Another torrent is a separate swarm.
    CHECK(peers_of(announce(r, req(2, 'd', 5, 1003))).empty());
    // Same address:port under a new peer id is still "self".
    CHECK(peers_of(announce(r, req(1, 'z', 4, 1002))).count("4:1002") == 0);
}

TEST_CASE("registry: seeds are not sent to seeds; counts follow left and events") {
    TrackerRegistry r;
    announce(r, req(1, 'a', 2, 1000, 0));
    announce(r, req(1, 'b', 3, 1000, 0));
    int64_t c, i, d;
    CHECK(peers_of(announce(r, req(1, 'c', 4, 1000, 0)), &c, &i, &d).empty());
    CHECK(c == 3);
    CHECK(i == 0);
    announce(r, req(1, 'l', 5, 1000, 50, ClientEvent::started));
    CHECK(peers_of(announce(r, req(1, 'l', 5, 1000, 50)), &c, &i, &d).size() == 3);
    CHECK(i == 1);
    // completed: counted once, leecher becomes seed
    announce(r, req(1, 'l', 5, 1000, 0, ClientEvent::completed));
    announce(r, req(1, 'l', 5, 1000, 0, ClientEvent::completed));
    peers_of(announce(r, req(1, 'a', 2, 1000, 0)), &c, &i, &d);
    CHECK(c == 4);
    CHECK(i == 0);
    CHECK(d == 1);
    // stopped removes the peer
    announce(r, req(1, 'l', 5, 1000, 0, ClientEvent::stopped));
    peers_of(announce(r, req(1, 'a', 2, 1000, 0)), &c, &i, &d);
    CHECK(c == 3);
    CHECK(r.counts(ih(1))->downloaded == 1);
    // A leecher that stops with left=0 (aria2 --seed-time=0) has completed too.
    announce(r, req(1, 'm', 6, 1000, 50));
    announce(r, req(1, 'm', 6, 1000, 0, ClientEvent::stopped));
    CHECK(r.counts(ih(1))->downloaded == 2);
    announce(r, req(1, 'n', 7, 1000, 50));
    announce(r, req(1, 'n', 7, 1000, 50, ClientEvent::stopped));
    CHECK(r.counts(ih(1))->downloaded == 2);
}

TEST_CASE("registry: numwant is honoured and capped by response_size, selection is random") {
    RegistryConfig cfg;
    cfg.response_size = 10;
    TrackerRegistry r(cfg, 42);
    for (int p = 0; p < 100; ++p) announce(r, req(1, static_cast<uint8_t>(p), static_cast<uint8_t>(p), 2000));
    auto a = req(1, 200, 200, 3000);
    CHECK(peers_of(announce(r, a)).size() == 10);
    a.numwant = 3;
    CHECK(peers_of(announce(r, a)).size() == 3);
    a.numwant = 0;
    CHECK(peers_of(announce(r, a)).empty());
    a.numwant = 1000;
    std::set<std::string> all;
    for (int k = 0; k < 50; ++k) {
        auto got = peers_of(announce(r, a));
        CHECK(got.size() == 10);
        all.insert(got.begin(), got.end());
    }
    CHECK(all.size() > 60);  // many different peers handed out over time
}

TEST_CASE("registry: peers expire after the timeout; empty swarms go away") {
    RegistryConfig cfg;
    cfg.peer_timeout = 100;
    TrackerRegistry r(cfg);
    announce(r, req(1, 'a', 2, 1000), 1000);
    announce(r, req(1, 'b', 3, 1000), 1050);
    CHECK(r.expire(1100) == 0);
    CHECK(r.expire(1101) == 1);
    CHECK(r.total_peers() == 1);
    CHECK(r.expire(1200) == 1);
    CHECK(r.stats().torrents == 0);
}

TEST_CASE("registry: key identity lets a peer move address; without it the entry is protected") {
    TrackerRegistry r;
    auto a = req(1, 'a', 2, 1000);
    a.has_key = true;
    a.key = 77;
    announce(r, a);
    auto moved = req(1, 'a', 9, 1000);
    moved.has_key = true;
    moved.key = 77;
    announce(r, moved);
    CHECK(peers_of(announce(r, req(1, 'x', 3, 1000))) == std::set<std::string>{"9:1000"});
    // Same peer id from another address with a wrong key: ignored, warned.
    auto thief = req(1, 'a', 66, 1000);
    thief.has_key = true;
    thief.key = 1;
    std::string body = announce(r, thief);
    CHECK(body.find("warning message") != std::string::npos);
    CHECK(peers_of(announce(r, req(1, 'x', 3, 1000))) == std::set<std::string>{"9:1000"});
    // ... and cannot stop it either.
    thief.event = ClientEvent::stopped;
    announce(r, thief);
    CHECK(r.total_peers() == 2);
}

TEST_CASE("registry: caps on torrents and peers bound memory") {
    RegistryConfig cfg;
    cfg.max_torrents = 2;
    cfg.max_peers_per_torrent = 3;
    TrackerRegistry r(cfg);
    announce(r, req(1, 'a', 2, 1000));
    announce(r, req(2, 'a', 2, 1000));
    std::string body = announce(r, req(3, 'a', 2, 1000));
    CHECK(body.find("failure reason") != std::string::npos);
    for (uint8_t p = 'b'; p < 'h'; ++p) announce(r, req(1, p, p, 1000));
    CHECK(r.counts(ih(1))->incomplete == 3);
    body = announce(r, req(1, 'z', 200, 1000));
    CHECK(body.find("swarm is full") != std::string::npos);
    CHECK(peers_of(body).size() == 3);  // still answered
}

TEST_CASE("registry: dictionary peer lists with and without peer id") {
    TrackerRegistry r;
    announce(r, req(1, 'a', 2, 6881));
    auto a = req(1, 'b', 3, 1000);
    a.compact = false;
    // decode() points into its buffer: keep the body alive.
    const std::string body = announce(r, a);
    auto d = decode(body);
    REQUIRE(d.ok());
    BNode peers = d->root().find_list("peers");
    REQUIRE(peers.size() == 1);
    BNode p = peers.at(0);
    CHECK(p.find_string("ip").string() == "127.0.0.2");
    CHECK(p.find_int("port").int_value() == 6881);
    CHECK(p.find_string("peer id").string() == std::string(20, 'a'));
    a.no_peer_id = true;
    std::string body2 = announce(r, a);
    CHECK(body2.find("peer id") == std::string::npos);
}

TEST_CASE("registry: IPv6 peers go to peers6 in compact answers") {
    TrackerRegistry r;
    auto six = req(1, 'a', 0, 7000);
    REQUIRE(PeerAddr::parse("::1", six.addr));
    announce(r, six);
    const std::string body = announce(r, req(1, 'b', 3, 1000));
    auto d = decode(body);
    REQUIRE(d.ok());
    CHECK(d->root().find_string("peers").string().empty());
    CHECK(d->root().find_string("peers6").string().size() == 18);
}

TEST_CASE("registry: scrape for some, all, deduplicated and sorted") {
    TrackerRegistry r;
    announce(r, req(2, 'a', 2, 1000, 0));
    announce(r, req(1, 'b', 3, 1000, 5));
    announce(r, req(1, 'c', 4, 1000, 0, ClientEvent::completed));
    std::string out;
    Sha1Digest want[] = {ih(1), ih(9), ih(1)};
    r.scrape(want, false, out);
    auto d = decode(out);
    REQUIRE(d.ok());
    BNode files = d->root().find_dict("files");
    REQUIRE(files.size() == 1);
    BNode f = files.find(std::string(20, '\x01'));
    CHECK(f.find_int("complete").int_value() == 1);
    CHECK(f.find_int("incomplete").int_value() == 1);
    CHECK(f.find_int("downloaded").int_value() == 1);
    out.clear();
    r.scrape({}, true, out);
    REQUIRE(decode(out).ok());
    CHECK(decode(out)->root().find_dict("files").size() == 2);
    CHECK(out.find(std::string(20, '\x01')) < out.find(std::string(20, '\x02')));
}

TEST_CASE("registry: save and load round-trip; expired peers dropped; corrupt images rejected") {
    RegistryConfig cfg;
    cfg.peer_timeout = 100;
    TrackerRegistry r(cfg);
    auto k = req(1, 'a', 2, 1000, 0, ClientEvent::completed);
    k.has_key = true;
    k.key = 5;
    announce(r, k, 1000);
    announce(r, req(1, 'b', 3, 1000), 1090);
    std::string image = r.save();
    TrackerRegistry s(cfg, 7);
    REQUIRE(s.load(image, 1150).ok());  // 'a' is 150 s old: dropped
    CHECK(s.total_peers() == 1);
    CHECK(s.counts(ih(1))->downloaded == 1);
    CHECK(s.counts(ih(1))->incomplete == 1);
    TrackerRegistry t(cfg);
    REQUIRE(t.load(image, 1000).ok());
    CHECK(t.total_peers() == 2);
    CHECK(t.save() == image);
    for (std::string bad : {std::string("garbage"), std::string("de"), image.substr(0, image.size() - 1),
                            std::string("d8:torrentsd3:abcdee7:versioni1ee")}) {
        CAPTURE(bad);
        CHECK_FALSE(t.load(bad, 1000).ok());
        CHECK(t.total_peers() == 2);  // unchanged
    }
}

TEST_CASE("registry: addresses parse numerically and classify local networks") {
    PeerAddr a;
    CHECK(PeerAddr::parse("10.1.2.3", a));
    CHECK(a.is_local());
    CHECK(PeerAddr::parse("8.8.8.8", a));
    CHECK_FALSE(a.is_local());
    CHECK(PeerAddr::parse("::ffff:192.168.1.1", a));
    CHECK(a.len == 4);
    CHECK(a.is_local());
    CHECK(PeerAddr::parse("fd00::1", a));
    CHECK(a.is_local());
    CHECK_FALSE(PeerAddr::parse("example.com", a));
    CHECK_FALSE(PeerAddr::parse("1.2.3.4.5", a));
}

TEST_CASE("registry: a peer's second endpoint (BEP 7) is served beside its first and survives save/load") {
    TrackerRegistry r;
    auto a = req(1, 'a', 2, 7000);
    REQUIRE(PeerAddr::parse("2001:db8::7", a.other_addr));
    a.other_port = 7001;
    announce(r, a);
    const std::string body = announce(r, req(1, 'b', 3, 1000));
    CHECK(peers_of(body) == std::set<std::string>{"2:7000"});
    auto d = decode(body);
    REQUIRE(d.ok());
    std::string_view p6 = d->root().find_string("peers6").string();
    REQUIRE(p6.size() == 18);
    CHECK(std::memcmp(p6.data(), a.other_addr.bytes.data(), 16) == 0);
    CHECK((uint8_t(p6[16]) << 8 | uint8_t(p6[17])) == 7001);
    // Without compact: one dictionary per endpoint.
    auto c = req(1, 'c', 4, 1000);
    c.compact = false;
    const std::string dict = announce(r, c);
    CHECK(dict.find("2:ip11:2001:db8::7") != std::string::npos);
    CHECK(dict.find("2:ip9:127.0.0.2") != std::string::npos);
    // The --dfile keeps it.
    const std::string image = r.save();
    CHECK(image.find("6:alt ip16:") != std::string::npos);
    TrackerRegistry s;
    REQUIRE(s.load(image, 1000).ok());
    CHECK(s.save() == image);
    // An alt address in the peer's own family, or without a port, is a damaged file.
    std::string same = image;
    same.replace(same.find("6:alt ip16:"), 11 + 16, "6:alt ip4:" + std::string("\x01\x02\x03\x04", 4));
    CHECK_FALSE(s.load(same, 1000).ok());
}
