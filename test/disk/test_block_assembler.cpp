// BlockAssembler: blocks written as they arrive, each piece hashed in order,
// one verdict per piece; and DiskIo::write_blocks / block_digests over real
// files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "btl/disk/block_assembler.hpp"
#include "btl/disk/disk_io.hpp"
#include "storage_test_util.hpp"

using namespace btl;

namespace {
constexpr uint32_t kBs = 16384;

// A torrent stream in memory: what BlockIo writes and reads back.
struct Mem {
    std::vector<uint8_t> content;  // the right data
    std::vector<uint8_t> disk;
    int64_t piece_length;
    int writes = 0, reads = 0;
    int fail_errno = 0;
    Mem(size_t total, int64_t pl, uint32_t seed) : content(testutil::pattern(total, seed)), disk(total, 0), piece_length(pl) {}
    BlockIo io() {
        BlockIo io;
        io.write = [this](int64_t off, const uint8_t* d, size_t len) -> Status {
            if (fail_errno) return make_sys_error("disk full writing /mem", fail_errno);
            std::memcpy(disk.data() + off, d, len);
            ++writes;
            return Ok{};
        };
        io.read = [this](int64_t off, uint8_t* b, size_t len) -> Status {
            std::memcpy(b, disk.data() + off, len);
            ++reads;
            return Ok{};
        };
        return io;
    }
    int64_t piece_size(uint32_t p) const { return std::min<int64_t>(piece_length, int64_t(content.size()) - p * piece_length); }
    Sha1Digest hash(uint32_t p) const { return sha1(content.data() + p * piece_length, size_t(piece_size(p))); }
    BlockWrite block(uint32_t p, uint32_t b) const {
        BlockWrite w;
        w.piece = p;
        w.block = b;
        int64_t off = p * piece_length + int64_t(b) * kBs;
        size_t len = size_t(std::min<int64_t>(kBs, piece_size(p) - int64_t(b) * kBs));
        w.data = std::make_shared<std::vector<uint8_t>>(content.begin() + off, content.begin() + off + int64_t(len));
        w.expected = hash(p);
        return w;
    }
    uint32_t blocks(uint32_t p) const { return uint32_t((piece_size(p) + kBs - 1) / kBs); }
};
}  // namespace

TEST_CASE("block_assembler: in-order blocks hash from their own buffers; the last one gives the verdict") {
    Mem m(4 * kBs + 100, 4 * kBs, 3);  // piece 1 is a short last piece
    BlockAssembler as(m.piece_length, int64_t(m.content.size()), kBs);
    auto io = m.io();
    for (uint32_t b = 0; b < 3; ++b) CHECK(as.write({m.block(0, b)}, io, as.epoch()).empty());
    CHECK(as.partial_pieces() == 1);
    auto v = as.write({m.block(0, 3), m.block(1, 0)}, io, as.epoch());
    REQUIRE(v.size() == 2);
    CHECK(v[0].piece == 0);
    CHECK(v[0].hash_ok);
    CHECK(v[0].write.ok());
    CHECK(v[1].piece == 1);
    CHECK(v[1].hash_ok);
    CHECK(m.reads == 0);
    CHECK(m.disk == m.content);
    CHECK(as.partial_pieces() == 0);
}

TEST_CASE("block_assembler: out-of-order blocks wait in the held budget, then are read back beyond it") {
    SUBCASE("within the budget: held, nothing read back") {
        Mem m(8 * kBs, 8 * kBs, 5);
        BlockAssembler as(m.piece_length, int64_t(m.content.size()), kBs);
        auto io = m.io();
        std::vector<PieceVerdict> v;
        for (uint32_t b = 8; b-- > 0;) {
            v = as.write({m.block(0, b)}, io, as.epoch());
            if (b > 0) CHECK(BlockAssembler::held_bytes() == int64_t(8 - b) * kBs);
        }
        REQUIRE(v.size() == 1);
        CHECK(v[0].hash_ok);
        CHECK(m.reads == 0);
        CHECK(BlockAssembler::held_bytes() == 0);
    }
    SUBCASE("a 16 MiB piece in reverse: the budget caps what is held; the rest is read back") {
        const int64_t pl = int64_t(16) << 20;
        Mem m(size_t(pl), pl, 7);
        BlockAssembler as(pl, pl, kBs);
        auto io = m.io();
        const uint32_t n = m.blocks(0);
        std::vector<PieceVerdict> v;
        int64_t peak = 0;
        for (uint32_t b = n; b-- > 0;) {
            v = as.write({m.block(0, b)}, io, as.epoch());
            peak = std::max(peak, BlockAssembler::held_bytes());
        }
        REQUIRE(v.size() == 1);
        CHECK(v[0].hash_ok);
        CHECK(peak <= BlockAssembler::kHeldBudget);
        CHECK(peak == BlockAssembler::kHeldBudget);
        CHECK(m.reads == int(n - BlockAssembler::kHeldBudget / kBs - 1));
        CHECK(BlockAssembler::held_bytes() == 0);
    }
}

