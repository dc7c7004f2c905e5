#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "btl/core/smart_ban.hpp"

using namespace btl;

namespace {
Sha1Digest d(const std::string& s) { return sha1(s); }
}  // namespace

TEST_CASE("smart ban: the liar among several contributors is found when the piece passes") {
    SmartBan sb;
    sb.block_received(7, 0, 4, "10.0.0.1");
    sb.block_received(7, 1, 4, "10.0.0.2");  // the liar
    sb.block_received(7, 2, 4, "10.0.0.1");
    sb.block_received(7, 3, 4, "10.0.0.3");
    auto senders = sb.take_senders(7);
    REQUIRE(senders.size() == 4);
    CHECK(sb.take_senders(7).empty());  // taken once
    CHECK(SmartBan::distinct(senders) == std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"});
    sb.record_failure(7, senders, {d("a"), d("BAD"), d("c"), d("d")});
    CHECK(sb.has_failure(7));
    // Re-downloaded, this time the liar was not involved: it passes.
    auto bad = sb.piece_passed(7, {d("a"), d("b"), d("c"), d("d")});
    CHECK(bad == std::vector<std::string>{"10.0.0.2"});
    CHECK_FALSE(sb.has_failure(7));
    CHECK(sb.piece_passed(7, {d("a")}).empty());
}

TEST_CASE("smart ban: records of several failures of one piece all count, each liar once") {
    SmartBan sb;
    sb.record_failure(1, {"x", "y"}, {d("bad1"), d("ok")});
    sb.record_failure(1, {"y", "x"}, {d("ok0"), d("bad2")});
    sb.record_failure(1, {"z", "x"}, {d("bad3"), d("bad2")});
    auto bad = sb.piece_passed(1, {d("ok0"), d("ok")});
    CHECK(bad == std::vector<std::string>{"x", "z"});
}

TEST_CASE("smart ban: unknown senders and short digest lists are ignored") {
    SmartBan sb;
    sb.record_failure(2, {"", "p", "q"}, {d("bad"), d("bad")});
    auto bad = sb.piece_passed(2, {d("good"), d("good"), d("good")});
    CHECK(bad == std::vector<std::string>{"p"});
    CHECK(SmartBan::distinct({"", "", ""}).empty());
}

TEST_CASE("smart ban: failure records are bounded, the oldest piece is forgotten") {
    SmartBan sb(2);
    sb.record_failure(1, {"a"}, {d("x")});
    sb.record_failure(2, {"b"}, {d("x")});
    sb.record_failure(3, {"c"}, {d("x")});
    CHECK(sb.failed_pieces() == 2);
    CHECK_FALSE(sb.has_failure(1));
    CHECK(sb.has_failure(2));
    CHECK(sb.has_failure(3));
    CHECK(sb.piece_passed(3, {d("y")}) == std::vector<std::string>{"c"});
    CHECK(sb.failed_pieces() == 1);
}

TEST_CASE("smart ban: trust points ban a peer only ever in failures, not an honest one") {
    SmartBan sb;
    CHECK_FALSE(sb.contributed_to_failure("liar"));
    CHECK_FALSE(sb.contributed_to_failure("liar"));
    CHECK_FALSE(sb.contributed_to_failure("liar"));
    CHECK(sb.contributed_to_failure("liar"));  // -8 <= -7
    for (int i = 0; i < 20; ++i) sb.contributed_to_pass("honest");
    CHECK(sb.trust("honest") == SmartBan::kMaxTrust);
    for (int i = 0; i < 7; ++i) CHECK_FALSE(sb.contributed_to_failure("honest"));
    CHECK(sb.contributed_to_failure("honest"));
    CHECK(sb.trust("nobody") == 0);
}

TEST_CASE("smart ban: block digests cover a short last block") {
    std::string data(40, 'z');
    auto v = block_digests(reinterpret_cast<const uint8_t*>(data.data()), data.size(), 16);
    REQUIRE(v.size() == 3);
    CHECK(v[0] == sha1(std::string(16, 'z')));
    CHECK(v[2] == sha1(std::string(8, 'z')));
    CHECK(block_digests(nullptr, 0, 16).empty());
}

TEST_CASE("smart ban: an unused one is small and answers every query; state appears with the first block") {
    // Every torrent holds one; most never receive a block.
    static_assert(sizeof(SmartBan) <= 3 * sizeof(void*));
    SmartBan sb;
    CHECK(sb.trust("a") == 0);
    CHECK(sb.failed_pieces() == 0);
    CHECK_FALSE(sb.has_failure(0));
    CHECK(sb.take_senders(0).empty());
    CHECK(sb.piece_passed(0, {}).empty());
    sb.clear_in_progress();
    sb.block_received(0, 1, 2, "10.0.0.9");
    CHECK(sb.take_senders(0) == std::vector<std::string>{"", "10.0.0.9"});
    CHECK(sb.take_senders(0).empty());
}
