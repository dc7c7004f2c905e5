// PiecePicker::check_invariants(): the consistency of the picker's indexes
// (buckets, order, partial slots, counts), for the tests and the fuzzers.
#include "btl/core/piece_picker.hpp"

#include <algorithm>

namespace btl {

bool PiecePicker::check_invariants() const {
    if (bucket_start(0) != 0) return false;
    for (uint32_t k = 0; k <= top_key_; ++k) {
        uint32_t s = bucket_start(k), e = bucket_start(k + 1);
        if (s > e || e > order_.size()) return false;
        if (k < low_key_ && s != e) return false;
        for (uint32_t i = s; i < e; ++i) {
            if (key_of(order_[i]) != k || pieces_[order_[i]].pos != i) return false;
        }
    }
    if (bucket_start(top_key_ + 1) != order_.size()) return false;
    size_t in_order = 0;
    for (uint32_t p = 0; p < num_pieces_; ++p) {
        const PieceInfo& pi = pieces_[p];
        bool want = !have_.get(p) && pi.prio > 0;
        if (wanted_.get(p) != want) return false;
        if (pi.pos != kNone) {
            ++in_order;
            if (p < seq_cursor_) return false;  // the sequential cursor skipped it
            if (!want || pi.slot != kNone) return false;
        } else if (want && pi.slot == kNone) {
            return false;
        }
        if (pi.slot != kNone && (have_.get(p) || slots_[pi.slot].piece != p)) return false;
    }
    if (in_order != order_.size()) return false;
    for (size_t i = 0; i < active_.size(); ++i) {
        const Partial& s = slots_[active_[i]];
        if (s.active_pos != i || pieces_[s.piece].slot != active_[i]) return false;
        uint32_t nfree = 0, nrecv = 0;
        for (uint32_t b = 0; b < s.blocks.size(); ++b) {
            const Block& bl = s.blocks[b];
            if (bl.received && bl.npeers) return false;
            if (bl.received) ++nrecv;
            if (!bl.received && bl.npeers == 0) {
                ++nfree;
                if (b < s.first_free) return false;
            }
            for (uint8_t x = 0; x < bl.npeers; ++x)
                for (uint8_t y = x + 1; y < bl.npeers; ++y)
                    if (bl.peers[x] == bl.peers[y]) return false;
        }
        if (nfree != s.num_free || nrecv != s.num_received) return false;
        if ((s.open_pos != kNone) != (nfree > 0)) return false;
        if (s.open_pos != kNone && open_[s.open_pos] != active_[i]) return false;
        if (nfree == s.blocks.size()) return false;  // should have been released
    }
    return true;
}

}  // namespace btl
