// SuperSeed: which piece a super-seeding seed (BEP 16) reveals to which peer.
// Pure: the torrent reports what each peer has and the time; reveals() says
// which `have` messages to send.  The torrent sends have_none (or nothing)
// instead of its bitfield, so peers can only ask for revealed pieces.
//
// Policy:
//   - each peer holds at most `reveals_per_peer` revealed pieces at a time;
//   - the piece revealed is one the peer lacks with the fewest copies in or
//     on their way into the swarm (peers that have it + peers it is revealed
//     to and who do not have it yet), ties broken by a fixed random order,
//     so every piece goes out once before any goes out twice;
//   - a revealed piece is released (making room for the next one) when the
//     peer has it and either another peer has it too (the peer passed it
//     on, or the swarm has it anyway), or no other peer lacks it (nobody to
//     pass it to), or confirm_timeout_ms passed since the peer got it; or,
//     if the peer never gets it, stall_timeout_ms after the reveal.
// Cost: a reveal is O(log P) plus the pieces skipped because the peer has
// them; reveals() visits every peer's (at most reveals_per_peer) entries.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "btl/core/bitfield.hpp"

namespace btl {

class SuperSeed {
public:
    struct Config {
        uint32_t reveals_per_peer = 2;
        int64_t confirm_timeout_ms = 20'000;
        int64_t stall_timeout_ms = 60'000;
    };
    using Key = uint32_t;

    SuperSeed(uint32_t num_pieces, uint64_t seed);
    SuperSeed(uint32_t num_pieces, uint64_t seed, Config c);

    // A peer joins (before its first have) / leaves.
    void add_peer(Key k, int64_t now_ms);
    void remove_peer(Key k);
    bool has_peer(Key k) const { return peers_.count(k) > 0; }
    // The peer has the piece (a have, or one bit of its bitfield).
    void peer_has(Key k, uint32_t piece, int64_t now_ms);

    // Pieces to reveal now, as (peer, piece); each is recorded as revealed.
    std::vector<std::pair<Key, uint32_t>> reveals(int64_t now_ms);

    // For tests and status.
    uint32_t copies(uint32_t piece) const { return have_[piece] + pending_[piece]; }
    uint32_t times_revealed(uint32_t piece) const { return revealed_total_[piece]; }
    std::vector<uint32_t> revealed_to(Key k) const;

private:
    struct Reveal {
        uint32_t piece;
        int64_t at_ms;
        int64_t had_ms = -1;  // when the peer announced it; -1 = not yet
    };
    struct PeerState {
        Bitfield has;
        Bitfield told;  // pieces we sent `have` for: never revealed twice to one peer
        std::vector<Reveal> open;
    };
    uint64_t order_key(uint32_t piece) const { return (uint64_t(copies(piece)) << 32) | tie_[piece]; }
    void set_copies(uint32_t piece, uint32_t have, uint32_t pending);
    bool released(Key k, const PeerState& ps, const Reveal& r, int64_t now) const;
    bool pick(Key k, PeerState& ps, int64_t now);

    uint32_t n_;
    Config cfg_;
    std::vector<uint32_t> have_, pending_, revealed_total_, tie_;
    std::set<std::pair<uint64_t, uint32_t>> order_;  // (copies << 32 | tie, piece)
    std::map<Key, PeerState> peers_;
};

}  // namespace btl
