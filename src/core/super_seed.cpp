#include "btl/core/super_seed.hpp"

#include <numeric>

namespace btl {

SuperSeed::SuperSeed(uint32_t num_pieces, uint64_t seed) : SuperSeed(num_pieces, seed, Config{}) {}

SuperSeed::SuperSeed(uint32_t num_pieces, uint64_t seed, Config c)
    : n_(num_pieces),
      cfg_(c),
      have_(num_pieces, 0),
      pending_(num_pieces, 0),
      revealed_total_(num_pieces, 0),
      tie_(num_pieces) {
    if (cfg_.reveals_per_peer == 0) cfg_.reveals_per_peer = 1;
    // A random permutation as the tie-break: peers starting together get
    // different pieces, and two seeds of one torrent do not reveal in the
    // same order.
    std::iota(tie_.begin(), tie_.end(), 0u);
    uint64_t x = seed | 1;
    for (uint32_t i = n_; i > 1; --i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::swap(tie_[i - 1], tie_[uint32_t(x % i)]);
    }
    for (uint32_t p = 0; p < n_; ++p) order_.emplace(order_key(p), p);
}

void SuperSeed::set_copies(uint32_t piece, uint32_t have, uint32_t pending) {
    order_.erase({order_key(piece), piece});
    have_[piece] = have;
    pending_[piece] = pending;
    order_.emplace(order_key(piece), piece);
}

void SuperSeed::add_peer(Key k, int64_t) {
    if (peers_.count(k)) return;
    peers_[k].has = Bitfield(n_);
    peers_[k].told = Bitfield(n_);
}

void SuperSeed::remove_peer(Key k) {
    auto it = peers_.find(k);
    if (it == peers_.end()) return;
    PeerState& ps = it->second;
    for (const Reveal& r : ps.open)
        if (r.had_ms < 0) set_copies(r.piece, have_[r.piece], pending_[r.piece] - 1);
    for (uint32_t p = 0; p < n_ && ps.has.count() > 0; ++p)
        if (ps.has.get(p)) {
            ps.has.clear(p);
            set_copies(p, have_[p] - 1, pending_[p]);
        }
    peers_.erase(it);
}

void SuperSeed::peer_has(Key k, uint32_t piece, int64_t now) {
    auto it = peers_.find(k);
    if (it == peers_.end() || piece >= n_) return;
    PeerState& ps = it->second;
    if (ps.has.get(piece)) return;
    ps.has.set(piece);
    uint32_t pending = pending_[piece];
    for (Reveal& r : ps.open)
        if (r.piece == piece && r.had_ms < 0) {
            r.had_ms = now;
            --pending;  // on its way -> arrived
        }
    set_copies(piece, have_[piece] + 1, pending);
}

std::vector<uint32_t> SuperSeed::revealed_to(Key k) const {
    std::vector<uint32_t> out;
    auto it = peers_.find(k);
    if (it != peers_.end())
        for (const Reveal& r : it->second.open) out.push_back(r.piece);
    return out;
}

bool SuperSeed::released(Key, const PeerState&, const Reveal& r, int64_t now) const {
    if (r.had_ms < 0) return now - r.at_ms >= cfg_.stall_timeout_ms;
    // The peer has it.  Someone else has it too, or nobody else could use it.
    if (have_[r.piece] >= 2) return true;
    if (have_[r.piece] >= peers_.size()) return true;
    return now - r.had_ms >= cfg_.confirm_timeout_ms;
}

bool SuperSeed::pick(Key, PeerState& ps, int64_t now) {
    for (const auto& [key, p] : order_) {
        if (ps.has.get(p) || ps.told.get(p)) continue;
        ps.told.set(p);
        ps.open.push_back({p, now});
        ++revealed_total_[p];
        set_copies(p, have_[p], pending_[p] + 1);
        return true;
    }
    return false;
}

std::vector<std::pair<SuperSeed::Key, uint32_t>> SuperSeed::reveals(int64_t now) {
    std::vector<std::pair<Key, uint32_t>> out;
    for (auto& [k, ps] : peers_) {
        auto& open = ps.open;
        for (size_t i = 0; i < open.size();) {
            if (released(k, ps, open[i], now)) {
                if (open[i].had_ms < 0) set_copies(open[i].piece, have_[open[i].piece], pending_[open[i].piece] - 1);
                open.erase(open.begin() + long(i));
            } else {
                ++i;
            }
        }
        while (open.size() < cfg_.reveals_per_peer && ps.has.count() < n_) {
            if (!pick(k, ps, now)) break;
            out.emplace_back(k, open.back().piece);
        }
    }
    return out;
}

}  // namespace btl
