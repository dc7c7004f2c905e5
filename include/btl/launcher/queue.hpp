// The download/seed queue of btlaunchmany, pure (unit-tested): the order of
// the torrents (QueueOrder) and which of them may run (queue_decide).
//
// Order: each torrent has a key, kept in its resume data; the queue is the
// torrents sorted by key.  A new torrent goes last (time added); moves
// change only the keys of the torrents they touch (top: below the first
// key; up/down: a swap with the neighbour; bottom: above the last), so a
// move saves one or two torrents' resume data, never the whole queue's.
//
// Decision: in queue order, the first --max_active_downloads torrents that
// want to download run, and likewise the first --max_active_seeds that want
// to seed (0 = no limit).  A running download stalled (no payload) for
// --queue_stalled_minutes keeps running but no longer counts, so the next
// one starts.  Paused, finished, checking and failed torrents want nothing
// and take no slot.
#pragma once
#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "btl/base/sha1.hpp"

namespace btl {

enum class QueueMove { top, up, down, bottom };

class QueueOrder {
public:
    // Adds `ih` at its saved key, or last when it has none (-1) or the key is
    // taken.  Returns the key it got (save it when it differs from `key`).
    int64_t add(const Sha1Digest& ih, int64_t key);
    void remove(const Sha1Digest& ih);
    bool contains(const Sha1Digest& ih) const { return key_of_.count(ih) > 0; }
    // Moves `ih`; returns the torrents whose keys changed, with their new
    // keys (empty when it is absent or already there).
    std::vector<std::pair<Sha1Digest, int64_t>> move(const Sha1Digest& ih, QueueMove m);
    // 0-based place in the queue, -1 when absent.  O(1) after the first call
    // following a change (positions are recomputed once per change).
    int64_t position(const Sha1Digest& ih) const;
    // key -> info-hash, in queue order.
    const std::map<int64_t, Sha1Digest>& order() const { return by_key_; }
    size_t size() const { return by_key_.size(); }
    // Moves on every change of the order or its members (not on reads), so
    // a caller may keep per-position data until it moves.
    uint64_t version() const { return version_; }

private:
    struct Hash {
        size_t operator()(const Sha1Digest& d) const;
    };
    std::map<int64_t, Sha1Digest> by_key_;
    std::unordered_map<Sha1Digest, int64_t, Hash> key_of_;
    mutable std::unordered_map<Sha1Digest, int64_t, Hash> pos_;
    mutable bool pos_dirty_ = true;
    uint64_t version_ = 0;
    void set_key(const Sha1Digest& ih, int64_t key);
};

struct QueueItem {
    enum class Want { nothing, download, seed };
    Want want = Want::nothing;
    bool running = false;  // not held in the queue now
    bool stalled = false;  // running, and no payload for the stalled time
};

struct QueueLimits {
    int max_downloads = 5;  // 0 = no limit
    int max_seeds = 0;      // 0 = no limit
};

// items in queue order; true = may run.
std::vector<bool> queue_decide(const std::vector<QueueItem>& items, QueueLimits lim);

}  // namespace btl
