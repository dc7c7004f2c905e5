#include "btl/core/piece_picker.hpp"

#include <algorithm>
#include <cstring>

namespace btl {

PiecePicker::PiecePicker(uint32_t num_pieces, int64_t piece_length, int64_t total_length, uint32_t block_size,
                         uint64_t seed)
    : num_pieces_(num_pieces),
      piece_length_(piece_length > 0 ? piece_length : 1),
      total_length_(total_length > 0 ? total_length : 0),
      block_size_(block_size > 0 ? block_size : 16384),
      pieces_(num_pieces),
      have_(num_pieces),
      wanted_(num_pieces, true) {
    blocks_per_piece_ = uint32_t((piece_length_ + block_size_ - 1) / block_size_);
    if (num_pieces_ == 0) {
        last_piece_size_ = 0;
        last_piece_blocks_ = 0;
    } else {
        // The metainfo parser guarantees 0 < last <= piece_length; clamp so a
        // caller's mistake cannot produce negative sizes here.
        last_piece_size_ = total_length_ - int64_t(num_pieces_ - 1) * piece_length_;
        last_piece_size_ = std::clamp<int64_t>(last_piece_size_, 1, piece_length_);
        last_piece_blocks_ = uint32_t((last_piece_size_ + block_size_ - 1) / block_size_);
    }
    rng_ = seed ^ 0x2545F4914F6CDD1Dull;
    if (rng_ == 0) rng_ = 1;
    order_.reserve(num_pieces_);
    // Every piece starts not-started with availability 0 and priority 1:
    // all in one bucket, appended in index order; the random offset in
    // pick_new_piece() supplies the randomness.
    uint32_t k = kNumKeys - kAvailLevels;  // priority 1, availability 0
    low_key_ = top_key_ = base_key_ = k;
    bucket_start_.assign(2, 0);
    for (uint32_t p = 0; p < num_pieces_; ++p) {
        pieces_[p].pos = p;
        order_.push_back(p);
    }
}

uint64_t PiecePicker::next_random() {
    // xorshift64*: fast, good enough for tie-breaking.
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545F4914F6CDD1Dull;
}

uint32_t PiecePicker::blocks_in_piece(uint32_t piece) const {
    return piece + 1 == num_pieces_ ? last_piece_blocks_ : blocks_per_piece_;
}

int64_t PiecePicker::piece_size(uint32_t piece) const {
    if (piece >= num_pieces_) return 0;
    return piece + 1 == num_pieces_ ? last_piece_size_ : piece_length_;
}

uint32_t PiecePicker::block_length(BlockRef b) const {
    int64_t ps = piece_size(b.piece);
    int64_t off = int64_t(b.block) * block_size_;
    if (off >= ps) return 0;
    return uint32_t(std::min<int64_t>(block_size_, ps - off));
}

// ---- the availability-ordered vector ---------------------------------------
//
// order_ holds the not-started wanted pieces sorted by key; bucket k is
// order_[bucket_start(k), bucket_start(k+1)).  Keys above top_key_ are not
// stored (their bucket is empty and starts at order_.size()), so growing the
// vector never touches thousands of empty high buckets.

uint32_t& PiecePicker::bucket_slot(uint32_t key) {
    if (key < base_key_) {  // buckets below base_key_ all start at 0
        bucket_start_.insert(bucket_start_.begin(), base_key_ - key, 0u);
        base_key_ = key;
    }
    size_t i = key - base_key_;
    if (i >= bucket_start_.size()) bucket_start_.resize(i + 1, 0);
    return bucket_start_[i];
}

uint32_t PiecePicker::key_of(uint32_t piece) const {
    const PieceInfo& pi = pieces_[piece];
    uint32_t rank = uint32_t(kMaxPriority - std::max<int>(pi.prio, 1));
    return rank * kAvailLevels + std::min<uint32_t>(pi.avail, kAvailLevels - 1);
}

void PiecePicker::order_insert(uint32_t piece) {
    uint32_t k = key_of(piece);
    uint32_t size = uint32_t(order_.size());
    if (k > top_key_) {
        for (uint32_t j = top_key_ + 1; j <= k; ++j) bucket_slot(j) = size;
        top_key_ = k;
    }
    order_.push_back(piece);
    // Open a hole at the end and walk it down to bucket k by moving the first
    // element of each higher bucket to that bucket's end.
    uint32_t hole = size;
    for (uint32_t j = top_key_; j > k; --j) {
        uint32_t s = bucket_slot(j);
        if (s != hole) {  // an empty bucket has s == hole: nothing to move
            order_[hole] = order_[s];
            pieces_[order_[hole]].pos = hole;
            hole = s;
        }
        bucket_slot(j) = s + 1;
    }
    order_[hole] = piece;
    pieces_[piece].pos = hole;
    low_key_ = std::min(low_key_, k);
}

void PiecePicker::order_remove(uint32_t piece) {
    uint32_t k = key_of(piece);
    uint32_t p = pieces_[piece].pos;
    uint32_t last = bucket_start(k + 1) - 1;
    std::swap(order_[p], order_[last]);
    pieces_[order_[p]].pos = p;
    uint32_t hole = last;
    for (uint32_t j = k + 1; j <= top_key_; ++j) {
        uint32_t e = bucket_start(j + 1) - 1;  // last element of bucket j
        if (e != hole) {  // an empty bucket has e == hole: nothing to move
            order_[hole] = order_[e];
            pieces_[order_[hole]].pos = hole;
            hole = e;
        }
        bucket_slot(j) -= 1;
    }
    order_.pop_back();
    pieces_[piece].pos = kNone;
    while (top_key_ > low_key_ && bucket_slot(top_key_) == order_.size()) --top_key_;
}

void PiecePicker::order_move_up(uint32_t piece, uint32_t k) {
    if (k + 1 > top_key_) {
        bucket_slot(k + 1) = uint32_t(order_.size());
        top_key_ = k + 1;
    }
    uint32_t p = pieces_[piece].pos;
    uint32_t last = bucket_slot(k + 1) - 1;
    std::swap(order_[p], order_[last]);
    pieces_[order_[p]].pos = p;
    pieces_[piece].pos = last;
    bucket_slot(k + 1) -= 1;
}

void PiecePicker::order_move_down(uint32_t piece, uint32_t k) {
    uint32_t p = pieces_[piece].pos;
    uint32_t first = bucket_slot(k);
    std::swap(order_[p], order_[first]);
    pieces_[order_[p]].pos = p;
    pieces_[piece].pos = first;
    bucket_slot(k) += 1;
    low_key_ = std::min(low_key_, k - 1);
    while (top_key_ > low_key_ && bucket_slot(top_key_) == order_.size()) --top_key_;
}

// Called after avail was incremented / decremented.
void PiecePicker::avail_changed_up(uint32_t piece) {
    const PieceInfo& pi = pieces_[piece];
    if (pi.pos == kNone || pi.avail >= kAvailLevels) return;  // key unchanged past the cap
    order_move_up(piece, key_of(piece) - 1);
}

void PiecePicker::avail_changed_down(uint32_t piece) {
    const PieceInfo& pi = pieces_[piece];
    if (pi.pos == kNone || pi.avail >= kAvailLevels - 1) return;
    order_move_down(piece, key_of(piece) + 1);
}

// ---- availability ----------------------------------------------------------

void PiecePicker::inc_availability(uint32_t piece) {
    if (piece >= num_pieces_) return;
    ++pieces_[piece].avail;
    avail_changed_up(piece);
}

void PiecePicker::dec_availability(uint32_t piece) {
    if (piece >= num_pieces_ || pieces_[piece].avail == 0) return;
    --pieces_[piece].avail;
    avail_changed_down(piece);
}

void PiecePicker::inc_availability(const Bitfield& peer_has) {
    uint32_t n = std::min(peer_has.size(), num_pieces_);
    const uint8_t* d = peer_has.data();
    for (uint32_t byte = 0; byte * 8 < n; ++byte) {
        if (!d[byte]) continue;
        for (uint32_t i = byte * 8; i < std::min(n, byte * 8 + 8); ++i) {
            if (peer_has.get(i)) inc_availability(i);
        }
    }
}

void PiecePicker::dec_availability(const Bitfield& peer_has) {
    uint32_t n = std::min(peer_has.size(), num_pieces_);
    const uint8_t* d = peer_has.data();
    for (uint32_t byte = 0; byte * 8 < n; ++byte) {
        if (!d[byte]) continue;
        for (uint32_t i = byte * 8; i < std::min(n, byte * 8 + 8); ++i) {
            if (peer_has.get(i)) dec_availability(i);
        }
    }
}

void PiecePicker::add_seed() { ++seeds_; }
void PiecePicker::remove_seed() {
    if (seeds_ > 0) --seeds_;
}

uint32_t PiecePicker::availability(uint32_t piece) const {
    return piece < num_pieces_ ? pieces_[piece].avail + seeds_ : 0;
}

// ---- our pieces --------------------------------------------------------------

void PiecePicker::set_have(uint32_t piece) { piece_passed(piece); }

bool PiecePicker::is_interesting(const Bitfield& peer_has) const {
    size_t n = std::min(peer_has.byte_size(), wanted_.byte_size());
    const uint8_t* a = peer_has.data();
    const uint8_t* b = wanted_.data();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        if (x & y) return true;
    }
    for (; i < n; ++i) {
        if (a[i] & b[i]) return true;
    }
    return false;
}

