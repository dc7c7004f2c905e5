#include "btl/core/seed_uploads.hpp"

#include <algorithm>

namespace btl {

SeedUploads::SeedUploads(uint32_t num_pieces, int64_t piece_length, int64_t total_length)
    : num_pieces_(num_pieces), piece_length_(piece_length), total_length_(total_length) {}

int64_t SeedUploads::piece_size(uint32_t piece) const {
    return std::min(piece_length_, total_length_ - int64_t(piece) * piece_length_);
}

bool SeedUploads::fresh(uint32_t piece, uint32_t peer) const {
    if (piece >= num_pieces_) return false;
    if (sent_.empty()) return true;  // nothing went out yet
    if (int64_t(sent_[piece]) >= piece_size(piece)) return false;
    return owner_[piece] == kNobody || owner_[piece] == peer;
}

bool SeedUploads::unsent(uint32_t piece) const {
    if (piece >= num_pieces_) return false;
    return sent_.empty() || int64_t(sent_[piece]) < piece_size(piece);
}

void SeedUploads::sent(uint32_t piece, uint32_t bytes, uint32_t peer) {
    if (piece >= num_pieces_) return;
    if (sent_.empty()) {
        sent_.assign(num_pieces_, 0);
        owner_.assign(num_pieces_, kNobody);
    }
    const int64_t size = piece_size(piece);
    const bool was_whole = int64_t(sent_[piece]) >= size;
    if (owner_[piece] == kNobody) owner_[piece] = peer;
    sent_[piece] = uint32_t(std::min<int64_t>(int64_t(sent_[piece]) + bytes, UINT32_MAX));
    if (!was_whole && int64_t(sent_[piece]) >= size) ++pieces_sent_;
}

void SeedUploads::peer_gone(uint32_t peer) {
    if (peer == kNobody) return;
    for (uint32_t i = 0; i < owner_.size(); ++i) {
        if (owner_[i] != peer || int64_t(sent_[i]) >= piece_size(i)) continue;
        owner_[i] = kNobody;
        sent_[i] = 0;  // what it got of the piece is lost to the swarm
    }
}

}  // namespace btl
