// PiecePicker: decides which blocks to request from which peer, for one
// torrent.  Pure and single-threaded; the torrent feeds it availability
// (peer bitfields, haves, seeds), request outcomes and hash results.
//
// Policy, in pick() order:
//   1. unrequested blocks of pieces already in progress that the peer has,
//      so partial pieces finish before new ones start;
//   2. a new piece: one that failed its hash check if the peer has it, else
//      uniformly random among the pieces the peer has while we
//      have fewer than kRandomFirstPieces complete pieces, then rarest first
//      (higher priority first, then lowest availability, random tie-break);
//   3. endgame (every wanted missing block is requested or received): blocks
//      outstanding to other peers, never twice to the same peer, at most
//      kMaxEndgameDuplicates peers per block.
//
// Cost: pick() never scans all pieces.  Not-started wanted pieces live in one
// vector sorted by (priority, availability) with bucket boundaries; an
// availability change moves a piece one bucket with a single swap (O(1));
// starting/returning a piece costs O(number of non-empty buckets above it).
// Inside a bucket the scan starts at a random offset (random tie-break).
// Per-piece state is O(1); per-block state exists only for pieces in
// progress, in a pool of reused slots.
//
// Contract: availability must include every peer passed to pick(): a peer's
// bitfield is counted with inc_availability(bitfield) (or add_seed() for a
// seed, whose peer_has is then all ones) before it is used for picking; a
// non-seed peer is never offered a piece whose availability is 0.
// A piece "in progress" stays so from its first request until piece_passed()
// or piece_failed() (or until every request of a piece with nothing received
// is aborted, when it returns to the not-started set).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "btl/core/bitfield.hpp"

namespace btl {

struct BlockRef {
    uint32_t piece = 0;
    uint32_t block = 0;  // offset in the piece = block * block_size
    bool operator==(const BlockRef& o) const { return piece == o.piece && block == o.block; }
    bool operator!=(const BlockRef& o) const { return !(*this == o); }
};

// A stable id the torrent gives each connection.
using PeerKey = uint32_t;

class PiecePicker {
public:
    static constexpr uint32_t kRandomFirstPieces = 4;
    static constexpr uint32_t kMaxEndgameDuplicates = 3;
    static constexpr int kMaxPriority = 7;

    // num_pieces must equal ceil(total_length / piece_length); the metainfo
    // parser has checked that.  block_size is normally 16 KiB.
    PiecePicker(uint32_t num_pieces, int64_t piece_length, int64_t total_length,
                uint32_t block_size = 16384, uint64_t seed = 0);

    uint32_t num_pieces() const { return num_pieces_; }
    uint32_t block_size() const { return block_size_; }
    uint32_t blocks_in_piece(uint32_t piece) const;
    uint32_t block_length(BlockRef b) const;  // the last block of the last piece may be shorter
    int64_t piece_size(uint32_t piece) const;

    // ---- availability ----
    void inc_availability(const Bitfield& peer_has);
    void dec_availability(const Bitfield& peer_has);
    void inc_availability(uint32_t piece);
    void dec_availability(uint32_t piece);
    // A seed counts for every piece without touching every piece.
    void add_seed();
    void remove_seed();
    // Peers known to have the piece (seeds included).
    uint32_t availability(uint32_t piece) const;
    uint32_t num_seeds() const { return seeds_; }

    // ---- our pieces ----
    // We have the piece (resume data, recheck).  Drops any progress on it.
    void set_have(uint32_t piece);
    bool have(uint32_t piece) const { return have_.get(piece); }
    const Bitfield& have_bitfield() const { return have_; }
    uint32_t num_have() const { return have_.count(); }
    bool complete() const { return have_.all(); }
    // Every piece we want (priority > 0) is verified: done downloading, even
    // if unwanted pieces are missing.  O(1).
    bool wanted_complete() const { return wanted_.none(); }
    // Some piece we lack is unwanted (priority 0).  O(1).
    bool has_unwanted_missing() const { return have_.count() + wanted_.count() < num_pieces_; }
    // True when the peer has a piece we lack and want (priority > 0).
    bool is_interesting(const Bitfield& peer_has) const;
    // 0 = don't download, 1 = normal, up to 7 = highest.  Lowering a piece in
    // progress to 0 leaves its outstanding requests alone.
    void set_piece_priority(uint32_t piece, int prio);
    int piece_priority(uint32_t piece) const { return pieces_[piece].prio; }
    // Sequential download (piece_priority.cpp): new pieces are started in
    // index order (highest priority first, then lowest index), no random
    // first pieces; off = rarest first.
    void set_sequential(bool on) { sequential_ = on; seq_cursor_ = 0; }
    bool sequential() const { return sequential_; }

    // ---- requests ----
    // Appends up to max_blocks blocks to `out` that `peer` has and we lack,
    // marking them requested by `peer`; returns how many were appended.
    // peer_has must have num_pieces() bits (else nothing is picked).
    size_t pick(const Bitfield& peer_has, size_t max_blocks, PeerKey peer, std::vector<BlockRef>& out);
    bool in_endgame() const;

