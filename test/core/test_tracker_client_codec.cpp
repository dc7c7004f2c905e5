#include <doctest/doctest.h>

#include <cstring>

#include "btl/core/bencode.hpp"
#include "btl/core/tracker_client_codec.hpp"

using namespace btl;

namespace {

std::string url_err(std::string_view u) {
    auto r = parse_url(u);
    return r.ok() ? "ok" : r.error().message;
}

std::string ann_err(std::string_view body) {
    auto r = parse_announce_response(body);
    return r.ok() ? "ok" : r.error().message;
}

Sha1Digest digest(uint8_t fill) {
    Sha1Digest d;
    d.fill(fill);
    return d;
}

std::string compact(std::initializer_list<std::pair<const char*, uint16_t>> peers) {
    std::string s;
    for (auto [ip, port] : peers) {
        unsigned a, b, c, d;
        std::sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d);
        s += {char(a), char(b), char(c), char(d), char(port >> 8), char(port)};
    }
    return s;
}

std::string bstr(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s); }

}  // namespace

TEST_CASE("tracker: parse_url") {
    auto u = parse_url("http://tracker.example.org/announce");
    REQUIRE(u.ok());
    CHECK(u->scheme == "http");
    CHECK(u->host == "tracker.example.org");
    CHECK(u->port == 80);
    CHECK(u->path == "/announce");
    u = parse_url("HTTPS://t.example:8443/a/announce.php?passkey=abc#frag");
    REQUIRE(u.ok());
    CHECK(u->scheme == "https");
    CHECK(u->port == 8443);
    CHECK(u->path == "/a/announce.php?passkey=abc");
    CHECK(parse_url("https://x.org")->port == 443);
    CHECK(parse_url("https://x.org")->path == "/");
    CHECK(parse_url("http://x.org?a=b")->path == "/?a=b");
    u = parse_url("udp://[::1]:6969/announce");
    REQUIRE(u.ok());
    CHECK(u->host == "::1");
    CHECK(u->port == 6969);
    CHECK(parse_url("http://[2001:db8::1]/x")->port == 80);
    CHECK(parse_url("udp://1.2.3.4:1337")->path == "/");

    CHECK(url_err("udp://tracker.org/announce") == "udp tracker URL needs a port");
    CHECK(url_err("ftp://x.org/") == "unsupported URL scheme \"ftp\"");
    CHECK(url_err("tracker.org/announce").rfind("URL has no scheme", 0) == 0);
    CHECK(url_err("http:///announce") == "URL has no host");
    CHECK(url_err("http://x.org:/a") == "URL has an invalid port");
    CHECK(url_err("http://x.org:99999/a") == "URL port 99999 is out of range");
    CHECK(url_err("http://x.org:0/a") == "URL port 0 is out of range");
    CHECK(url_err("http://x.org:12ab/a") == "URL has an invalid port");
    CHECK(url_err("http://[::1/a") == "URL has an unterminated IPv6 address");
    CHECK(url_err("http://[zz::1]/a") == "URL has an invalid IPv6 address");
    CHECK(url_err("http://[::1]x/a") == "URL has junk after the IPv6 address");
    CHECK(url_err("http://user:pw@x.org/a") == "URL with user info is not supported");
    CHECK(url_err("http://x.org/a b") == "URL contains a space or control character");
    CHECK(url_err("http://x.org/a\r\nHost: evil") == "URL contains a space or control character");
}

TEST_CASE("tracker: url_encode and endpoints") {
    CHECK(url_encode("aZ09-._~") == "aZ09-._~");
    CHECK(url_encode(std::string("\x00\xff /?&", 6)) == "%00%FF%20%2F%3F%26");
    CHECK((PeerEndpoint{"1.2.3.4", 6881}.to_string() == "1.2.3.4:6881"));
    CHECK((PeerEndpoint{"::1", 6881}.to_string() == "[::1]:6881"));
}

