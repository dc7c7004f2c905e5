#include <doctest/doctest.h>

#include "btl/core/file_layout.hpp"
#include "../disk/storage_test_util.hpp"

using namespace btl;

static std::vector<FileSlice> map_of(const FileLayout& l, int64_t off, int64_t len) {
    std::vector<FileSlice> v;
    l.map(off, len, v);
    return v;
}

static bool eq(const FileSlice& s, uint32_t f, int64_t off, int64_t len) {
    return s.file_index == f && s.file_offset == off && s.length == len;
}

TEST_CASE("file_layout: mapping crosses file boundaries and skips empty files") {
    FileLayout l({10, 0, 5, 20}, 8);
    CHECK(l.total() == 35);
    CHECK(l.num_pieces() == 5);
    CHECK(l.piece_size(4) == 3);
    CHECK(l.piece_size(5) == 0);

    auto v = map_of(l, 8, 8);
    REQUIRE(v.size() == 3);
    CHECK(eq(v[0], 0, 8, 2));
    CHECK(eq(v[1], 2, 0, 5));
    CHECK(eq(v[2], 3, 0, 1));

    v = map_of(l, 0, 35);
    REQUIRE(v.size() == 3);
    CHECK(eq(v[2], 3, 0, 20));

    v = map_of(l, 10, 1);  // exactly at the empty file's offset
    REQUIRE(v.size() == 1);
    CHECK(eq(v[0], 2, 0, 1));

    v = map_of(l, 30, 100);  // clamped to the end
    REQUIRE(v.size() == 1);
    CHECK(eq(v[0], 3, 15, 5));

    CHECK(map_of(l, 35, 1).empty());
    CHECK(map_of(l, -1, 1).empty());
    CHECK(map_of(l, 3, 0).empty());
}

TEST_CASE("file_layout: empty files at the start and the end") {
    FileLayout l({0, 0, 4, 4, 0}, 3);
    auto v = map_of(l, 0, 8);
    REQUIRE(v.size() == 2);
    CHECK(eq(v[0], 2, 0, 4));
    CHECK(eq(v[1], 3, 0, 4));
    CHECK(l.files_of_piece(0) == std::pair<uint32_t, uint32_t>{2, 2});
    CHECK(l.files_of_piece(1) == std::pair<uint32_t, uint32_t>{2, 3});
    CHECK(l.files_of_piece(2) == std::pair<uint32_t, uint32_t>{3, 3});
    auto e = l.pieces_of_file(0);
    CHECK(e.first > e.second);
    e = l.pieces_of_file(4);
    CHECK(e.first > e.second);
    CHECK(l.pieces_of_file(2) == std::pair<uint32_t, uint32_t>{0, 1});
    CHECK(l.pieces_of_file(3) == std::pair<uint32_t, uint32_t>{1, 2});
}

TEST_CASE("file_layout: piece/file ranges agree with map() on a random layout") {
    std::vector<int64_t> lens;
    uint32_t x = 7;
    for (int i = 0; i < 40; ++i) {
        x = x * 1103515245u + 12345;
        lens.push_back((x >> 16) % 4 == 0 ? 0 : int64_t((x >> 8) % 100));
    }
    FileLayout l(lens, 37);
    for (uint32_t p = 0; p < l.num_pieces(); ++p) {
        auto v = map_of(l, l.piece_offset(p), l.piece_size(p));
        int64_t sum = 0;
        for (auto& s : v) {
            sum += s.length;
            CHECK(s.length > 0);
            auto r = l.pieces_of_file(s.file_index);
            CHECK(r.first <= p);
            CHECK(p <= r.second);
        }
        CHECK(sum == l.piece_size(p));
        auto fr = l.files_of_piece(p);
        CHECK(fr.first == v.front().file_index);
        CHECK(fr.second == v.back().file_index);
    }
}

TEST_CASE("file_layout: from Metainfo keeps pad flags") {
    std::vector<uint8_t> data(30);
    auto m = testutil::make_meta({10, 6, 14}, 16, data, true, {}, {false, true, false});
    FileLayout l(m);
    CHECK(l.num_files() == 3);
    CHECK(l.total() == 30);
    CHECK(l.num_pieces() == m.num_pieces());
    CHECK(l.is_pad(1));
    CHECK_FALSE(l.is_pad(0));
    CHECK(l.file_offset(2) == 16);
}
