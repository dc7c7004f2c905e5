#include "btl/launcher/queue.hpp"

#include <cstring>
#include <iterator>

namespace btl {

size_t QueueOrder::Hash::operator()(const Sha1Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

void QueueOrder::set_key(const Sha1Digest& ih, int64_t key) {
    auto it = key_of_.find(ih);
    if (it != key_of_.end()) by_key_.erase(it->second);
    key_of_[ih] = key;
    by_key_[key] = ih;
    pos_dirty_ = true;
    ++version_;
}

int64_t QueueOrder::add(const Sha1Digest& ih, int64_t key) {
    if (auto it = key_of_.find(ih); it != key_of_.end()) return it->second;
    if (key < 0 || by_key_.count(key)) key = by_key_.empty() ? 0 : std::prev(by_key_.end())->first + 1;
    set_key(ih, key);
    return key;
}

void QueueOrder::remove(const Sha1Digest& ih) {
    auto it = key_of_.find(ih);
    if (it == key_of_.end()) return;
    by_key_.erase(it->second);
    key_of_.erase(it);
    pos_dirty_ = true;
    ++version_;
}

std::vector<std::pair<Sha1Digest, int64_t>> QueueOrder::move(const Sha1Digest& ih, QueueMove m) {
    std::vector<std::pair<Sha1Digest, int64_t>> changed;
    auto k = key_of_.find(ih);
    if (k == key_of_.end()) return changed;
    auto it = by_key_.find(k->second);
    switch (m) {
        case QueueMove::top:
            if (it == by_key_.begin()) return changed;
            changed.emplace_back(ih, by_key_.begin()->first - 1);
            break;
        case QueueMove::bottom:
            if (std::next(it) == by_key_.end()) return changed;
            changed.emplace_back(ih, std::prev(by_key_.end())->first + 1);
            break;
        case QueueMove::up:
        case QueueMove::down: {
            if (m == QueueMove::up && it == by_key_.begin()) return changed;
            auto other = m == QueueMove::up ? std::prev(it) : std::next(it);
            if (other == by_key_.end()) return changed;
            changed.emplace_back(ih, other->first);
            changed.emplace_back(other->second, it->first);
            break;
        }
    }
    // Both keys leave first, so a swap never collides with itself.
    for (auto& [h, key] : changed) by_key_.erase(key_of_[h]);
    for (auto& [h, key] : changed) {
        key_of_[h] = key;
        by_key_[key] = h;
    }
    pos_dirty_ = true;
    ++version_;
    return changed;
}

int64_t QueueOrder::position(const Sha1Digest& ih) const {
    if (pos_dirty_) {
        pos_.clear();
        int64_t i = 0;
        for (const auto& [key, h] : by_key_) pos_[h] = i++;
        pos_dirty_ = false;
    }
    auto it = pos_.find(ih);
    return it == pos_.end() ? -1 : it->second;
}

std::vector<bool> queue_decide(const std::vector<QueueItem>& items, QueueLimits lim) {
    std::vector<bool> run(items.size(), false);
    int downloads = 0, seeds = 0;
    for (size_t i = 0; i < items.size(); ++i) {
        const QueueItem& q = items[i];
        if (q.want == QueueItem::Want::nothing) {
            run[i] = q.running;  // not the queue's to hold (paused, checking, finished)
            continue;
        }
        const bool seed = q.want == QueueItem::Want::seed;
        int& used = seed ? seeds : downloads;
        const int max = seed ? lim.max_seeds : lim.max_downloads;
        if (!seed && q.running && q.stalled) {
            run[i] = true;  // keeps its slot in the swarm, not in the count
            continue;
        }
        if (max <= 0 || used < max) {
            run[i] = true;
            ++used;
        }
    }
    return run;
}

}  // namespace btl
