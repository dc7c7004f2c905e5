// Torrent: from a received block to a verified piece on disk.
//
// Blocks are written to the files as they arrive, in batches, and each
// piece is hashed in order on the pool as its blocks land
// (disk/block_assembler.hpp), so memory holds at most the batch, the write
// backlog (kMaxPendingWriteBytes, which pauses requests) and the bounded
// out-of-order blocks, whatever the piece size.  The verdict decides: pass
// -> have messages and resume data; fail -> the piece is downloaded again,
// after smart ban has read back and hashed each of its blocks when more
// than one address sent them (the evidence would be overwritten by the new
// download otherwise).  A piece with data in the files but no passing
// verdict is never claimed: a crash leaves it unclaimed and it is fetched
// (or re-checked) again.
#include <cstring>

#include "btl/engine/torrent.hpp"

namespace btl {

static_assert(PieceStore::kAssemblyBlock == PeerOwner::kBlock, "the store's blocks are the requests' blocks");

void Torrent::queue_block(BlockRef b, SharedBytes data, bool piece_complete) {
    const auto n = int64_t(data.size());
    BlockWrite w;
    w.piece = b.piece;
    w.block = b.block;
    w.data = std::move(data);
    w.expected = mi_.piece_hash(b.piece);
    write_batch_.push_back(std::move(w));
    batch_bytes_ += n;
    pending_write_bytes_ += n;
    if (!disk_hold_reading_ && pending_write_bytes_ >= kHoldReadingBytes) {
        disk_hold_reading_ = true;
        for (auto& [k, p] : peers_) p->conn().pause_reading();
    }
    if (piece_complete || write_batch_.size() >= kWriteBatchBlocks) flush_writes();
}

void Torrent::flush_writes() {
    if (write_batch_.empty() || !storage_) return;
    std::vector<uint32_t> pieces;  // touched, in case the job never runs
    for (const auto& w : write_batch_)
        if (pieces.empty() || pieces.back() != w.piece) pieces.push_back(w.piece);
    ++pending_writes_;
    const int64_t bytes = batch_bytes_;
    batch_bytes_ = 0;
    auto alive = jobs_.token();
    const uint64_t gen = write_gen_;
    std::vector<BlockWrite> batch;
    batch.swap(write_batch_);
    storage_->write_blocks(std::move(batch), [this, alive, gen, bytes, pieces = std::move(pieces)](
                                                 Result<std::vector<PieceVerdict>> r) mutable {
        if (alive.expired()) return;
        writes_done(gen, bytes, std::move(pieces), std::move(r));
    });
}

void Torrent::writes_done(uint64_t gen, int64_t bytes, std::vector<uint32_t> pieces,
                          Result<std::vector<PieceVerdict>> r) {
    mark_changed();
    const bool was_backlogged = disk_backlogged();
    --pending_writes_;
    pending_write_bytes_ -= bytes;
    if (disk_hold_reading_ && !disk_backlogged()) {
        disk_hold_reading_ = false;
        // As on_bandwidth: a socket the rate limiter paused stays paused.
        for (auto& [k, p] : peers_)
            if (download_allowed_now() && !p->conn().reading() && !p->conn().closing()) p->conn().resume_reading();
    }
    if (was_backlogged && !disk_backlogged())
        for (auto& [k, p] : peers_) p->fill_requests();
    if (gen == write_gen_) {
        if (!r.ok()) {
            // The job never ran (the pool refused it): these blocks are not
            // on disk; their pieces are asked for again (blocks already
            // written keep their data, the missing ones are written when
            // they come) and the torrent shows the error.
            for (uint32_t piece : pieces) piece_done(piece, true, r.error());
        } else {
            for (const auto& v : *r) piece_done(v.piece, v.hash_ok, v.write);
        }
    }
    if (pending_writes_ == 0 && after_writes_) {
        auto f = std::move(after_writes_);
        after_writes_ = nullptr;
        f();
    }
}

void Torrent::hash_blocks(uint32_t piece, std::function<void(std::vector<Sha1Digest>)> done) {
    auto alive = jobs_.token();
    const uint64_t gen = write_gen_;
    storage_->block_digests(piece, [this, alive, gen, done = std::move(done)](Result<std::vector<Sha1Digest>> r) {
        if (alive.expired() || gen != write_gen_) return;
        // Unreadable: the evidence of who lied is lost; say so.
        if (!r.ok()) return log(LogLevel::warning, "smart ban: " + r.error().message);
        done(std::move(*r));
    });
}

void Torrent::fail_piece(uint32_t piece) {
    picker_.piece_failed(piece);
    for (auto& [k, p] : peers_) p->fill_requests();
}

void Torrent::piece_done(uint32_t piece, bool ok, const Status& w) {
    mark_changed();
    if (!ok) {
        auto senders = smart_ban_.take_senders(piece);
        auto ips = SmartBan::distinct(senders);
        std::string who;
        for (const auto& ip : ips) who += (who.empty() ? "" : ", ") + ip;
        log(LogLevel::warning, "piece " + std::to_string(piece) + " failed its hash check (data from " +
                                   (who.empty() ? "unknown peers" : who) + ")");
        const std::string ps = std::to_string(piece);
        if (ips.size() == 1) ban_address(ips[0], "sent all of piece " + ps + ", which failed the hash check");
        if (ips.size() <= 1) return fail_piece(piece);
        for (const auto& ip : ips)
            if (smart_ban_.contributed_to_failure(ip))
                ban_address(ip, "contributed to too many pieces that failed the hash check");
        // Which of them lied shows when the piece passes: remember what
        // each one sent, read back from the files before the piece is
        // asked for again (the new blocks overwrite the old ones).
        auto alive = jobs_.token();
        const uint64_t gen = write_gen_;
        storage_->block_digests(piece, [this, alive, gen, piece, senders = std::move(senders)](
                                           Result<std::vector<Sha1Digest>> d) {
            if (alive.expired() || gen != write_gen_) return;
            if (d.ok())
                smart_ban_.record_failure(piece, senders, *d);
            else
                log(LogLevel::warning, "smart ban: " + d.error().message);
            fail_piece(piece);
        });
    } else if (!w.ok()) {
        // Not verified: the piece is downloaded again once it can be stored.
        picker_.piece_failed(piece);
        if (classify_errno(w.error().sys_errno) == DiskFault::no_space)
            on_disk_full(w.error().message);
        else
            set_error(w.error().message);
        for (auto& [k, p] : peers_) p->fill_requests();
    } else {
        disk_retry_.on_write_ok(host_.now_ms());
        picker_.piece_passed(piece);
        for (const auto& ip : SmartBan::distinct(smart_ban_.take_senders(piece))) smart_ban_.contributed_to_pass(ip);
        if (smart_ban_.has_failure(piece))
            hash_blocks(piece, [this, piece](std::vector<Sha1Digest> d) {
                for (const auto& ip : smart_ban_.piece_passed(piece, d))
                    ban_address(ip, "sent a bad block of piece " + std::to_string(piece) +
                                        " (found when the piece later passed its hash check)");
            });
        have_bytes_ += mi_.piece_size(piece);
        note_wanted_piece(piece);
        resume_dirty_ = true;
        for (auto& [k, p] : peers_) p->we_have_piece(piece);
        if (complete()) on_complete();
    }
}

}  // namespace btl