TEST_CASE("block_assembler: a bad block fails the piece; a write error is a write failure, not a hash failure") {
    Mem m(2 * kBs * 2, 2 * kBs, 9);
    BlockAssembler as(m.piece_length, int64_t(m.content.size()), kBs);
    auto io = m.io();
    auto bad = m.block(0, 1);
    {
        std::vector<uint8_t> flipped(bad.data.data(), bad.data.data() + bad.data.size());
        flipped[7] ^= 1;
        bad.data = std::make_shared<std::vector<uint8_t>>(std::move(flipped));
    }
    auto v = as.write({m.block(0, 0), bad}, io, as.epoch());
    REQUIRE(v.size() == 1);
    CHECK_FALSE(v[0].hash_ok);
    CHECK(v[0].write.ok());
    // The piece starts afresh: downloaded again, it passes.
    v = as.write({m.block(0, 1), m.block(0, 0)}, io, as.epoch());
    REQUIRE(v.size() == 1);
    CHECK(v[0].hash_ok);
    m.fail_errno = ENOSPC;
    v = as.write({m.block(1, 0), m.block(1, 1)}, io, as.epoch());
    REQUIRE(v.size() == 1);
    CHECK(v[0].hash_ok);
    REQUIRE_FALSE(v[0].write.ok());
    CHECK(v[0].write.error().sys_errno == ENOSPC);
}

TEST_CASE("block_assembler: blocks that follow each other go down in one gathered write; a gap starts another") {
    Mem m(3 * 4 * kBs, 4 * kBs, 21);
    BlockAssembler as(m.piece_length, int64_t(m.content.size()), kBs);
    auto io = m.io();
    std::vector<std::pair<int64_t, size_t>> calls;  // offset, buffers
    io.write_gather = [&](int64_t off, const iovec* parts, size_t n) -> Status {
        if (m.fail_errno) return make_sys_error("disk full writing /mem", m.fail_errno);
        calls.emplace_back(off, n);
        for (size_t i = 0; i < n; ++i) {
            std::memcpy(m.disk.data() + off, parts[i].iov_base, parts[i].iov_len);
            off += int64_t(parts[i].iov_len);
        }
        return Ok{};
    };
    // Piece 0 whole and the start of piece 1 run on across the piece end,
    // cut every 4 blocks (64 KiB per call); block 1:3 after a gap is a run
    // of its own (written alone).
    auto v = as.write({m.block(0, 0), m.block(0, 1), m.block(0, 2), m.block(0, 3), m.block(1, 0), m.block(1, 1),
                       m.block(1, 3)},
                      io, as.epoch());
    REQUIRE(calls.size() == 2);
    CHECK(calls[0] == std::make_pair(int64_t(0), size_t(4)));
    CHECK(calls[1] == std::make_pair(int64_t(4 * kBs), size_t(2)));
    CHECK(m.writes == 1);
    REQUIRE(v.size() == 1);
    CHECK(v[0].piece == 0);
    CHECK(v[0].hash_ok);
    v = as.write({m.block(1, 2)}, io, as.epoch());
    REQUIRE(v.size() == 1);
    CHECK(v[0].hash_ok);
    CHECK(m.reads == 0);  // 1:3 was held, not read back
    // A failed gathered write fails every piece it touched, as a write error.
    m.fail_errno = ENOSPC;
    v = as.write({m.block(2, 0), m.block(2, 1), m.block(2, 2), m.block(2, 3)}, io, as.epoch());
    REQUIRE(v.size() == 1);
    CHECK(v[0].hash_ok);
    REQUIRE_FALSE(v[0].write.ok());
    CHECK(v[0].write.error().sys_errno == ENOSPC);
    m.fail_errno = 0;
    CHECK(std::equal(m.disk.begin(), m.disk.begin() + 8 * kBs, m.content.begin()));
}

TEST_CASE("block_assembler: block buffers are recycled, up to a bound") {
    std::vector<uint8_t> a(kBs, 7), b(100, 9);
    const void* first = nullptr;
    {
        auto x = copy_block_buffer(a.data(), a.size());
        CHECK(std::vector<uint8_t>(x.data(), x.data() + x.size()) == a);
        first = x.data();
    }
    const size_t idle = idle_block_buffers();
    CHECK(idle >= 1);
    // The released buffer is the next one handed out, holding the new bytes.
    auto y = copy_block_buffer(b.data(), b.size());
    CHECK(y.data() == first);
    CHECK(std::vector<uint8_t>(y.data(), y.data() + y.size()) == b);
    CHECK(idle_block_buffers() == idle - 1);
    y.reset();
    std::vector<BlockBuffer> many;
    for (size_t i = 0; i < kIdleBlockBuffers + 10; ++i) many.push_back(copy_block_buffer(a.data(), a.size()));
    many.clear();
    CHECK(idle_block_buffers() == kIdleBlockBuffers);
}