void PiecePicker::set_piece_priority(uint32_t piece, int prio) {
    if (piece >= num_pieces_) return;
    prio = std::clamp(prio, 0, kMaxPriority);
    PieceInfo& pi = pieces_[piece];
    if (pi.prio == prio) return;
    if (pi.pos != kNone) order_remove(piece);
    pi.prio = uint8_t(prio);
    wanted_.assign(piece, prio > 0 && !have_.get(piece));
    return_to_pool(piece);
}

// ---- partial pieces ------------------------------------------------------------

uint32_t PiecePicker::start_piece(uint32_t piece) {
    if (pieces_[piece].pos != kNone) order_remove(piece);
    uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = uint32_t(slots_.size());
        slots_.emplace_back();
    }
    Partial& s = slots_[slot];
    s.piece = piece;
    s.blocks.assign(blocks_in_piece(piece), Block{});
    s.num_free = uint32_t(s.blocks.size());
    s.num_received = 0;
    s.first_free = 0;
    s.active_pos = uint32_t(active_.size());
    active_.push_back(slot);
    s.open_pos = kNone;
    if (s.num_free > 0) open_add(slot);
    pieces_[piece].slot = slot;
    return slot;
}

void PiecePicker::release_piece(uint32_t piece) {
    uint32_t slot = pieces_[piece].slot;
    if (slot == kNone) return;
    Partial& s = slots_[slot];
    if (s.open_pos != kNone) open_remove(slot);
    uint32_t ap = s.active_pos;
    active_[ap] = active_.back();
    slots_[active_[ap]].active_pos = ap;
    active_.pop_back();
    s.active_pos = kNone;
    s.piece = kNone;
    free_slots_.push_back(slot);
    pieces_[piece].slot = kNone;
}

