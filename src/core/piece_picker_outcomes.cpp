// PiecePicker outcomes: a block received, a request given up, a piece that
// passed or failed its hash check, and what a block's state is.
#include "btl/core/piece_picker.hpp"

#include <algorithm>

namespace btl {

PiecePicker::Received PiecePicker::mark_received(BlockRef br, PeerKey from) {
    Received r;
    if (br.piece >= num_pieces_) return r;
    uint32_t slot = pieces_[br.piece].slot;
    if (slot == kNone) return r;
    Partial& s = slots_[slot];
    if (br.block >= s.blocks.size()) return r;
    Block& b = s.blocks[br.block];
    if (b.received || b.npeers == 0) return r;
    r.accepted = true;
    for (uint8_t q = 0; q < b.npeers; ++q) {
        if (b.peers[q] != from) r.cancel.push_back(b.peers[q]);
    }
    b.npeers = 0;
    b.received = true;
    b.from = from;
    ++s.num_received;
    r.piece_complete = s.num_received == s.blocks.size();
    return r;
}

void PiecePicker::abort_request(BlockRef br, PeerKey peer) {
    if (br.piece >= num_pieces_) return;
    uint32_t slot = pieces_[br.piece].slot;
    if (slot == kNone) return;
    Partial& s = slots_[slot];
    if (br.block >= s.blocks.size()) return;
    Block& b = s.blocks[br.block];
    if (b.received) return;
    uint8_t q = 0;
    while (q < b.npeers && b.peers[q] != peer) ++q;
    if (q == b.npeers) return;
    for (; q + 1 < b.npeers; ++q) b.peers[q] = b.peers[q + 1];
    --b.npeers;
    if (b.npeers > 0) return;
    ++s.num_free;
    s.first_free = std::min(s.first_free, br.block);
    if (s.open_pos == kNone) open_add(slot);
    if (s.num_free == s.blocks.size()) {
        // Nothing requested or received any more: back to not-started, so
        // rarest-first applies to it again and its block state is freed.
        uint32_t piece = br.piece;
        release_piece(piece);
        return_to_pool(piece);
    }
}

void PiecePicker::piece_passed(uint32_t piece) {
    if (piece >= num_pieces_) return;
    release_piece(piece);
    if (pieces_[piece].pos != kNone) order_remove(piece);
    have_.set(piece);
    wanted_.clear(piece);
}

std::vector<PeerKey> PiecePicker::piece_failed(uint32_t piece) {
    std::vector<PeerKey> peers;
    if (piece >= num_pieces_) return peers;
    uint32_t slot = pieces_[piece].slot;
    if (slot != kNone) {
        for (const Block& b : slots_[slot].blocks) {
            if (b.received && std::find(peers.begin(), peers.end(), b.from) == peers.end()) peers.push_back(b.from);
        }
        release_piece(piece);
    }
    if (have_.get(piece)) have_.clear(piece);
    wanted_.assign(piece, pieces_[piece].prio > 0);
    return_to_pool(piece);
    // Asked for again before new pieces start: what was spent on it is not
    // left for the end, and smart ban learns who lied as soon as it passes.
    if (pieces_[piece].pos != kNone && std::find(retry_.begin(), retry_.end(), piece) == retry_.end())
        retry_.push_back(piece);
    return peers;
}

size_t PiecePicker::outstanding(BlockRef br) const {
    if (br.piece >= num_pieces_) return 0;
    uint32_t slot = pieces_[br.piece].slot;
    if (slot == kNone) return 0;
    const Partial& s = slots_[slot];
    return br.block < s.blocks.size() ? s.blocks[br.block].npeers : 0;
}

bool PiecePicker::is_received(BlockRef br) const {
    if (br.piece >= num_pieces_) return false;
    if (have_.get(br.piece)) return true;
    uint32_t slot = pieces_[br.piece].slot;
    if (slot == kNone) return false;
    const Partial& s = slots_[slot];
    return br.block < s.blocks.size() && s.blocks[br.block].received;
}

}  // namespace btl
