#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "btl/core/bencode.hpp"
#include "btl/tracker/allowed_dir.hpp"
#include "btl/tracker/service.hpp"

using namespace btl;

namespace {

const std::string kHash = "%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14";
const std::string kId = "-XX0001-%00%ff%20abcdefghi";  // 20 bytes once decoded

struct Fixture {
    TrackerRegistry reg;
    TrackerService svc{reg};
    HttpRequestParser parser;
    std::string raw;

    // Returns the body; status in *status.
    std::string get(const std::string& target, const char* remote = "203.0.113.5", int* status = nullptr) {
        raw = "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n";
        parser.reset();
        REQUIRE(parser.parse(raw) == HttpParse::complete);
        PeerAddr addr;
        REQUIRE(PeerAddr::parse(remote, addr));
        std::string out;
        svc.handle(parser.request(), addr, 1000, out);
        size_t sep = out.find("\r\n\r\n");
        REQUIRE(sep != std::string::npos);
        if (status) *status = std::stoi(out.substr(9, 3));
        std::string body = out.substr(sep + 4);
        CHECK(out.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
        return body;
    }
    std::string failure(const std::string& target) {
        std::string body = get(target);  // decode() points into it
        auto d = decode(body);
        REQUIRE(d.ok());
        return std::string(d->root().find_string("failure reason").string());
    }
};

}  // namespace

TEST_CASE("service: announce parameters are validated with clear failure reasons") {
    Fixture f;
    CHECK(f.failure("/announce?peer_id=" + kId + "&port=1") == "missing info_hash");
    CHECK(f.failure("/announce?info_hash=abc&peer_id=" + kId + "&port=1") == "info_hash must be 20 bytes");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&port=1") == "missing peer_id");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId) == "missing port");
    for (const char* port : {"0", "65536", "-1", "x", "1x", "%"})
        CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=" + port) == "invalid port");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1&left=-5") == "invalid left");
    CHECK(f.failure("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1&event=bogus") == "invalid event");
    CHECK(f.failure("/announce?info_hash=%zz&peer_id=" + kId + "&port=1") == "info_hash must be 20 bytes");
}

TEST_CASE("service: a valid announce registers the peer with its binary ids") {
    Fixture f;
    std::string body = f.get("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=6881&left=0&compact=1");
    auto d = decode(body);
    REQUIRE(d.ok());
    CHECK(d->root().find_int("complete").int_value() == 1);
    Sha1Digest ih;
    for (int i = 0; i < 20; ++i) ih[i] = static_cast<uint8_t>(i + 1);
    REQUIRE(f.reg.counts(ih));
    CHECK(f.reg.counts(ih)->complete == 1);
}

TEST_CASE("service: the ip parameter is honoured only from local networks") {
    Fixture f;
    std::string base = "/announce?info_hash=" + kHash + "&port=7000&ip=10.9.9.9&compact=0&peer_id=";
    f.get(base + "AAAAAAAAAAAAAAAAAAAA", "203.0.113.5");  // remote: ip= ignored
    f.get(base + "BBBBBBBBBBBBBBBBBBBB", "192.168.1.7");  // LAN: ip= used
    std::string body = f.get("/announce?info_hash=" + kHash + "&peer_id=CCCCCCCCCCCCCCCCCCCC&port=1&compact=0");
    CAPTURE(body);
    CHECK(body.find("11:203.0.113.5") != std::string::npos);
    CHECK(body.find("8:10.9.9.9") != std::string::npos);
    CHECK(body.find("192.168.1.7") == std::string::npos);
}

TEST_CASE("service: allowed set rejects unknown torrents and asks for a rescan") {
    Fixture f;
    auto allowed = std::make_shared<AllowedMap>();
    int rescans = 0;
    f.svc.on_unknown_torrent = [&] { ++rescans; };
    f.svc.set_allowed(allowed);
    std::string q = "/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1";
    CHECK(f.failure(q) == "torrent not allowed");
    CHECK(rescans == 1);
    Sha1Digest ih;
    for (int i = 0; i < 20; ++i) ih[i] = static_cast<uint8_t>(i + 1);
    (*allowed)[ih] = "x";
    CHECK(f.failure(q).empty());
}