void PiecePicker::open_add(uint32_t slot) {
    slots_[slot].open_pos = uint32_t(open_.size());
    open_.push_back(slot);
}

void PiecePicker::open_remove(uint32_t slot) {
    uint32_t p = slots_[slot].open_pos;
    open_[p] = open_.back();
    slots_[open_[p]].open_pos = p;
    open_.pop_back();
    slots_[slot].open_pos = kNone;
}

void PiecePicker::return_to_pool(uint32_t piece) {
    PieceInfo& pi = pieces_[piece];
    if (pi.pos == kNone && pi.slot == kNone && wanted_.get(piece)) {
        order_insert(piece);
        seq_cursor_ = std::min(seq_cursor_, piece);
    }
}

// ---- picking -----------------------------------------------------------------------

size_t PiecePicker::take_blocks(uint32_t slot, size_t max_blocks, PeerKey peer, std::vector<BlockRef>& out) {
    Partial& s = slots_[slot];
    size_t got = 0;
    uint32_t i = s.first_free;
    uint32_t n = uint32_t(s.blocks.size());
    for (; i < n && got < max_blocks && s.num_free > 0; ++i) {
        Block& b = s.blocks[i];
        if (b.received || b.npeers != 0) continue;
        b.peers[0] = peer;
        b.npeers = 1;
        --s.num_free;
        out.push_back(BlockRef{s.piece, i});
        ++got;
    }
    s.first_free = i;
    if (s.num_free == 0 && s.open_pos != kNone) open_remove(slot);
    return got;
}

