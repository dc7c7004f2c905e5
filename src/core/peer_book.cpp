#include "btl/core/peer_book.hpp"

#include <algorithm>
#include <vector>

namespace btl {

int64_t PeerBook::backoff(int failures) const {
    if (failures <= 0) return 0;
    int64_t wait = policy_.first_retry_ms;
    for (int i = 1; i < failures && wait < policy_.max_retry_ms; ++i) wait *= 2;
    return std::min(wait, policy_.max_retry_ms);
}

void PeerBook::enqueue(const std::string& addr, Entry& e, int64_t due_ms) {
    dequeue(addr, e);
    e.state = State::idle;
    e.due_ms = due_ms;
    queue_.emplace(due_ms, addr);
}

void PeerBook::dequeue(const std::string& addr, Entry& e) {
    if (e.state == State::idle) queue_.erase({e.due_ms, addr});
}

void PeerBook::erase(const std::string& addr) {
    auto it = entries_.find(addr);
    if (it == entries_.end()) return;
    dequeue(addr, it->second);
    entries_.erase(it);
}

uint8_t PeerBook::sources(const std::string& addr) const {
    auto it = entries_.find(addr);
    return it == entries_.end() ? 0 : it->second.sources;
}

const char* peer_source_name(PeerSource s) {
    switch (s) {
        case PeerSource::tracker: return "tracker";
        case PeerSource::dht: return "dht";
        case PeerSource::pex: return "pex";
        case PeerSource::lsd: return "lsd";
    }
    return "tracker";
}

bool PeerBook::offered(const PeerEndpoint& ep, int64_t now, PeerSource src) {
    std::string addr = ep.to_string();
    auto [it, fresh] = entries_.try_emplace(addr);
    Entry& e = it->second;
    e.last_seen_ms = now;
    e.sources |= uint8_t(src);
    if (fresh) {
        e.ep = ep;
        e.source = src;
        e.seq = next_seq_++;
        enqueue(addr, e, now);
        if (entries_.size() > policy_.max_entries) prune(now);
        return entries_.count(addr) > 0;
    }
    if (e.state != State::idle) return false;
    // The source says it is there: whatever failed before, try it now.
    e.failures = 0;
    if (e.due_ms > now) enqueue(addr, e, now);
    return true;
}

std::optional<PeerEndpoint> PeerBook::next_eligible(int64_t now) {
    if (queue_.empty() || queue_.begin()->first > now) return std::nullopt;
    std::string addr = queue_.begin()->second;
    queue_.erase(queue_.begin());
    Entry& e = entries_.at(addr);
    e.state = State::dialling;
    e.last_attempt_ms = now;
    return e.ep;
}

void PeerBook::connected(const std::string& addr, int64_t now) {
    auto it = entries_.find(addr);
    if (it == entries_.end() || it->second.state == State::banned) return;
    dequeue(addr, it->second);
    it->second.state = State::connected;
    it->second.connected_ms = now;
    it->second.last_seen_ms = now;
}

void PeerBook::closed(const std::string& addr, int64_t now, bool our_choice) {
    auto it = entries_.find(addr);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    if (e.state == State::banned || e.state == State::held) return;
    const bool useful = e.state == State::connected && now - e.connected_ms >= kUsefulMs;
    if (e.state == State::connected) e.last_seen_ms = now;
    e.connected_ms = -1;
    // A good connection that ended (a seed restarting) is retried soon; one
    // that fails again and again waits longer and longer.
    if (our_choice) {
        e.failures = 0;
        return enqueue(addr, e, now);
    }
    e.failures = useful ? 1 : e.failures + 1;
    enqueue(addr, e, now + backoff(e.failures));
}

void PeerBook::hold(const std::string& addr, int64_t now) {
    auto it = entries_.find(addr);
    if (it == entries_.end() || it->second.state == State::banned) return;
    dequeue(addr, it->second);
    it->second.state = State::held;
    it->second.connected_ms = -1;
    it->second.last_seen_ms = now;
}

void PeerBook::release(const std::string& addr, int64_t now) {
    auto it = entries_.find(addr);
    if (it == entries_.end() || it->second.state != State::held) return;
    it->second.failures = 0;
    it->second.last_seen_ms = now;
    enqueue(addr, it->second, now);
}

void PeerBook::ban(const std::string& addr) {
    auto it = entries_.find(addr);
    if (it == entries_.end()) return;
    dequeue(addr, it->second);
    it->second.state = State::banned;
}

void PeerBook::make_all_eligible(int64_t now) {
    std::vector<std::string> later;
    for (auto it = queue_.lower_bound({now + 1, std::string()}); it != queue_.end(); ++it) later.push_back(it->second);
    for (const auto& addr : later) enqueue(addr, entries_.at(addr), now);
    for (auto& [addr, e] : entries_)
        if (e.state == State::idle) e.failures = 0;
}

void PeerBook::prune(int64_t now) {
    struct Idle {
        bool keep_first;  // neither banned nor failed: such addresses go last
        int64_t last_seen;
        uint64_t newer;   // among equals, the newest offer goes first
        const std::string* addr;
        bool operator<(const Idle& o) const {
            if (keep_first != o.keep_first) return !keep_first;
            if (last_seen != o.last_seen) return last_seen < o.last_seen;
            return newer > o.newer;
        }
    };
    std::vector<std::string> stale;
    std::vector<Idle> idle;
    for (const auto& [addr, e] : entries_) {
        if (e.state != State::idle && e.state != State::banned) continue;
        if (now - e.last_seen_ms >= policy_.forget_after_ms) stale.push_back(addr);
        else idle.push_back({e.state == State::idle && e.failures == 0, e.last_seen_ms, e.seq, &addr});
    }
    for (const auto& a : stale) erase(a);
    // Still past the cap: down to 90% of it so the next offers do not sort
    // everything again at once.
    if (entries_.size() <= policy_.max_entries) return;
    const size_t target = policy_.max_entries - policy_.max_entries / 10;
    std::sort(idle.begin(), idle.end());
    std::vector<std::string> drop;
    for (size_t i = 0; i < idle.size() && entries_.size() - drop.size() > target; ++i) drop.push_back(*idle[i].addr);
    for (const auto& a : drop) erase(a);
}

std::optional<int64_t> PeerBook::next_due() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first;
}

std::optional<PeerBook::State> PeerBook::state(const std::string& addr) const {
    auto it = entries_.find(addr);
    if (it == entries_.end()) return std::nullopt;
    return it->second.state;
}

PeerSource PeerBook::source(const std::string& addr) const {
    auto it = entries_.find(addr);
    return it == entries_.end() ? PeerSource::tracker : it->second.source;
}

int PeerBook::failures(const std::string& addr) const {
    auto it = entries_.find(addr);
    return it == entries_.end() ? 0 : it->second.failures;
}

int64_t PeerBook::last_attempt(const std::string& addr) const {
    auto it = entries_.find(addr);
    return it == entries_.end() ? -1 : it->second.last_attempt_ms;
}

}  // namespace btl