    struct Received {
        // false: the block was not requested or already received; drop it.
        bool accepted = false;
        // All blocks of the piece are received: hash it, then call
        // piece_passed() or piece_failed().
        bool piece_complete = false;
        // Other peers that still have this block outstanding (endgame): send
        // them a cancel.  Their requests are already forgotten here.
        std::vector<PeerKey> cancel;
    };
    // Accepted when the block is in progress, not yet received, and
    // requested from at least one peer (not necessarily `from`: a block that
    // timed out and was re-requested elsewhere may still arrive late).
    Received mark_received(BlockRef b, PeerKey from);
    // The request of b to peer is gone (choke, reject, timeout, disconnect):
    // the block becomes pickable again.  Unknown requests are ignored.
    void abort_request(BlockRef b, PeerKey peer);
    // Hash ok: we have the piece.
    void piece_passed(uint32_t piece);
    // Hash failed: the piece goes back to not-started.  Returns the distinct
    // peers that delivered its blocks, so the torrent can find the liar.
    std::vector<PeerKey> piece_failed(uint32_t piece);

    // Pieces in progress (at least one block requested or received, not yet
    // passed or failed).
    size_t num_partial() const { return active_.size(); }
    // Peers the block is currently requested from.
    size_t outstanding(BlockRef b) const;
    bool is_received(BlockRef b) const;
    bool in_progress(uint32_t piece) const { return pieces_[piece].slot != kNone; }

    // Verifies the internal invariants (tests); false on the first violation.
    bool check_invariants() const;

private:
    static constexpr uint32_t kNone = 0xFFFFFFFFu;
    static constexpr uint32_t kAvailLevels = 1024;  // availability beyond this is one bucket
    static constexpr uint32_t kNumKeys = kAvailLevels * kMaxPriority;

    struct PieceInfo {
        uint32_t avail = 0;     // peers with the piece, seeds excluded
        uint32_t pos = kNone;   // index in order_ when not started and wanted
        uint32_t slot = kNone;  // index in slots_ when in progress
        uint8_t prio = 1;
    };
    struct Block {
        PeerKey peers[kMaxEndgameDuplicates];  // outstanding requests
        PeerKey from;                           // who delivered it
        uint8_t npeers;
        bool received;
    };
    struct Partial {
        uint32_t piece = kNone;
        uint32_t num_free = 0;      // neither requested nor received
        uint32_t num_received = 0;
        uint32_t open_pos = kNone;  // index in open_ while num_free > 0
        uint32_t active_pos = kNone;
        uint32_t first_free = 0;    // no free block below this index
        std::vector<Block> blocks;
    };

    uint32_t key_of(uint32_t piece) const;
    uint32_t bucket_start(uint32_t key) const {
        if (key > top_key_) return uint32_t(order_.size());
        return key < base_key_ ? 0 : bucket_start_[key - base_key_];
    }
    uint32_t& bucket_slot(uint32_t key);  // for writes: covers key, growing the table
    void order_insert(uint32_t piece);
    void order_remove(uint32_t piece);
    void order_move_up(uint32_t piece, uint32_t key);
    void order_move_down(uint32_t piece, uint32_t key);
    void avail_changed_up(uint32_t piece);
    void avail_changed_down(uint32_t piece);

    uint32_t start_piece(uint32_t piece);  // returns slot
    void release_piece(uint32_t piece);    // frees its slot
    void open_add(uint32_t slot);
    void open_remove(uint32_t slot);
    void return_to_pool(uint32_t piece);   // not started again: back into order_ if wanted

    uint32_t pick_new_piece(const Bitfield& peer_has, bool peer_is_seed);
    uint32_t pick_from_peer_bits(const Bitfield& peer_has);
    uint32_t pick_sequential(const Bitfield& peer_has, bool peer_is_seed);
    size_t take_blocks(uint32_t slot, size_t max_blocks, PeerKey peer, std::vector<BlockRef>& out);
    size_t pick_retry(const Bitfield& peer_has, bool seed, size_t max_blocks, PeerKey peer,
                      std::vector<BlockRef>& out);
    size_t pick_endgame(const Bitfield& peer_has, size_t max_blocks, PeerKey peer, std::vector<BlockRef>& out);
    uint64_t next_random();

    uint32_t num_pieces_;
    int64_t piece_length_;
    int64_t total_length_;
    uint32_t block_size_;
    uint32_t blocks_per_piece_;
    uint32_t last_piece_blocks_;
    int64_t last_piece_size_;
    uint64_t rng_;

    std::vector<PieceInfo> pieces_;
    Bitfield have_;
    Bitfield wanted_;  // !have && prio > 0
    uint32_t seeds_ = 0;

    std::vector<uint32_t> order_;         // not-started wanted pieces, by key
    // bucket_start_[i] is the start of bucket base_key_ + i, valid for keys
    // <= top_key_; every bucket below base_key_ starts at 0.  Only the keys
    // in use are stored (a torrent at one priority needs a few entries, not
    // all kNumKeys: 28 KB per torrent at 10,000 torrents was 287 MB).
    std::vector<uint32_t> bucket_start_;
    uint32_t base_key_ = 0;
    uint32_t top_key_ = 0;                // no bucket above is non-empty
    mutable uint32_t low_key_ = 0;        // no bucket below is non-empty

    std::vector<Partial> slots_;
    std::vector<uint32_t> free_slots_;
    std::vector<uint32_t> retry_;  // failed their hash check, not started again yet: picked first
    std::vector<uint32_t> open_;    // slots with unrequested blocks
    std::vector<uint32_t> active_;  // all slots in use
    // Sequential download: no not-started wanted piece lies below seq_cursor_.
    bool sequential_ = false;
    uint32_t seq_cursor_ = 0;
};

}  // namespace btl