uint32_t PiecePicker::pick_from_peer_bits(const Bitfield& peer_has) {
    // For a peer with few pieces, walking its bits is cheaper than walking
    // order_ hoping to hit one of them.
    bool random_first = have_.count() < kRandomFirstPieces;
    uint32_t best = kNone, best_key = 0, ties = 0;
    size_t nbytes = std::min(peer_has.byte_size(), wanted_.byte_size());
    const uint8_t* a = peer_has.data();
    const uint8_t* w = wanted_.data();
    for (size_t i = 0; i < nbytes; ++i) {
        if (i + 8 <= nbytes && (i & 7) == 0) {
            uint64_t x, y;
            std::memcpy(&x, a + i, 8);
            std::memcpy(&y, w + i, 8);
            if (!(x & y)) {
                i += 7;
                continue;
            }
        }
        uint8_t m = a[i] & w[i];
        while (m) {
            int bit = __builtin_clz(uint32_t(m)) - 24;  // MSB first
            m = uint8_t(m & ~(0x80u >> bit));
            uint32_t piece = uint32_t(i * 8 + uint32_t(bit));
            if (pieces_[piece].pos == kNone) continue;  // in progress
            // Random first still goes by priority: only the level counts.
            uint32_t key = random_first ? key_of(piece) / kAvailLevels : key_of(piece);
            if (best == kNone || key < best_key) {
                best = piece;
                best_key = key;
                ties = 1;
            } else if (key == best_key) {
                ++ties;
                if (next_random() % ties == 0) best = piece;
            }
        }
    }
    return best;
}

uint32_t PiecePicker::pick_new_piece(const Bitfield& peer_has, bool seed) {
    if (order_.empty()) return kNone;
    if (sequential_) return pick_sequential(peer_has, seed);
    if (!seed && size_t(peer_has.count()) * 8 < order_.size()) return pick_from_peer_bits(peer_has);

    // Walking order_ is fast when the peer has a fair share of the pieces we
    // need; when it has few of them (say all its pieces are ones we have or
    // are downloading) the walk could cover everything.  After `budget`
    // misses, switch to walking the peer's bits, whose cost is bounded by
    // num_pieces/64 words plus the candidates.
    uint32_t budget = std::max<uint32_t>(64, num_pieces_ / 16);

    if (have_.count() < kRandomFirstPieces) {
        // Random first: a complete piece soon, to have something to trade;
        // among the highest priority's pieces (order_ starts with them).
        size_t n = bucket_start((key_of(order_.front()) / kAvailLevels + 1) * kAvailLevels);
        size_t start = size_t(next_random() % n);
        for (size_t i = 0; i < n; ++i) {
            size_t p = start + i;
            if (p >= n) p -= n;
            uint32_t piece = order_[p];
            if (seed || peer_has.get(piece)) return piece;
            if (--budget == 0) return pick_from_peer_bits(peer_has);
        }
        if (n == order_.size()) return kNone;
        // The peer has none of them: rarest first among the lower levels.
    }

    for (uint32_t k = low_key_; k <= top_key_; ++k) {
        uint32_t s = bucket_start(k), e = bucket_start(k + 1);
        if (s == e) {
            if (k == low_key_ && low_key_ < top_key_) ++low_key_;
            continue;
        }
        // Availability 0 (seeds aside): a non-seed peer cannot have these,
        // because its own bitfield is counted in availability.
        if (!seed && k % kAvailLevels == 0) continue;
        uint32_t len = e - s;
        uint32_t start = uint32_t(next_random() % len);
        for (uint32_t i = 0; i < len; ++i) {
            uint32_t p = start + i;
            if (p >= len) p -= len;
            uint32_t piece = order_[s + p];
            if (seed || peer_has.get(piece)) return piece;
            if (--budget == 0) return pick_from_peer_bits(peer_has);
        }
    }
    return kNone;
}

