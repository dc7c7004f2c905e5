// SeedUploads: which requests a seed serves first.  While leechers lack
// pieces nobody but the seed has, the seed's upload is the only way those
// pieces enter the swarm; every byte of it spent on a piece that already
// went out delays the last new piece.  So a seed serves "fresh" requests
// first (Peer::serve_one) and the rest only with the tokens left over.
//
// Per piece it counts the payload sent and remembers the peer the first
// block went to (the piece's owner).  A request is fresh while less than a
// piece's worth went out and it comes from the owner, or nobody started the
// piece.  Two leechers that picked the same new piece (each sees it as the
// rarest; neither sees the other's requests) therefore no longer get half of
// it each, both unable to finish or pass it on: the first gets it whole and
// relays it, the other's requests wait (and our leechers cancel them when a
// peer announces the piece: Torrent::move_off_seeds).  When the owner goes
// away before the piece was sent whole, the piece is open again.
//
// Memory: 8 bytes per piece, allocated at the first upload.
// Pure; loop thread only.
#pragma once
#include <cstdint>
#include <vector>

namespace btl {

class SeedUploads {
public:
    static constexpr uint32_t kNobody = 0;  // peer keys start at 1

    // piece_size(i) of the torrent: piece_length except the last piece.
    SeedUploads(uint32_t num_pieces, int64_t piece_length, int64_t total_length);

    // A request for `piece` from `peer` is served before all others.
    [[nodiscard]] bool fresh(uint32_t piece, uint32_t peer) const;
    // Less than a whole copy of `piece` went out (to anyone): such requests
    // go next, before duplicates.  A leecher that cancels nothing (other
    // clients) would otherwise wait at the seed for a piece it picked at
    // the same time as another.
    [[nodiscard]] bool unsent(uint32_t piece) const;
    // `bytes` of `piece` went out to `peer`.
    void sent(uint32_t piece, uint32_t bytes, uint32_t peer);
    // The peer is gone: pieces it owned and did not get whole are open.
    void peer_gone(uint32_t peer);
    // Pieces of which a whole copy went out.
    [[nodiscard]] uint32_t pieces_sent() const { return pieces_sent_; }

private:
    int64_t piece_size(uint32_t piece) const;
    uint32_t num_pieces_;
    int64_t piece_length_;
    int64_t total_length_;
    std::vector<uint32_t> sent_;   // payload bytes sent, saturating
    std::vector<uint32_t> owner_;  // kNobody until the first block went out
    uint32_t pieces_sent_ = 0;
};

}  // namespace btl