TEST_CASE("tracker: build_announce_url") {
    AnnounceRequest r;
    r.info_hash = digest(0xAB);
    r.peer_id = digest('x');
    r.port = 6881;
    r.uploaded = 10;
    r.downloaded = 20;
    r.left = -5;  // clamped
    r.event = AnnounceEvent::started;
    r.key = 0xBEEF;
    std::string u = build_announce_url("http://t.org/announce", r);
    std::string ih;
    for (int i = 0; i < 20; ++i) ih += "%AB";
    CHECK(u == "http://t.org/announce?info_hash=" + ih + "&peer_id=" + std::string(20, 'x') +
                   "&port=6881&uploaded=10&downloaded=20&left=0&compact=1&no_peer_id=1&event=started&numwant=50"
                   "&key=0000beef");
    r.event = AnnounceEvent::none;
    r.tracker_id = "id 1";
    r.numwant = -1;
    u = build_announce_url("http://t.org/announce.php?passkey=s3cret", r);
    CHECK(u.rfind("http://t.org/announce.php?passkey=s3cret&info_hash=", 0) == 0);
    CHECK(u.find("event=") == std::string::npos);
    CHECK(u.find("numwant") == std::string::npos);
    CHECK(u.find("&trackerid=id%201") != std::string::npos);
    CHECK(build_announce_url("http://t.org/a?", r).rfind("http://t.org/a?info_hash=", 0) == 0);
}

TEST_CASE("tracker: announce response, compact peers") {
    std::string peers = compact({{"1.2.3.4", 6881}, {"10.0.0.1", 0}, {"255.255.255.255", 65535}});
    std::string body = "d8:completei5e10:incompletei3e8:intervali900e12:min intervali60e5:peers" + bstr(peers) +
                       "10:tracker id3:abc15:warning message4:hmm!e";
    auto r = parse_announce_response(body);
    REQUIRE(r.ok());
    CHECK(r->interval == 900);
    CHECK(r->raw_interval == 900);
    CHECK(r->min_interval == 60);
    CHECK(r->complete == 5);
    CHECK(r->incomplete == 3);
    CHECK(r->tracker_id == "abc");
    CHECK(r->warning_message == "hmm!");
    REQUIRE(r->peers.size() == 2);  // port 0 dropped
    CHECK((r->peers[0] == PeerEndpoint{"1.2.3.4", 6881}));
    CHECK(r->peers[1].to_string() == "255.255.255.255:65535");
}

TEST_CASE("tracker: announce response, dictionary peers and peers6") {
    std::string v6(16, '\0');
    v6[15] = 1;
    v6 += "\x1a\xe1";
    std::string body =
        "d8:intervali1800e5:peersl"
        "d2:ip7:5.6.7.87:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti80ee"
        "d2:ip11:example.com4:porti80ee"  // host names are not dialled
        "d2:ip3:::14:porti7000ee"
        "d2:ip7:5.6.7.84:porti0ee"
        "d2:ip7:5.6.7.84:porti70000ee"
        "i42e"
        "e6:peers6" +
        bstr(v6) + "e";
    auto r = parse_announce_response(body);
    REQUIRE(r.ok());
    REQUIRE(r->peers.size() == 3);
    CHECK(r->peers[0].to_string() == "5.6.7.8:80");
    CHECK(r->peers[1].to_string() == "[::1]:7000");
    CHECK(r->peers[2].to_string() == "[::1]:6881");
}

TEST_CASE("tracker: announce response errors and hostile values") {
    CHECK(ann_err("<html>502 Bad Gateway</html>").rfind("tracker response is not bencoded: ", 0) == 0);
    CHECK(ann_err("le") == "tracker response is not a dictionary");
    CHECK(ann_err("d5:peers5:abcdee") == "compact peers length 5 is not a multiple of 6");
    CHECK(ann_err("d6:peers65:abcdee") == "compact peers6 length 5 is not a multiple of 18");
    CHECK(ann_err("d5:peersi3ee") == "tracker response \"peers\" is neither a string nor a list");
    auto r = parse_announce_response("d14:failure reason12:unregisterede");
    REQUIRE(r.ok());
    CHECK(r->failure_reason == "unregistered");
    r = parse_announce_response("d14:failure reason3:a\x1b" "be");
    CHECK(r->failure_reason == "a?b");
    r = parse_announce_response("d8:intervali-5e8:completei-1e10:incompletei99999999999e5:peers0:e");
    REQUIRE(r.ok());
    CHECK(r->interval == kMinInterval);
    CHECK(r->raw_interval == -5);
    CHECK(r->complete == -1);
    CHECK(r->incomplete == 99999999999);
    r = parse_announce_response("d8:intervali9223372036854775807e12:min intervali9223372036854775807ee");
    REQUIRE(r.ok());
    CHECK(r->interval == kMaxInterval);
    CHECK(r->min_interval == kMaxInterval);
    CHECK(r->peers.empty());
    // 100k peers are capped at max_peers.
    std::string many;
    for (int i = 0; i < 100000; ++i) many += compact({{"9.9.9.9", uint16_t(1 + i % 60000)}});
    r = parse_announce_response("d5:peers" + bstr(many) + "e", 200);
    REQUIRE(r.ok());
    CHECK(r->peers.size() == 200);
    r = parse_announce_response("d5:peers" + bstr(many) + "e");
    CHECK(r->peers.size() == 1000);
}