TEST_CASE("service: scrape, status page, 404 and 405") {
    Fixture f;
    f.get("/announce?info_hash=" + kHash + "&peer_id=" + kId + "&port=1&left=3");
    std::string body = f.get("/scrape?info_hash=" + kHash);
    auto d = decode(body);
    REQUIRE(d.ok());
    CHECK(d->root().find_dict("files").size() == 1);
    int status = 0;
    std::string page = f.get("/", "127.0.0.1", &status);
    CHECK(status == 200);
    CHECK(page.find("torrents: 1  seeds: 0  leechers: 1") != std::string::npos);
    f.get("/nope", "127.0.0.1", &status);
    CHECK(status == 404);
    std::string out;
    f.raw = "POST /announce HTTP/1.1\r\n\r\n";
    f.parser.reset();
    REQUIRE(f.parser.parse(f.raw) == HttpParse::complete);
    CHECK_FALSE(f.svc.handle(f.parser.request(), PeerAddr::from_v4(0x7f000001), 1, out));
    CHECK(out.rfind("HTTP/1.1 405", 0) == 0);
}

TEST_CASE("allowed_dir: info-hash is SHA-1 of the raw info dictionary") {
    std::string t = "d8:announce3:url4:infod6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces20:" +
                    std::string(20, 'p') + "ee";
    auto id = torrent_identity(t);
    REQUIRE(id.ok());
    size_t at = t.find("4:info") + 6;
    CHECK(id->info_hash == sha1(std::string_view(t).substr(at, t.size() - 1 - at)));
    CHECK(id->name == "x");
    CHECK_FALSE(torrent_identity("d3:fooi1ee").ok());
}

namespace {

// The compact peers6 of an announce answer as "[addr]:port" strings.
std::set<std::string> peers6_of(const std::string& body) {
    auto d = decode(body);
    REQUIRE(d.ok());
    std::string_view p = d->root().find_string("peers6").string();
    REQUIRE(p.size() % 18 == 0);
    std::set<std::string> out;
    for (size_t i = 0; i < p.size(); i += 18) {
        PeerAddr a;
        a.len = 16;
        std::memcpy(a.bytes.data(), p.data() + i, 16);
        auto* b = reinterpret_cast<const uint8_t*>(p.data() + i + 16);
        out.insert("[" + a.to_string() + "]:" + std::to_string(b[0] << 8 | b[1]));
    }
    return out;
}

std::set<std::string> peers4_of(const std::string& body) {
    auto d = decode(body);
    REQUIRE(d.ok());
    std::string_view p = d->root().find_string("peers").string();
    REQUIRE(p.size() % 6 == 0);
    std::set<std::string> out;
    for (size_t i = 0; i < p.size(); i += 6) {
        PeerAddr a;
        a.len = 4;
        std::memcpy(a.bytes.data(), p.data() + i, 4);
        auto* b = reinterpret_cast<const uint8_t*>(p.data() + i + 4);
        out.insert(a.to_string() + ":" + std::to_string(b[0] << 8 | b[1]));
    }
    return out;
}

std::string announce_q(char who, const std::string& extra) {
    return "/announce?info_hash=" + kHash + "&peer_id=" + std::string(20, who) + "&port=6881&compact=1" + extra;
}

}  // namespace

TEST_CASE("service: ipv6= over IPv4 puts the peer in peers6 too (BEP 7), in every form clients send") {
    Fixture f;
    // Transmission sends the bare address; the BEP's endpoint form names a port.
    f.get(announce_q('a', "&ipv6=2001%3adb8%3a%3a1"), "203.0.113.5");
    f.get(announce_q('b', "&ipv6=%5b2001%3adb8%3a%3a2%5d%3a7002"), "203.0.113.6");
    f.get(announce_q('c', "&ipv6=[2001:db8::3]"), "203.0.113.7");
    // Over IPv6, ipv4= as an address or address:port.
    f.get(announce_q('d', "&ipv4=198.51.100.4%3a7004"), "2001:db8::4");
    f.get(announce_q('e', "&ipv4=198.51.100.5"), "2001:db8::5");
    const std::string body = f.get(announce_q('z', "&numwant=50"), "203.0.113.99");
    CAPTURE(body);
    CHECK(peers6_of(body) == std::set<std::string>{"[2001:db8::1]:6881", "[2001:db8::2]:7002", "[2001:db8::3]:6881",
                                                   "[2001:db8::4]:6881", "[2001:db8::5]:6881"});
    CHECK(peers4_of(body) == std::set<std::string>{"203.0.113.5:6881", "203.0.113.6:6881", "203.0.113.7:6881",
                                                   "198.51.100.4:7004", "198.51.100.5:6881"});
    // Each peer is one entry however many addresses it has.
    Sha1Digest ih;
    for (int i = 0; i < 20; ++i) ih[i] = static_cast<uint8_t>(i + 1);
    CHECK(f.reg.counts(ih)->incomplete == 6);
    CHECK(f.reg.total_peers() == 6);
    // A re-announce without it drops the second address.
    f.get(announce_q('a', ""), "203.0.113.5");
    CHECK(peers6_of(f.get(announce_q('z', ""), "203.0.113.99")).count("[2001:db8::1]:6881") == 0);
}

