// Choker: which peers get upload slots.  Pure functions in the style of
// libtorrent's choker: the torrent collects a snapshot of its peers, calls
// choose_unchoked() every 10 s and pick_optimistic() every 30 s, and sends
// choke/unchoke for the differences.
//
// Downloading: the original BitTorrent tit-for-tat -- the `slots` interested,
// non-snubbed peers that upload to us fastest.
// Seeding: the interested peers we upload to fastest (libtorrent's "fastest
// upload" seeding choker): their links carry the most data, so the swarm
// gets the most bytes from our upload.  Rates are compared in 10 % steps
// (log scale), and within a step a peer that has held its slot for more than
// kSeedRotationMs goes after everyone else, so when rates are alike (e.g. at
// start, or a fast LAN of equal peers) slots rotate round-robin instead of
// sticking to the first peers forever.  Snubbing is meaningless when seeding.
// The optimistic peer, if given and interested, is unchoked in addition.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace btl {

struct ChokeCandidate {
    uint32_t id = 0;
    bool interested = false;
    bool snubbed = false;          // sent us nothing for a long time while we asked
    double rate_from_peer = 0;     // bytes/s they upload to us
    double rate_to_peer = 0;       // bytes/s we upload to them
    int64_t unchoked_at_ms = -1;   // when we unchoked them; -1 if choked
    int64_t connected_at_ms = 0;   // for the optimistic newcomer bonus
};

constexpr int64_t kSeedRotationMs = 60'000;

// Returns the ids to unchoke (everyone else is choked).  now_ms is used only
// by the seeding rotation; pass the current time.
std::vector<uint32_t> choose_unchoked(std::vector<ChokeCandidate> peers, size_t slots, bool seeding,
                                      std::optional<uint32_t> optimistic, int64_t now_ms = 0);

// An interested, choked peer not in already_unchoked, chosen at random using
// `random`.  Peers connected less than kNewcomerMs ago get 3x weight (they
// have nothing to trade yet and need a first piece).  nullopt when none.
constexpr int64_t kNewcomerMs = 60'000;
std::optional<uint32_t> pick_optimistic(const std::vector<ChokeCandidate>& peers,
                                        const std::vector<uint32_t>& already_unchoked, uint64_t random,
                                        int64_t now_ms = 0);

}  // namespace btl