TEST_CASE("tracker: scrape URLs") {
    CHECK(scrape_url_for("http://t.org/announce").value() == "http://t.org/scrape");
    CHECK(scrape_url_for("http://t.org/x/announce.php?k=1").value() == "http://t.org/x/scrape.php?k=1");
    CHECK_FALSE(scrape_url_for("http://t.org/a").has_value());
    CHECK_FALSE(scrape_url_for("http://t.org/announce/x").has_value());
    CHECK_FALSE(scrape_url_for("http://announce").has_value());
    CHECK_FALSE(scrape_url_for("http://t.org/x?announce").has_value());
    std::string u = build_scrape_url("http://t.org/scrape", {digest(1), digest(0x41)});
    std::string h1, h2(20, 'A');
    for (int i = 0; i < 20; ++i) h1 += "%01";
    CHECK(u == "http://t.org/scrape?info_hash=" + h1 + "&info_hash=" + h2);
    CHECK(build_scrape_url("http://t.org/scrape?k=1", {digest(0x41)}) == "http://t.org/scrape?k=1&info_hash=" + h2);
}

TEST_CASE("tracker: scrape response") {
    std::string key(20, 'A');
    std::string body = "d5:filesd" + bstr(key) +
                       "d8:completei5e10:downloadedi50e10:incompletei3ee"
                       "3:bad" "d8:completei1ee"
                       "ee";
    auto r = parse_scrape_response(body);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].first == digest('A'));
    CHECK(((*r)[0].second == ScrapeEntry{5, 3, 50}));
    CHECK(parse_scrape_response("d14:failure reason4:nopee").error().message == "tracker failure: nope");
    CHECK(parse_scrape_response("de").error().message == "scrape response has no \"files\" dictionary");
    CHECK(parse_scrape_response("x").error().message.rfind("scrape response is not bencoded", 0) == 0);
    r = parse_scrape_response("d5:filesd" + bstr(key) + "d8:completei-7eeee");
    REQUIRE(r.ok());
    CHECK((*r)[0].second.complete == 0);
}

TEST_CASE("tracker: UDP requests") {
    std::string c = udp_connect_request(0x01020304);
    CHECK(c == std::string("\x00\x00\x04\x17\x27\x10\x19\x80\x00\x00\x00\x00\x01\x02\x03\x04", 16));
    AnnounceRequest r;
    r.info_hash = digest(7);
    r.peer_id = digest(8);
    r.downloaded = 1;
    r.left = 2;
    r.uploaded = 3;
    r.event = AnnounceEvent::stopped;
    r.key = 0xCAFEBABE;
    r.numwant = -1;
    r.port = 6881;
    std::string a = udp_announce_request(0x1122334455667788ull, 9, r);
    REQUIRE(a.size() == 98);
    CHECK(a.substr(0, 8) == "\x11\x22\x33\x44\x55\x66\x77\x88");
    CHECK(a.substr(8, 8) == std::string("\0\0\0\x01\0\0\0\x09", 8));
    CHECK(a.substr(16, 20) == std::string(20, '\x07'));
    CHECK(a.substr(36, 20) == std::string(20, '\x08'));
    CHECK(a.substr(56, 8) == std::string("\0\0\0\0\0\0\0\x01", 8));
    CHECK(a.substr(64, 8) == std::string("\0\0\0\0\0\0\0\x02", 8));
    CHECK(a.substr(72, 8) == std::string("\0\0\0\0\0\0\0\x03", 8));
    CHECK(a.substr(80, 4) == std::string("\0\0\0\x03", 4));  // stopped
    CHECK(a.substr(84, 4) == std::string(4, '\0'));
    CHECK(a.substr(88, 4) == "\xCA\xFE\xBA\xBE");
    CHECK(a.substr(92, 4) == "\xFF\xFF\xFF\xFF");
    CHECK(a.substr(96, 2) == "\x1a\xe1");
    std::vector<Sha1Digest> many(100, digest(1));
    CHECK(udp_scrape_request(1, 2, many).size() == 16 + 20 * kUdpMaxScrapeHashes);
    CHECK(udp_scrape_request(1, 2, {digest(3)}).size() == 36);
}

