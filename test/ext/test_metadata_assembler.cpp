#include <doctest/doctest.h>

#include "btl/ext/extension.hpp"
#include "btl/ext/metadata_assembler.hpp"
#include "btl/ext/ut_metadata.hpp"

using namespace btl;

namespace {
std::string dictionary(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += char('a' + i % 26);
    return s;
}
std::string_view piece_of(const std::string& d, uint32_t i) {
    return std::string_view(d).substr(size_t(i) * kMetadataPiece, metadata_piece_size(int64_t(d.size()), i));
}
}  // namespace

TEST_CASE("metadata assembler: pieces from several peers make the dictionary") {
    const std::string d = dictionary(40'000);  // 3 pieces: 16384, 16384, 7232
    MetadataAssembler a;
    REQUIRE(a.peer_size(1, int64_t(d.size())).ok());
    REQUIRE(a.peer_size(2, int64_t(d.size())).ok());
    CHECK(a.piece_count() == 3);
    auto p1 = a.next_request(1, 0), p2 = a.next_request(2, 0), p3 = a.next_request(1, 0);
    REQUIRE(p1);
    REQUIRE(p2);
    REQUIRE(p3);
    CHECK(*p1 == 0);
    CHECK(*p2 == 1);
    CHECK(*p3 == 2);
    CHECK_FALSE(a.next_request(2, 0));  // nothing left to ask
    CHECK(a.on_data(2, 1, int64_t(d.size()), piece_of(d, 1)).value() == false);
    CHECK(a.on_data(1, 2, int64_t(d.size()), piece_of(d, 2)).value() == false);
    CHECK(a.on_data(1, 0, int64_t(d.size()), piece_of(d, 0)).value() == true);
    CHECK(a.complete());
    CHECK(a.assemble() == d);
    CHECK(metadata_matches(sha1(d), a.assemble()));
}

TEST_CASE("metadata assembler: sizes out of bounds are refused before anything is allocated") {
    MetadataAssembler a;
    auto big = a.peer_size(1, int64_t(2) << 30);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message.find("over the limit") != std::string::npos);
    CHECK_FALSE(a.peer_size(1, 0).ok());
    CHECK_FALSE(a.peer_size(1, -5).ok());
    CHECK(a.piece_count() == 0);
    CHECK(a.peer_size(1, kMaxMetadataSize).ok());
}

TEST_CASE("metadata assembler: pieces that do not add up are errors") {
    const std::string d = dictionary(20'000);
    MetadataAssembler a;
    REQUIRE(a.peer_size(1, 20'000).ok());
    REQUIRE(a.peer_size(2, 20'000).ok());
    REQUIRE(a.next_request(1, 0) == 0u);
    // never asked of this peer
    CHECK_FALSE(a.on_data(2, 0, 20'000, piece_of(d, 0)).ok());
    // never asked at all
    CHECK_FALSE(a.on_data(1, 1, 20'000, piece_of(d, 1)).ok());
    // out of range
    CHECK(a.on_data(1, 7, 20'000, "x").error().message.find("out of range") != std::string::npos);
    // another total size
    CHECK_FALSE(a.on_data(1, 0, 30'000, piece_of(d, 0)).ok());
    // wrong piece size
    CHECK(a.on_data(1, 0, 20'000, piece_of(d, 0).substr(1)).error().message.find("bytes, not") != std::string::npos);
    CHECK(a.on_data(1, 0, 20'000, piece_of(d, 0)).ok());
}

TEST_CASE("metadata assembler: a peer announcing another size is not asked") {
    MetadataAssembler a;
    REQUIRE(a.peer_size(1, 20'000).ok());
    REQUIRE(a.peer_size(2, 30'000).ok());
    CHECK_FALSE(a.next_request(2, 0));
    CHECK(a.next_request(1, 0));
}

TEST_CASE("metadata assembler: a slow peer times out and its piece goes to another") {
    MetadataAssembler a(5'000);
    REQUIRE(a.peer_size(1, 1000).ok());
    REQUIRE(a.peer_size(2, 1000).ok());
    REQUIRE(a.next_request(1, 0) == 0u);
    CHECK_FALSE(a.next_request(2, 100));
    CHECK(a.timed_out(5'000).empty());
    auto slow = a.timed_out(5'001);
    REQUIRE(slow.size() == 1);
    CHECK(slow[0] == 1);
    CHECK(a.next_request(2, 5'002) == 0u);
}

TEST_CASE("metadata assembler: a reject or a peer leaving frees its pieces; a rejecting peer is not asked again") {
    MetadataAssembler a;
    REQUIRE(a.peer_size(1, 1000).ok());
    REQUIRE(a.peer_size(2, 1000).ok());
    REQUIRE(a.next_request(1, 0) == 0u);
    a.on_reject(1, 0);
    CHECK_FALSE(a.next_request(1, 0));
    REQUIRE(a.next_request(2, 0) == 0u);
    a.peer_gone(2);
    REQUIRE(a.peer_size(3, 1000).ok());
    CHECK(a.next_request(3, 0) == 0u);
}

TEST_CASE("metadata assembler: a hash mismatch starts over, then takes every piece from one peer") {
    const std::string good = dictionary(40'000);
    std::string bad = good;
    bad[20'000] = '!';
    const int64_t n = int64_t(good.size());
    MetadataAssembler a;
    REQUIRE(a.peer_size(1, n).ok());  // honest
    REQUIRE(a.peer_size(2, n).ok());  // liar
    REQUIRE(a.next_request(1, 0) == 0u);
    REQUIRE(a.next_request(2, 0) == 1u);
    REQUIRE(a.next_request(1, 0) == 2u);
    REQUIRE(a.on_data(1, 0, n, piece_of(good, 0)).ok());
    REQUIRE(a.on_data(2, 1, n, piece_of(bad, 1)).ok());
    REQUIRE(a.on_data(1, 2, n, piece_of(good, 2)).ok());
    REQUIRE(a.complete());
    CHECK_FALSE(metadata_matches(sha1(good), a.assemble()));
    auto senders = a.mismatch();
    CHECK(senders == std::vector<uint32_t>{1, 2});  // cannot tell which: both suspects
    CHECK(a.single_source());
    CHECK(a.pieces_received() == 0);
    // Second attempt: the liar is asked first and gets every piece.
    REQUIRE(a.next_request(2, 10) == 0u);
    CHECK_FALSE(a.next_request(1, 10));
    REQUIRE(a.next_request(2, 10) == 1u);
    REQUIRE(a.on_data(2, 0, n, piece_of(bad, 0)).ok());
    REQUIRE(a.on_data(2, 1, n, piece_of(bad, 1)).ok());
    REQUIRE(a.next_request(2, 10) == 2u);
    REQUIRE(a.on_data(2, 2, n, piece_of(bad, 2)).ok());
    REQUIRE(a.complete());
    CHECK_FALSE(metadata_matches(sha1(good), a.assemble()));
    CHECK(a.mismatch() == std::vector<uint32_t>{2});  // one sender: the liar
    a.peer_gone(2);
    // Third attempt from the honest peer.
    for (uint32_t i = 0; i < 3; ++i) {
        auto p = a.next_request(1, 20);
        REQUIRE(p);
        REQUIRE(a.on_data(1, *p, n, piece_of(good, *p)).ok());
    }
    CHECK(a.assemble() == good);
}