TEST_CASE("block_assembler: drop_all forgets partial pieces; blocks queued before it are neither written nor hashed") {
    Mem m(4 * kBs, 4 * kBs, 11);
    BlockAssembler as(m.piece_length, int64_t(m.content.size()), kBs);
    auto io = m.io();
    const uint64_t old = as.epoch();
    as.write({m.block(0, 0), m.block(0, 2)}, io, old);
    CHECK(as.partial_pieces() == 1);
    CHECK(BlockAssembler::held_bytes() == kBs);
    as.drop_all();
    CHECK(as.partial_pieces() == 0);
    CHECK(BlockAssembler::held_bytes() == 0);
    int writes = m.writes;
    CHECK(as.write({m.block(0, 1), m.block(0, 3)}, io, old).empty());
    CHECK(m.writes == writes);
    // The piece downloaded again in full, in the new epoch, passes.
    std::vector<PieceVerdict> v;
    for (uint32_t b = 0; b < 4; ++b) v = as.write({m.block(0, b)}, io, as.epoch());
    REQUIRE(v.size() == 1);
    CHECK(v[0].hash_ok);
}

TEST_CASE("block_assembler: four threads writing blocks of the same pieces in random order give one verdict per piece") {
    const int64_t pl = 16 * kBs;
    Mem m(size_t(pl * 8), pl, 13);
    BlockAssembler as(pl, int64_t(m.content.size()), kBs);
    std::vector<BlockWrite> all;
    for (uint32_t p = 0; p < 8; ++p)
        for (uint32_t b = 0; b < m.blocks(p); ++b) all.push_back(m.block(p, b));
    std::shuffle(all.begin(), all.end(), std::mt19937(42));
    std::mutex mu;
    std::vector<PieceVerdict> verdicts;
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&, t] {
            auto io = m.io();
            for (size_t i = size_t(t); i < all.size(); i += 4) {
                auto v = as.write({all[i]}, io, 0);
                std::lock_guard lk(mu);
                verdicts.insert(verdicts.end(), v.begin(), v.end());
            }
        });
    for (auto& t : ts) t.join();
    REQUIRE(verdicts.size() == 8);
    std::vector<int> seen(8, 0);
    for (const auto& v : verdicts) {
        CHECK(v.hash_ok);
        ++seen[v.piece];
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    CHECK(BlockAssembler::held_bytes() == 0);
}

TEST_CASE("disk_io: write_blocks stores blocks in the files and verifies pieces; block_digests reads them back") {
    testutil::TempDir dir;
    std::vector<int64_t> lengths{40000, 60000};
    const int64_t pl = 2 * kBs;
    auto data = testutil::pattern(100000, 17);
    Metainfo mi = testutil::make_meta(lengths, pl, data, true, {"a", "b"});
    auto st = *Storage::open(mi, dir / "t", std::make_shared<FilePool>());
    auto as = std::make_shared<BlockAssembler>(pl, mi.total_length, kBs);
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        DiskIo io(&loop);
        std::vector<BlockWrite> blocks;
        for (uint32_t p = 0; p < mi.num_pieces(); ++p)
            for (int64_t off = 0; off < mi.piece_size(p); off += kBs) {
                BlockWrite w;
                w.piece = p;
                w.block = uint32_t(off / kBs);
                int64_t at = p * pl + off;
                int64_t len = std::min<int64_t>(kBs, mi.piece_size(p) - off);
                auto bytes = std::make_shared<std::vector<uint8_t>>(data.begin() + at, data.begin() + at + len);
                std::memcpy(w.expected.data(), mi.pieces.data() + 20 * p, 20);
                if (p == 1 && w.block == 1) (*bytes)[0] ^= 0xff;  // piece 1 fails
                w.data = std::move(bytes);
                blocks.push_back(std::move(w));
            }
        std::reverse(blocks.begin(), blocks.end());
        std::optional<Result<std::vector<PieceVerdict>>> got;
        io.write_blocks(st, as, blocks, [&](Result<std::vector<PieceVerdict>> r) { got = std::move(r); });
        while (!got) uv_run(&loop, UV_RUN_ONCE);
        REQUIRE(got->ok());
        REQUIRE((*got)->size() == mi.num_pieces());
        for (const auto& v : **got) CHECK(v.hash_ok == (v.piece != 1));
        CHECK(io.stats().bytes_written == uint64_t(mi.total_length));
        std::optional<Result<std::vector<Sha1Digest>>> d;
        io.block_digests(st, 1, kBs, [&](Result<std::vector<Sha1Digest>> r) { d = std::move(r); });
        while (!d) uv_run(&loop, UV_RUN_ONCE);
        REQUIRE(d->ok());
        REQUIRE((*d)->size() == 2);
        CHECK((**d)[0] == sha1(data.data() + pl, kBs));
        CHECK((**d)[1] != sha1(data.data() + pl + kBs, kBs));  // the bad block as it sits in the file
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}
