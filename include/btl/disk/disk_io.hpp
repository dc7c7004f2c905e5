// DiskIo: the bridge between the loop thread and blocking Storage calls.
// Every operation runs as a uv_queue_work job on the libuv thread pool and
// reports back through a callback on the loop thread.  DiskIo itself must be
// used only from the loop thread.
//
// Contract and lifetime:
// - Jobs hold shared_ptrs to their Storage and buffers, so a torrent may drop
//   its Storage while jobs are in flight.
// - Callbacks capture whatever they like; if the torrent can be destroyed
//   before the callback runs, capture a weak_ptr (DiskIo cannot know).
// - ~DiskIo: jobs already queued still run (writes complete) but their
//   callbacks are NOT called; queued checks are cancelled.  The loop must run
//   afterwards until the jobs drain (as it must anyway to close handles).
// - read() keeps a small LRU cache of whole pieces (bounded in bytes), filled
//   by reading the full piece on the first request, because peers ask for a
//   piece's 16 KiB blocks back to back; concurrent requests for a piece that
//   is being read wait for that one read.  hash_and_write() drops the piece
//   from the cache.
// - check() re-hashes existing data.  At most one check runs at a time per
//   DiskIo (others queue, FIFO); a running check keeps `check_jobs` pool
//   jobs in flight, each reading a few MiB with one large pread per file
//   slice and hashing the pieces in it.  Missing files or short data just
//   leave pieces unverified.  After CheckHandle::cancel() neither progress nor
//   done is called.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/disk/block_assembler.hpp"
#include "btl/disk/storage.hpp"

namespace btl {

using PieceBuffer = std::vector<uint8_t>;
using BufferPtr = std::shared_ptr<std::vector<uint8_t>>;

struct DiskIoOptions {
    size_t cache_bytes = size_t(32) << 20;        // read cache budget
    size_t max_cached_piece = size_t(8) << 20;    // larger pieces bypass the cache
    // Bytes per check job (whole pieces).  8 MiB jobs of ~3 ms left the two
    // jobs' threads idle 10-25% of the time between jobs (2.3-2.6 GB/s on
    // 1 GiB); 32 MiB keeps them 95% busy (3.0-3.1 GB/s).  A cancel still
    // stops within one piece.
    size_t check_chunk = size_t(32) << 20;
    unsigned check_jobs = 2;                      // check jobs in flight
    size_t check_read = size_t(128) << 10;        // check reads this much at a time, hashed while in L2
};

struct DiskIoStats {
    uint64_t cache_hits = 0;
    uint64_t cache_misses = 0;
    uint64_t bytes_read = 0;      // from disk, by read() and check()
    uint64_t bytes_written = 0;
    size_t cache_bytes = 0;       // currently cached
};

// Cancels a queued or running check.  Copyable; cancel() is idempotent and
// must be called on the loop thread.
class CheckHandle {
public:
    CheckHandle() = default;
    void cancel();
    bool valid() const { return state_ != nullptr; }

private:
    friend class DiskIo;
    struct State;
    explicit CheckHandle(std::shared_ptr<State> s) : state_(std::move(s)) {}
    std::shared_ptr<State> state_;
};

class DiskIo {
public:
    // One byte per piece, 1 = its data on disk matches its hash.
    using PieceMask = std::vector<uint8_t>;

    explicit DiskIo(uv_loop_t* loop, DiskIoOptions opt = {});
    ~DiskIo();
    DiskIo(const DiskIo&) = delete;
    DiskIo& operator=(const DiskIo&) = delete;

    // One pool job: SHA-1 of *data; if it equals `expected`, write the piece.
    // cb(hash_ok, write_status): write_status is Ok when !hash_ok.
    void hash_and_write(std::shared_ptr<Storage> st, uint32_t piece, BufferPtr data,
                        Sha1Digest expected,
                        std::function<void(bool hash_ok, Status write_status)> cb);

    // Piece assembly on disk (block_assembler.hpp): one pool job writes the
    // blocks at once and hashes their pieces in order as far as written;
    // cb gets the verdicts of the pieces this job finished, or an error
    // when the job did not run (then none of these blocks was written).
    // Verdicts of blocks queued before the assembler's drop_all() are not
    // reported.  The pieces leave the read cache.
    void write_blocks(std::shared_ptr<Storage> st, std::shared_ptr<BlockAssembler> as, std::vector<BlockWrite> blocks,
                      std::function<void(Result<std::vector<PieceVerdict>>)> cb);
    // SHA-1 of each block of a piece as it is in the files (smart ban's
    // evidence), read one block at a time.
    void block_digests(std::shared_ptr<Storage> st, uint32_t piece, uint32_t block_size,
                       std::function<void(Result<std::vector<Sha1Digest>>)> cb);

    // Reads [torrent_offset, +len) for serving a peer request.  len must lie
    // inside one piece (callers validate peer requests first).
    void read(std::shared_ptr<Storage> st, int64_t torrent_offset, uint32_t len,
              std::function<void(Result<BufferPtr>)> cb);
    // The same for uploading: a piece read whole into the cache is served
    // only if its SHA-1 equals `piece_hash`, otherwise the read fails with
    // "file changed: PATH (piece N fails its hash check)".  Pieces
    // too big to cache are read block by block and cannot be verified; they
    // still never yield bytes past a truncation or from a deleted file.
    void read_verified(std::shared_ptr<Storage> st, int64_t torrent_offset, uint32_t len,
                       const Sha1Digest& piece_hash, std::function<void(Result<BufferPtr>)> cb);

    // Full re-check.  `piece_hashes` is the concatenated 20-byte hashes
    // (Metainfo::pieces); the layout comes from the Storage.  progress is
    // called on the loop after each job with (pieces done, total).
    CheckHandle check(std::shared_ptr<Storage> st, std::string piece_hashes,
                      std::function<void(uint32_t done, uint32_t total)> progress,
                      std::function<void(Result<PieceMask>)> done);
    CheckHandle check(std::shared_ptr<Storage> st, const Metainfo& m,
                      std::function<void(uint32_t done, uint32_t total)> progress,
                      std::function<void(Result<PieceMask>)> done) {
        return check(std::move(st), m.pieces, std::move(progress), std::move(done));
    }

    // Drops a torrent's pieces from the read cache (torrent removed/paused).
    void evict(const Storage* st);

    // hash_and_write, write_blocks + read jobs submitted and not yet called back (for
    // back-pressure; checks are not counted).
    size_t pending() const;
    // Checks queued or running.
    size_t checks_pending() const;
    DiskIoStats stats() const;

    struct Impl;

private:
    void read_impl(std::shared_ptr<Storage> st, int64_t torrent_offset, uint32_t len,
                   const Sha1Digest* piece_hash, std::function<void(Result<BufferPtr>)> cb);
    std::shared_ptr<Impl> impl_;
};

}  // namespace btl