size_t PiecePicker::pick_endgame(const Bitfield& peer_has, size_t max_blocks, PeerKey peer,
                                 std::vector<BlockRef>& out) {
    bool seed = peer_has.all();
    size_t got = 0;
    size_t na = active_.size();
    if (na == 0) return 0;
    size_t start = size_t(next_random() % na);
    // Blocks with the fewest outstanding requests first.
    for (uint8_t dup = 1; dup < kMaxEndgameDuplicates && got < max_blocks; ++dup) {
        for (size_t j = 0; j < na && got < max_blocks; ++j) {
            size_t ai = start + j;
            if (ai >= na) ai -= na;
            Partial& s = slots_[active_[ai]];
            if (s.num_received == s.blocks.size()) continue;
            if (!seed && !peer_has.get(s.piece)) continue;
            for (uint32_t bi = 0; bi < s.blocks.size() && got < max_blocks; ++bi) {
                Block& b = s.blocks[bi];
                if (b.received || b.npeers != dup) continue;
                bool mine = false;
                for (uint8_t q = 0; q < b.npeers; ++q) mine |= b.peers[q] == peer;
                if (mine) continue;
                b.peers[b.npeers++] = peer;
                out.push_back(BlockRef{s.piece, bi});
                ++got;
            }
        }
    }
    return got;
}

size_t PiecePicker::pick(const Bitfield& peer_has, size_t max_blocks, PeerKey peer, std::vector<BlockRef>& out) {
    if (max_blocks == 0 || num_pieces_ == 0 || peer_has.size() != num_pieces_) return 0;
    bool seed = peer_has.all();
    size_t got = 0;

    // 1. partial pieces first.  From a seed only those at least as rare as
    // the rarest piece not yet started: a piece other peers have is left to
    // them (it was begun from one of them and lost its requests to a
    // choke), so a seed's upload goes to pieces the swarm lacks.  In a swarm
    // of rate-limited peers, finishing such pieces from the seed was a
    // quarter of everything the seed sent.
    uint32_t rarest_new = kNone;
    if (seed) {
        for (uint32_t k = low_key_; k <= top_key_ && !order_.empty(); ++k)
            if (bucket_start(k) != bucket_start(k + 1)) {
                rarest_new = k;
                break;
            }
    }
    for (size_t i = 0; i < open_.size() && got < max_blocks;) {
        uint32_t slot = open_[i];
        if (seed ? sequential_ || rarest_new == kNone || key_of(slots_[slot].piece) <= rarest_new
                 : peer_has.get(slots_[slot].piece)) {
            got += take_blocks(slot, max_blocks - got, peer, out);
            if (slots_[slot].open_pos == kNone) continue;  // swapped out: re-examine i
        }
        ++i;
    }
    // 2. new pieces, those that failed their hash check first.
    if (!retry_.empty() && got < max_blocks) got += pick_retry(peer_has, seed, max_blocks - got, peer, out);
    while (got < max_blocks) {
        uint32_t piece = pick_new_piece(peer_has, seed);
        if (piece == kNone) break;
        got += take_blocks(start_piece(piece), max_blocks - got, peer, out);
    }
    // 3. endgame.
    if (got < max_blocks && in_endgame()) got += pick_endgame(peer_has, max_blocks - got, peer, out);
    return got;
}

size_t PiecePicker::pick_retry(const Bitfield& peer_has, bool seed, size_t max_blocks, PeerKey peer,
                              std::vector<BlockRef>& out) {
    size_t got = 0;
    for (size_t i = 0; i < retry_.size() && got < max_blocks;) {
        const uint32_t piece = retry_[i];
        if (pieces_[piece].pos == kNone) {  // started, had or no longer wanted since
            retry_[i] = retry_.back();
            retry_.pop_back();
            continue;
        }
        if (seed || peer_has.get(piece)) {
            got += take_blocks(start_piece(piece), max_blocks - got, peer, out);
            retry_[i] = retry_.back();
            retry_.pop_back();
            continue;
        }
        ++i;
    }
    return got;
}

bool PiecePicker::in_endgame() const { return order_.empty() && open_.empty() && !active_.empty(); }

}  // namespace btl
