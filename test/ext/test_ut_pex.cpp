// BEP 11 ut_pex codec: round trips, flags, bounds and the errors.
#include <doctest/doctest.h>

#include <string>

#include "btl/ext/ut_pex.hpp"

using namespace btl;

namespace {
std::string v4(const char* ip4bytes, uint16_t port) {
    return std::string(ip4bytes, 4) + char(port >> 8) + char(port & 0xff);
}
std::string str(const std::string& s) { return std::to_string(s.size()) + ":" + s; }
}  // namespace

TEST_CASE("ut_pex: IPv4 and IPv6 peers with flags round-trip") {
    PexMessage m;
    m.added.push_back({{"127.0.0.2", 6881}, kPexSeed | kPexReachable});
    m.added.push_back({{"2001:db8::1", 51413}, kPexReachable});
    m.added.push_back({{"10.1.2.3", 7000}, 0});
    m.dropped.push_back({"10.9.9.9", 1});
    m.dropped.push_back({"::1", 2});
    auto p = parse_pex(encode_pex(m));
    REQUIRE(p.ok());
    REQUIRE(p->added.size() == 3);
    CHECK(p->added[0] == m.added[0]);
    CHECK(p->added[1] == m.added[2]);  // IPv4 first
    CHECK(p->added[2] == m.added[1]);
    REQUIRE(p->dropped.size() == 2);
    CHECK(p->dropped[0] == m.dropped[0]);
    CHECK(p->dropped[1] == m.dropped[1]);
}

TEST_CASE("ut_pex: an empty message has added and dropped") {
    CHECK(encode_pex({}) == "d5:added0:7:dropped0:e");
    auto p = parse_pex("de");
    REQUIRE(p.ok());
    CHECK(p->added.empty());
}

TEST_CASE("ut_pex: flags shorter than the list default to 0, port 0 entries are skipped") {
    std::string added = v4("\x7f\0\0\x02", 6881) + v4("\x7f\0\0\x03", 0) + v4("\x7f\0\0\x04", 9);
    auto p = parse_pex("d5:added" + str(added) + "7:added.f" + str("\x12") + "e");
    REQUIRE(p.ok());
    REQUIRE(p->added.size() == 2);
    CHECK(p->added[0].flags == 0x12);
    CHECK(p->added[1].ep == PeerEndpoint{"127.0.0.4", 9});
    CHECK(p->added[1].flags == 0);
}

TEST_CASE("ut_pex: malformed messages are errors naming the field") {
    auto e = [](const std::string& s) {
        auto p = parse_pex(s);
        REQUIRE_FALSE(p.ok());
        return p.error().message;
    };
    CHECK(e("le") == "ut_pex: not a dictionary");
    CHECK(e("d5:addedi5ee") == "ut_pex: added is not a string");
    CHECK(e("d5:added5:12345e") == "ut_pex: added length 5 is not a multiple of 6");
    CHECK(e("d8:dropped6" + str("1234567") + "e") == "ut_pex: dropped6 length 7 is not a multiple of 18");
    CHECK(e("d5:added" + str(v4("\1\2\3\4", 1)) + "7:added.f2:abe") == "ut_pex: added.f has 2 flags for 1 peers");
    std::string many;
    for (int i = 0; i < 201; ++i) many += v4("\1\2\3\4", 1);
    CHECK(e("d5:added" + str(many) + "e") == "ut_pex: added has 201 peers (limit 200)");
    CHECK(e(std::string(kMaxPexPayload + 1, 'd')).find("too long") != std::string::npos);
    CHECK(e("d5:added").rfind("ut_pex: ", 0) == 0);
}