TEST_CASE("tracker: UDP responses") {
    auto hdr = [](uint32_t action, uint32_t tid) {
        return std::string{0, 0, 0, char(action), char(tid >> 24), char(tid >> 16), char(tid >> 8), char(tid)};
    };
    auto r = parse_udp_response(hdr(0, 77) + "\x01\x02\x03\x04\x05\x06\x07\x08");
    REQUIRE(r.ok());
    CHECK(r->action == kUdpConnect);
    CHECK(r->transaction_id == 77);
    CHECK(r->connection_id == 0x0102030405060708ull);

    std::string ann = hdr(1, 5) + std::string("\0\0\x07\x08\0\0\0\x02\0\0\0\x03", 12) +
                      compact({{"1.2.3.4", 80}, {"5.6.7.8", 0}});
    r = parse_udp_response(ann);
    REQUIRE(r.ok());
    CHECK(r->announce.interval == 1800);
    CHECK(r->announce.incomplete == 2);
    CHECK(r->announce.complete == 3);
    REQUIRE(r->announce.peers.size() == 1);
    CHECK(r->announce.peers[0].to_string() == "1.2.3.4:80");
    CHECK(parse_udp_response(ann + "x").error().message == "UDP announce peer list of 13 bytes is not a multiple of 6");
    CHECK(parse_udp_response(ann, true).error().message == "UDP announce peer list of 12 bytes is not a multiple of 18");
    std::string v6ann = hdr(1, 5) + std::string("\xff\xff\xff\xff\0\0\0\0\0\0\0\0", 12) + std::string(15, '\0') + std::string("\x01\x00\x50", 3);
    r = parse_udp_response(v6ann, true);
    REQUIRE(r.ok());
    CHECK(r->announce.interval == kMaxInterval);
    CHECK(r->announce.peers[0].to_string() == "[::1]:80");

    r = parse_udp_response(hdr(2, 1) + std::string("\0\0\0\x05\0\0\0\x32\0\0\0\x03", 12));
    REQUIRE(r.ok());
    REQUIRE(r->scrape.size() == 1);
    CHECK((r->scrape[0] == ScrapeEntry{5, 3, 50}));
    CHECK_FALSE(parse_udp_response(hdr(2, 1) + "abc").ok());

    r = parse_udp_response(hdr(3, 1) + "bad torrent\n");
    REQUIRE(r.ok());
    CHECK(r->error == "bad torrent?");

    CHECK(parse_udp_response("abc").error().message == "UDP tracker packet of 3 bytes is too short");
    CHECK(parse_udp_response(hdr(0, 1) + "abc").error().message == "UDP connect response of 11 bytes");
    CHECK(parse_udp_response(hdr(1, 1) + "abc").error().message == "UDP announce response of 11 bytes");
    CHECK(parse_udp_response(hdr(9, 1)).error().message == "unknown UDP tracker action 9");
    // Many peers capped.
    std::string big = hdr(1, 5) + std::string(12, '\0');
    for (int i = 0; i < 2000; ++i) big += compact({{"9.9.9.9", 1}});
    CHECK(parse_udp_response(big, false, 100)->announce.peers.size() == 100);
}

TEST_CASE("announce URL: our IPv6 address goes out as ipv6= (BEP 7), escaped; absent when we have none") {
    AnnounceRequest r;
    r.port = 6881;
    CHECK(build_announce_url("http://t/announce", r).find("ipv6=") == std::string::npos);
    r.ipv6 = "2001:db8::5";
    std::string u = build_announce_url("http://t/announce", r);
    CHECK(u.find("&ipv6=2001%3Adb8%3A%3A5") != std::string::npos);
}
