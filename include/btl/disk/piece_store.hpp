// PieceStore: a torrent's piece storage as the engine uses it (ninja's
// DiskInterface shape): hash-and-write a piece, read a verified block,
// check what is there, free space, resume-data saves.  DiskPieceStore is
// the real one (Storage files through the DiskIo thread pool, unchanged in
// behaviour); a test puts an in-memory twin in its place.
//
// Contract (every implementation):
// - the asynchronous operations call back on the loop thread, never inside
//   the call (except free_space, which may answer at once);
// - hash_and_write writes only if the SHA-1 of `data` equals `expected`;
//   cb(hash_ok, write_status), write_status Ok when !hash_ok; write errors
//   carry their errno (disk full is ENOSPC, see disk_fault.hpp);
// - write_blocks writes received blocks at once and verifies each piece as
//   its blocks fill it (block_assembler.hpp: SHA-1 in order, the piece's
//   verdict from the job that hashed its last block); a piece is had only
//   after a verdict with hash_ok and an Ok write; block_digests reads a
//   piece back block by block for smart ban; drop_partial forgets the
//   pieces partly written (their later verdicts are not reported);
// - read_verified serves bytes only from a piece that still matches its
//   hash (as DiskIo::read_verified);
// - check() returns a cancel function; after it runs, neither progress nor
//   done is called;
// - save_resume is blocking: it is called on a pool thread.
// The metadata calls (stat_files, check_writable) are a few stat() calls on
// the loop thread, as before.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/core/file_layout.hpp"
#include "btl/disk/disk_io.hpp"
#include "btl/disk/resume.hpp"
#include "btl/disk/storage.hpp"

namespace btl {

class PieceStore {
public:
    using PieceMask = std::vector<uint8_t>;  // one byte per piece, 1 = verified
    using CancelFn = std::function<void()>;

    virtual ~PieceStore() = default;

    // ---- metadata
    [[nodiscard]] virtual std::vector<FileStat> stat_files() const = 0;
    [[nodiscard]] virtual const FileLayout& layout() const = 0;
    [[nodiscard]] virtual Status check_writable() const = 0;
    [[nodiscard]] virtual const std::string& base_dir() const = 0;

    // ---- jobs
    virtual void hash_and_write(uint32_t piece, BufferPtr data, Sha1Digest expected,
                                std::function<void(bool hash_ok, Status write_status)> cb) = 0;
    virtual void read_verified(int64_t torrent_offset, uint32_t len, const Sha1Digest& piece_hash,
                               std::function<void(Result<BufferPtr>)> cb) = 0;
    // ---- piece assembly on disk (blocks written as they arrive)
    static constexpr uint32_t kAssemblyBlock = 16384;  // BlockWrite::block counts these
    virtual void write_blocks(std::vector<BlockWrite> blocks,
                              std::function<void(Result<std::vector<PieceVerdict>>)> cb) = 0;
    virtual void block_digests(uint32_t piece, std::function<void(Result<std::vector<Sha1Digest>>)> cb) = 0;
    virtual void drop_partial() = 0;
    virtual CancelFn check(const std::string& piece_hashes,
                           std::function<void(uint32_t done, uint32_t total)> progress,
                           std::function<void(Result<PieceMask>)> done) = 0;
    // Bytes free for us below base_dir(), -1 if unknown.
    virtual void free_space(std::function<void(int64_t free_bytes)> cb) = 0;
    // Blocking (pool thread): writes resume data describing this storage.
    virtual Status save_resume(const std::string& path, ResumeData rd, DataSync mode, bool* all_synced) = 0;

    // Creates the zero-length files (and their directories) on the pool:
    // no piece ever writes them, so without this a dataset's empty
    // __init__.py or .gitkeep would never appear.  done(status) on the loop
    // thread.  A store without files (a test's memory twin) has nothing to
    // create and never calls back.
    // `skip`: files not to create (unwanted ones; shorter = none).
    virtual void create_empty_files(std::function<void(Status)> done, std::vector<bool> skip = {}) {
        (void)done;
        (void)skip;
    }

    // ---- caches: forget cached pieces; close cached descriptors
    virtual void evict() = 0;
    virtual void close_files() = 0;
};

// The real one: a Storage's files, jobs on the DiskIo pool.  The DiskIo
// must outlive it.
class DiskPieceStore final : public PieceStore {
public:
    DiskPieceStore(uv_loop_t* loop, DiskIo& disk, std::shared_ptr<Storage> storage)
        : loop_(loop),
          disk_(disk),
          storage_(std::move(storage)),
          assembler_(std::make_shared<BlockAssembler>(storage_->layout().piece_length(), storage_->layout().total(),
                                                      kAssemblyBlock)) {}

    std::vector<FileStat> stat_files() const override { return storage_->stat_files(); }
    const FileLayout& layout() const override { return storage_->layout(); }
    Status check_writable() const override { return storage_->check_writable(); }
    const std::string& base_dir() const override { return storage_->base_dir(); }

    void hash_and_write(uint32_t piece, BufferPtr data, Sha1Digest expected,
                        std::function<void(bool, Status)> cb) override {
        disk_.hash_and_write(storage_, piece, std::move(data), expected, std::move(cb));
    }
    void read_verified(int64_t off, uint32_t len, const Sha1Digest& piece_hash,
                       std::function<void(Result<BufferPtr>)> cb) override {
        disk_.read_verified(storage_, off, len, piece_hash, std::move(cb));
    }
    void write_blocks(std::vector<BlockWrite> blocks,
                      std::function<void(Result<std::vector<PieceVerdict>>)> cb) override {
        disk_.write_blocks(storage_, assembler_, std::move(blocks), std::move(cb));
    }
    void block_digests(uint32_t piece, std::function<void(Result<std::vector<Sha1Digest>>)> cb) override {
        disk_.block_digests(storage_, piece, kAssemblyBlock, std::move(cb));
    }
    void drop_partial() override { assembler_->drop_all(); }
    CancelFn check(const std::string& piece_hashes, std::function<void(uint32_t, uint32_t)> progress,
                   std::function<void(Result<PieceMask>)> done) override;
    void free_space(std::function<void(int64_t)> cb) override;
    Status save_resume(const std::string& path, ResumeData rd, DataSync mode, bool* all_synced) override {
        return save_resume_files(path, std::move(rd), *storage_, mode, all_synced);
    }
    void create_empty_files(std::function<void(Status)> done, std::vector<bool> skip = {}) override;
    void evict() override { disk_.evict(storage_.get()); }
    void close_files() override { storage_->close_files(); }

private:
    uv_loop_t* loop_;
    DiskIo& disk_;
    std::shared_ptr<Storage> storage_;
    std::shared_ptr<BlockAssembler> assembler_;  // shared with its jobs
    JobOwner jobs_;
};

}  // namespace btl
