// BlockAssembler: verifies pieces whose blocks are written to the files as
// they arrive, so memory does not grow with the piece size.
//
// Why this shape.  Assembling whole pieces in memory before one hash+write
// job made the heap grow with piece size x pieces in flight (a 1 GiB
// download from four seeders with 16 MiB pieces peaked at 185 MiB).  Here
// every received block goes to disk in a pool job at once, and each piece
// keeps only a SHA-1 context that is fed the piece's blocks in order:
//  - a block that extends the hashed prefix is hashed from its own buffer
//    right after its write;
//  - a block that arrives ahead of a gap is written too, and its buffer is
//    kept while a process-wide budget (kHeldBudget) allows, else dropped;
//    when the gap fills, the hasher takes the kept buffer or reads the
//    block back from the file (the page cache, normally);
//  - the job that hashes the last block finishes the digest and reports the
//    verdict; the partial state is forgotten.
// Only one thread hashes a piece at a time (a `hashing` flag; a job that
// finds it set leaves its written block to the running hasher), so pieces
// hash in parallel on the pool without threads waiting on each other.
//
// Crash safety: data of an unverified piece may sit in the file, but only a
// verdict that the hash matched marks a piece as had (the torrent's picker),
// and resume data lists only those; after a crash the unverified ranges are
// downloaded again (or re-checked).  A failed piece's blocks stay on disk
// until they are overwritten by the new download; smart ban reads them back
// to hash each block (block_digests) before the piece is requested again.
//
// Thread safety: write() runs on pool threads (any number at once);
// drop_all() and held_bytes() on any thread.  Blocks of one piece written
// twice (a duplicate) are the caller's bug: the torrent accepts one copy.
#pragma once
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/base/shared_bytes.hpp"

namespace btl {

// A received block: a slice of the socket's read slab or a copy of its own
// (base/shared_bytes.hpp); blocks live from the socket to their write job
// (and ahead of a gap, to their hash).  Any thread may release one.
using BlockBuffer = SharedBytes;
// A copy of a block in a recycled buffer (copy_shared_bytes).
inline BlockBuffer copy_block_buffer(const void* data, size_t len) { return copy_shared_bytes(data, len); }
constexpr size_t kIdleBlockBuffers = kIdleCopyBuffers;
inline size_t idle_block_buffers() { return idle_copy_buffers(); }  // for tests

// One received block, to be written at piece*piece_length + block*block_size.
struct BlockWrite {
    uint32_t piece = 0;
    uint32_t block = 0;
    BlockBuffer data;
    Sha1Digest expected{};  // the piece's hash from the metainfo
};

// The end of one piece: hash_ok is whether its SHA-1 matched; `write` is
// the first write (or read-back) error, in which case hash_ok is true (the
// data was never all there; the peers are not to blame).
struct PieceVerdict {
    uint32_t piece = 0;
    bool hash_ok = false;
    Status write = Ok{};
};

// Where the blocks go: the file stream of a torrent (Storage) or a test's
// memory.  Both are called on pool threads.
struct BlockIo {
    std::function<Status(int64_t offset, const uint8_t* data, size_t len)> write;
    std::function<Status(int64_t offset, uint8_t* buf, size_t len)> read;
    // Optional: buffers that follow each other in the stream, in one call
    // (pwritev).  Without it each block is one write().
    std::function<Status(int64_t offset, const iovec* parts, size_t count)> write_gather;
};

class BlockAssembler {
public:
    // Bytes of blocks ahead of a gap kept in memory, for all torrents
    // together; beyond it they are read back when the gap fills.
    static constexpr int64_t kHeldBudget = int64_t(8) << 20;

    BlockAssembler(int64_t piece_length, int64_t total_length, uint32_t block_size);
    ~BlockAssembler();
    BlockAssembler(const BlockAssembler&) = delete;
    BlockAssembler& operator=(const BlockAssembler&) = delete;

    // Pool thread: writes the blocks, advances the hashes, and returns the
    // verdicts of the pieces this call finished.  `epoch` is the value
    // epoch() had when the blocks were queued: blocks queued before a
    // drop_all() are neither written nor hashed.
    std::vector<PieceVerdict> write(const std::vector<BlockWrite>& blocks, const BlockIo& io, uint64_t epoch);

    // Forgets every partial piece (re-check, the torrent reset its picker).
    void drop_all();
    uint64_t epoch() const { return epoch_.load(); }
    // Pieces with some blocks written and no verdict yet.
    size_t partial_pieces() const;
    // Process-wide bytes held ahead of gaps (for tests and the budget).
    static int64_t held_bytes() { return held_total_.load(); }

private:
    struct Partial;
    std::shared_ptr<Partial> partial(uint32_t piece, const Sha1Digest& expected, uint64_t epoch);
    void block_written(const std::shared_ptr<Partial>& p, const BlockWrite& w, Status st, const BlockIo& io,
                       std::vector<PieceVerdict>& out);
    void hash_run(Partial& p, const BlockWrite& w, const BlockIo& io, std::unique_lock<std::mutex>& lk);
    int64_t piece_size(uint32_t piece) const;
    static bool written_up_to(const Partial& p, uint32_t block);

    int64_t piece_length_, total_;
    uint32_t block_size_;
    mutable std::mutex mu_;  // guards parts_
    std::map<uint32_t, std::shared_ptr<Partial>> parts_;
    std::atomic<uint64_t> epoch_{0};
    static std::atomic<int64_t> held_total_;
};

}  // namespace btl