TEST_CASE("service: a bad, wrong-family, non-unicast or foreign-local ipv6=/ipv4= is ignored, not fatal") {
    Fixture f;
    const char* ignored[] = {
        "&ipv6=example.com", "&ipv6=[2001:db8::9", "&ipv6=[2001:db8::9]:0", "&ipv6=[2001:db8::9]:70000",
        "&ipv6=[2001:db8::9]x", "&ipv6=1.2.3.4",        // the family the name says
        "&ipv6=%3a%3a", "&ipv6=ff02%3a%3a1",            // unspecified, multicast
        "&ipv6=fd00%3a%3a9", "&ipv6=%3a%3a1",           // local addresses from a remote peer
        "&ipv6=%3a%3affff%3a1.2.3.4",                   // IPv4-mapped is IPv4
        "&ipv4=[1.2.3.4]:5", "&ipv4=1.2.3.4%3a",
    };
    char who = 'a';
    for (const char* q : ignored) {
        CAPTURE(q);
        CHECK(f.failure(announce_q(who++, q)).empty());
    }
    // ipv4= over IPv4 (the same family) is not a second address either.
    CHECK(f.failure(announce_q(who++, "&ipv4=198.51.100.9")).empty());
    const std::string body = f.get(announce_q('z', "&numwant=100"), "203.0.113.99");
    CHECK(peers6_of(body).empty());
    CHECK(peers4_of(body).size() == 1);  // all came from 203.0.113.5:6881 (one distinct entry)
    // From a local network, a local address is fine (a LAN tracker).
    f.get(announce_q('y', "&ipv6=fd00%3a%3a9"), "192.168.1.7");
    CHECK(peers6_of(f.get(announce_q('z', ""), "203.0.113.99")) == std::set<std::string>{"[fd00::9]:6881"});
}

TEST_CASE("service: other_family_ip off ignores ipv6=") {
    TrackerRegistry reg;
    ServiceConfig cfg;
    cfg.other_family_ip = false;
    ClientAnnounce a;
    PeerAddr remote;
    REQUIRE(PeerAddr::parse("203.0.113.5", remote));
    std::string q = "info_hash=" + kHash + "&peer_id=" + kId + "&port=1&ipv6=2001:db8::1";
    REQUIRE(parse_announce_query(q, remote, false, a, false) == nullptr);
    CHECK(a.other_addr.len == 0);
    REQUIRE(parse_announce_query(q, remote, false, a, true) == nullptr);
    CHECK(a.other_addr.len == 16);
    CHECK(a.other_port == 1);
}

TEST_CASE("service: of several ipv6= (libtorrent sends one per address) the first usable one is kept") {
    ClientAnnounce a;
    PeerAddr remote;
    REQUIRE(PeerAddr::parse("203.0.113.5", remote));
    const std::string q = "info_hash=" + kHash + "&peer_id=" + kId +
                          "&ipv6=fe80::1&ipv6=2001:db8::7&ipv6=2001:db8::8&port=9&ipv4=198.51.100.1";
    REQUIRE(parse_announce_query(q, remote, false, a) == nullptr);
    CHECK(a.other_addr.to_string() == "2001:db8::7");
    CHECK(a.other_port == 9);
    // Over IPv6 the ipv4= one is taken instead.
    REQUIRE(PeerAddr::parse("2001:db8::99", remote));
    REQUIRE(parse_announce_query(q, remote, false, a) == nullptr);
    CHECK(a.other_addr.to_string() == "198.51.100.1");
}
