#include <doctest/doctest.h>

#include "btl/core/magnet.hpp"

using namespace btl;

namespace {
const char* kHex = "0123456789abcdef0123456789abcdef01234567";
}

TEST_CASE("magnet: hex info-hash, name, trackers and peer hints") {
    auto m = parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex +
                          "&dn=Some+File%20x&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr=udp://t:1"
                          "&tr=udp://t:1&x.pe=127.0.0.2:6881&x.pe=[::1]:7000&so=0,2,4-6");
    REQUIRE(m.ok());
    CHECK(to_hex(m->info_hash) == kHex);
    CHECK(m->name == "Some File x");
    REQUIRE(m->trackers.size() == 2);  // the duplicate dropped
    CHECK(m->trackers[0] == "http://127.0.0.1:6969/announce");
    REQUIRE(m->peers.size() == 2);
    CHECK(m->peers[0].to_string() == "127.0.0.2:6881");
    CHECK(m->peers[1].ip == "::1");
    CHECK(m->peers[1].port == 7000);
    REQUIRE(m->select_only.size() == 3);
    CHECK(m->select_only[2] == std::pair<uint32_t, uint32_t>(4, 6));
    CHECK(m->display_name() == "Some File x");
}

TEST_CASE("magnet: base32 info-hash equals its hex form, either case") {
    // 20 bytes of 0x00..0x13 in RFC 4648 base32.
    Sha1Digest d{};
    for (int i = 0; i < 20; ++i) d[size_t(i)] = uint8_t(i);
    auto m = parse_magnet("magnet:?xt=urn:btih:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT");
    REQUIRE(m.ok());
    CHECK(m->info_hash == d);
    auto lower = parse_magnet("magnet:?xt=urn:btih:aaaqeayeaudaocajbifqydiob4ibceqt");
    REQUIRE(lower.ok());
    CHECK(lower->info_hash == d);
    CHECK(m->display_name() == to_hex(d));
}

TEST_CASE("magnet: errors are one line naming what is wrong") {
    auto no_hash = parse_magnet("magnet:?dn=x&tr=http://a/");
    REQUIRE_FALSE(no_hash.ok());
    CHECK(no_hash.error().message == "magnet link has no btih info-hash");
    CHECK_FALSE(parse_magnet("magnet:?xt=urn:btmh:1220abcd").ok());  // v2 only: no btih
    auto short_hash = parse_magnet("magnet:?xt=urn:btih:0123");
    REQUIRE_FALSE(short_hash.ok());
    CHECK(short_hash.error().message.find("neither 40 hex digits nor 32 base32") != std::string::npos);
    CHECK_FALSE(parse_magnet("http://example.com/").ok());
    CHECK_FALSE(parse_magnet("magnet:xt=urn:btih:0123456789abcdef0123456789abcdef01234567").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&dn=%4").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&dn=%zz").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&xt=urn:btih:" +
                             "1123456789abcdef0123456789abcdef01234567").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&x.pe=1.2.3.4:0").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&x.pe=1.2.3.4").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&x.pe=[::1:80").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&so=3-1").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&so=99999999").ok());
}

TEST_CASE("magnet: bounds on length, trackers and peers") {
    std::string base = std::string("magnet:?xt=urn:btih:") + kHex;
    CHECK_FALSE(parse_magnet(base + "&dn=" + std::string(kMaxMagnetLength, 'a')).ok());
    std::string many = base;
    for (size_t i = 0; i <= kMaxMagnetTrackers; ++i) many += "&tr=http://t" + std::to_string(i) + "/";
    auto r = parse_magnet(many);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("trackers") != std::string::npos);
    std::string peers = base;
    for (size_t i = 0; i <= kMaxMagnetPeers; ++i) peers += "&x.pe=10.0." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1) + ":1";
    CHECK_FALSE(parse_magnet(peers).ok());
}

TEST_CASE("magnet: host-name peer hints are kept apart for resolving, numbered keys count") {
    auto m = parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&x.pe=seed.example:6881&tr.1=http://a/&tr.2=http://b/");
    REQUIRE(m.ok());
    CHECK(m->peers.empty());
    REQUIRE(m->peer_hosts.size() == 1);
    CHECK(m->peer_hosts[0] == std::pair<std::string, uint16_t>("seed.example", 6881));
    CHECK(m->trackers.size() == 2);
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&x.pe=bad_host!:1").ok());
    CHECK_FALSE(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&x.pe=:1").ok());
    auto again = parse_magnet(make_magnet_uri(*m));
    REQUIRE(again.ok());
    CHECK(again->peer_hosts == m->peer_hosts);
}

TEST_CASE("magnet: make_magnet_uri round-trips") {
    auto m = parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&dn=a%26b c&tr=http://t/a?x=1%26y=2&x.pe=[::1]:5&so=1,3-4");
    REQUIRE(m.ok());
    auto again = parse_magnet(make_magnet_uri(*m));
    REQUIRE(again.ok());
    CHECK(again->info_hash == m->info_hash);
    CHECK(again->name == m->name);
    CHECK(again->trackers == m->trackers);
    CHECK(again->peers == m->peers);
    CHECK(again->select_only == m->select_only);
}

TEST_CASE("magnet: a .magnet file's first non-blank line") {
    auto m = parse_magnet_file_text(std::string("\n  \r\n  magnet:?xt=urn:btih:") + kHex + "  \r\nignored\n");
    REQUIRE(m.ok());
    CHECK(to_hex(m->info_hash) == kHex);
    CHECK_FALSE(parse_magnet_file_text("\n\n").ok());
}
