#include <doctest/doctest.h>

#include "btl/core/seed_uploads.hpp"

using namespace btl;

namespace {
constexpr int64_t kPiece = 4 * 16384;
constexpr uint32_t kBlk = 16384;
}  // namespace

TEST_CASE("seed uploads: every piece is fresh before anything went out") {
    SeedUploads s(3, kPiece, 3 * kPiece);
    CHECK(s.fresh(0, 1));
    CHECK(s.fresh(2, 7));
    CHECK_FALSE(s.fresh(3, 1));  // out of range
    CHECK(s.pieces_sent() == 0);
}

TEST_CASE("seed uploads: a piece started for one peer is fresh only for that peer until sent whole") {
    SeedUploads s(2, kPiece, 2 * kPiece);
    s.sent(0, kBlk, 1);
    CHECK(s.fresh(0, 1));
    CHECK_FALSE(s.fresh(0, 2));  // the same piece asked by another leecher waits
    CHECK(s.fresh(1, 2));        // an untouched piece is fresh for everyone
    for (int i = 0; i < 3; ++i) s.sent(0, kBlk, 1);
    CHECK_FALSE(s.fresh(0, 1));  // a whole copy went out
    CHECK_FALSE(s.fresh(0, 2));
    CHECK(s.pieces_sent() == 1);
    s.sent(0, kBlk, 2);  // a duplicate does not count twice
    CHECK(s.pieces_sent() == 1);
}

TEST_CASE("seed uploads: the short last piece is whole at its own size") {
    SeedUploads s(2, kPiece, kPiece + kBlk);
    s.sent(1, kBlk, 3);
    CHECK_FALSE(s.fresh(1, 3));
    CHECK(s.pieces_sent() == 1);
}

TEST_CASE("seed uploads: a piece whose owner left before getting it whole is open again") {
    SeedUploads s(3, kPiece, 3 * kPiece);
    s.sent(0, kBlk, 1);
    for (int i = 0; i < 4; ++i) s.sent(1, kBlk, 1);
    s.sent(2, kBlk, 2);
    s.peer_gone(1);
    CHECK(s.fresh(0, 2));        // half-sent to the peer that left: fresh for anyone
    CHECK(s.fresh(0, 1));
    CHECK_FALSE(s.fresh(1, 2));  // it got that one whole before it left: still out
    CHECK_FALSE(s.fresh(2, 1));  // another peer's piece is untouched
    CHECK(s.fresh(2, 2));
    CHECK(s.pieces_sent() == 1);
    s.peer_gone(SeedUploads::kNobody);  // no-op
    CHECK(s.fresh(2, 2));
}

TEST_CASE("seed uploads: a piece started for another peer is unsent until a whole copy went out") {
    SeedUploads s(2, kPiece, 2 * kPiece);
    CHECK(s.unsent(0));
    s.sent(0, kBlk, 1);
    CHECK(s.unsent(0));  // not fresh for peer 2, but before duplicates
    CHECK_FALSE(s.fresh(0, 2));
    for (int i = 0; i < 3; ++i) s.sent(0, kBlk, 1);
    CHECK_FALSE(s.unsent(0));
    CHECK(s.unsent(1));
    CHECK_FALSE(s.unsent(2));
}
