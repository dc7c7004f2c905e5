#include <doctest/doctest.h>

#include "btl/core/lsd_codec.hpp"
#include "btl/core/peer_book.hpp"

using namespace btl;

namespace {
Sha1Digest digest(uint8_t seed) {
    Sha1Digest d{};
    for (size_t i = 0; i < d.size(); ++i) d[i] = uint8_t(seed + i);
    return d;
}
const std::string kOne =
    "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
    "Infohash: 0102030405060708090a0b0c0d0e0f1011121314\r\ncookie: abc\r\n\r\n\r\n";
}  // namespace

TEST_CASE("lsd: an announce we format parses back to the same port, hashes and cookie") {
    std::vector<Sha1Digest> hs = {digest(1), digest(50), digest(100)};
    auto pkts = format_lsd_announces(hs, 51413, "c00k1e", false);
    REQUIRE(pkts.size() == 1);
    CHECK(pkts[0].find("Host: 239.192.152.143:6771\r\n") != std::string::npos);
    auto a = parse_lsd_announce(pkts[0]);
    REQUIRE(a.ok());
    CHECK(a->port == 51413);
    CHECK(a->info_hashes == hs);
    CHECK(a->cookie == "c00k1e");
    auto v6 = format_lsd_announces(hs, 51413, "", true);
    REQUIRE(v6.size() == 1);
    CHECK(v6[0].find("Host: [ff15::efc0:988f]:6771\r\n") != std::string::npos);
    CHECK(parse_lsd_announce(v6[0]).ok());
}

TEST_CASE("lsd: many torrents go out several per datagram, each datagram within the size cap") {
    std::vector<Sha1Digest> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(digest(uint8_t(i)));
    auto pkts = format_lsd_announces(hs, 6881, "0123456789abcdef", false);
    CHECK(pkts.size() > 1);
    CHECK(pkts.size() < 10);
    std::vector<Sha1Digest> back;
    for (const auto& p : pkts) {
        CHECK(p.size() <= kMaxLsdDatagram);
        auto a = parse_lsd_announce(p);
        REQUIRE(a.ok());
        CHECK(a->info_hashes.size() > 1);
        back.insert(back.end(), a->info_hashes.begin(), a->info_hashes.end());
    }
    CHECK(back == hs);
    CHECK(format_lsd_announces({}, 6881, "x", false).empty());
}

TEST_CASE("lsd: header names are case-insensitive and unknown headers are skipped") {
    auto a = parse_lsd_announce(
        "BT-SEARCH * HTTP/1.1\r\nHOST: 239.192.152.143:6771\r\nport:  7000 \r\nX-Other: y\r\n"
        "INFOHASH: 0102030405060708090A0B0C0D0E0F1011121314\r\n\r\n\r\n");
    REQUIRE(a.ok());
    CHECK(a->port == 7000);
    CHECK(a->info_hashes.size() == 1);
    CHECK(a->cookie.empty());
    CHECK(parse_lsd_announce(kOne).ok());
}

TEST_CASE("lsd: malformed announces are refused with a reason") {
    auto bad = [](const std::string& d, const std::string& word) {
        auto a = parse_lsd_announce(d);
        CAPTURE(d);
        REQUIRE_FALSE(a.ok());
        CHECK(a.error().message.find(word) != std::string::npos);
    };
    bad("M-SEARCH * HTTP/1.1\r\n\r\n", "BT-SEARCH");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\n", "Infohash");
    bad("BT-SEARCH * HTTP/1.1\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", "Port");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", "Port");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", "Port");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: +80\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", "Port");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 80\r\nPort: 81\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n",
        "two Port");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 80\r\nInfohash: 0102\r\n\r\n", "40 hex");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 80\r\nInfohash: zz02030405060708090a0b0c0d0e0f1011121314\r\n\r\n", "40 hex");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 80\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n", "terminated");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 80\r\nbroken line\r\n\r\n", "name");
    bad("BT-SEARCH * HTTP/1.1\r\nPort: 80\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314", "CRLF");
    bad(kOne + std::string(kMaxLsdDatagram, ' '), "too long");
    std::string many = "BT-SEARCH * HTTP/1.1\r\nPort: 80\r\n";
    for (size_t i = 0; i <= kMaxLsdInfohashes; ++i) many += "Infohash: " + to_hex(digest(uint8_t(i))) + "\r\n";
    bad(many + "\r\n", "too many");
    std::string cookie = "BT-SEARCH * HTTP/1.1\r\nPort: 80\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n"
                         "cookie: " + std::string(kMaxLsdCookie + 1, 'x') + "\r\n\r\n";
    bad(cookie, "cookie");
}

TEST_CASE("peer book: an address remembers the source that first named it") {
    PeerBook b;
    CHECK(b.offered(PeerEndpoint{"10.77.0.3", 7000}, 1000, PeerSource::lsd));
    CHECK(b.offered(PeerEndpoint{"10.77.0.4", 7000}, 1000));
    CHECK(b.source("10.77.0.3:7000") == PeerSource::lsd);
    CHECK(b.source("10.77.0.4:7000") == PeerSource::tracker);
    b.offered(PeerEndpoint{"10.77.0.3", 7000}, 2000, PeerSource::tracker);
    CHECK(b.source("10.77.0.3:7000") == PeerSource::lsd);
    CHECK(b.source("10.77.0.9:7000") == PeerSource::tracker);  // unknown
}
