#include "btl/core/turn_queue.hpp"

#include <algorithm>

namespace btl {

uint64_t TurnQueue::request(const std::string& key) {
    uint64_t id = next_id_++;
    turns_.emplace(id, Turn{key, false});
    Key& k = keys_[key];
    k.waiting.push_back(id);
    ++k.live;
    ++waiting_total_;
    if (k.running < limit_) ready_keys_.push_back(key);
    return id;
}

void TurnQueue::release(uint64_t id) {
    auto it = turns_.find(id);
    if (it == turns_.end()) return;
    auto kit = keys_.find(it->second.key);
    if (it->second.running) {
        --kit->second.running;
        if (!kit->second.waiting.empty()) ready_keys_.push_back(kit->first);
    } else {
        --kit->second.live;  // its id stays in the deque and is skipped there
        --waiting_total_;
    }
    turns_.erase(it);
    if (kit->second.running == 0 && kit->second.live == 0) keys_.erase(kit);
}

std::vector<uint64_t> TurnQueue::grant() {
    std::vector<uint64_t> out;
    auto keys = std::move(ready_keys_);
    ready_keys_.clear();
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const auto& name : keys) {
        auto kit = keys_.find(name);
        if (kit == keys_.end()) continue;
        Key& k = kit->second;
        while (k.running < limit_ && !k.waiting.empty()) {
            uint64_t id = k.waiting.front();
            k.waiting.pop_front();
            auto t = turns_.find(id);
            if (t == turns_.end()) continue;  // released while waiting
            t->second.running = true;
            ++k.running;
            --k.live;
            --waiting_total_;
            out.push_back(id);
        }
        if (k.running == 0 && k.live == 0) keys_.erase(kit);
    }
    std::sort(out.begin(), out.end());  // request order across keys too
    return out;
}

size_t TurnQueue::running(const std::string& key) const {
    auto it = keys_.find(key);
    return it == keys_.end() ? 0 : it->second.running;
}

std::string tracker_key(const std::string& url) {
    size_t scheme = url.find("://");
    size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    size_t end = url.find_first_of("/?#", start);
    return url.substr(0, end == std::string::npos ? url.size() : end);
}

}  // namespace btl
