#include "btl/core/choker.hpp"

#include <algorithm>
#include <cmath>

namespace btl {

namespace {

// Rates in 10 % steps so near-equal peers compare equal and the rotation
// tie-break can act; the order stays a strict weak ordering.
int64_t rate_step(double rate) {
    if (!(rate >= 1.0)) return -1;  // also catches NaN
    return int64_t(std::floor(std::log(rate) / std::log(1.1)));
}

bool unchoked(const ChokeCandidate& c) { return c.unchoked_at_ms >= 0; }

}  // namespace

std::vector<uint32_t> choose_unchoked(std::vector<ChokeCandidate> peers, size_t slots, bool seeding,
                                      std::optional<uint32_t> optimistic, int64_t now_ms) {
    std::vector<ChokeCandidate> cand;
    cand.reserve(peers.size());
    for (const auto& p : peers) {
        if (!p.interested) continue;
        if (!seeding && p.snubbed) continue;  // a snubbed peer only gets optimistic unchokes
        cand.push_back(p);
    }
    if (seeding) {
        auto stale = [&](const ChokeCandidate& c) { return unchoked(c) && now_ms - c.unchoked_at_ms > kSeedRotationMs; };
        std::sort(cand.begin(), cand.end(), [&](const ChokeCandidate& a, const ChokeCandidate& b) {
            int64_t ra = rate_step(a.rate_to_peer), rb = rate_step(b.rate_to_peer);
            if (ra != rb) return ra > rb;
            bool sa = stale(a), sb = stale(b);
            if (sa != sb) return !sa;
            // Among fresh peers keep current holders (no churn); among
            // stale ones, the longest holder goes first.
            if (unchoked(a) != unchoked(b)) return unchoked(a);
            if (unchoked(a) && a.unchoked_at_ms != b.unchoked_at_ms) return a.unchoked_at_ms > b.unchoked_at_ms;
            return a.id < b.id;
        });
    } else {
        std::sort(cand.begin(), cand.end(), [](const ChokeCandidate& a, const ChokeCandidate& b) {
            if (a.rate_from_peer != b.rate_from_peer) return a.rate_from_peer > b.rate_from_peer;
            if (unchoked(a) != unchoked(b)) return unchoked(a);  // stability on ties
            return a.id < b.id;
        });
    }
    std::vector<uint32_t> out;
    for (size_t i = 0; i < cand.size() && out.size() < slots; ++i) out.push_back(cand[i].id);
    if (optimistic) {
        bool ok = std::any_of(peers.begin(), peers.end(),
                              [&](const ChokeCandidate& c) { return c.id == *optimistic && c.interested; });
        if (ok && std::find(out.begin(), out.end(), *optimistic) == out.end()) out.push_back(*optimistic);
    }
    return out;
}

std::optional<uint32_t> pick_optimistic(const std::vector<ChokeCandidate>& peers,
                                        const std::vector<uint32_t>& already_unchoked, uint64_t random,
                                        int64_t now_ms) {
    auto eligible = [&](const ChokeCandidate& c) {
        return c.interested && !unchoked(c) &&
               std::find(already_unchoked.begin(), already_unchoked.end(), c.id) == already_unchoked.end();
    };
    auto weight = [&](const ChokeCandidate& c) -> uint64_t {
        return now_ms - c.connected_at_ms < kNewcomerMs ? 3 : 1;
    };
    uint64_t total = 0;
    for (const auto& c : peers)
        if (eligible(c)) total += weight(c);
    if (total == 0) return std::nullopt;
    uint64_t r = random % total;
    for (const auto& c : peers) {
        if (!eligible(c)) continue;
        uint64_t w = weight(c);
        if (r < w) return c.id;
        r -= w;
    }
    return std::nullopt;
}

}  // namespace btl
