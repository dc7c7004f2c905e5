#include "btl/ready_queue.hpp"

#include <algorithm>

namespace btl {

namespace {
bool ends_with(const std::string& s, const char* suffix) {
    std::string x(suffix);
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}
}  // namespace

bool wanted_watch_name(const std::string& name) {
    if (name.empty() || name[0] == '.') return false;
    if (ends_with(name, ".tmp") || ends_with(name, ".part") || ends_with(name, "~")) return false;
    // ".torrent" alone would be a dotfile; require a stem.
    return name.size() > 8 && ends_with(name, ".torrent");
}

void ReadyQueue::observe(const std::string& name, FileStamp st, int64_t now_ms, int64_t unchanged_for_ms) {
    auto [it, inserted] = files_.try_emplace(name);
    Entry& e = it->second;
    if (inserted || !(e.seen == st)) {
        e.seen = st;
        e.since_ms = now_ms - std::clamp<int64_t>(unchanged_for_ms, 0, quiet_ms_);
    }
}

std::vector<std::string> ReadyQueue::due(int64_t now_ms) const {
    std::vector<std::string> out;
    for (const auto& [name, e] : files_)
        if (!(e.seen == e.delivered) && now_ms - e.since_ms >= quiet_ms_) out.push_back(name);
    return out;
}

bool ReadyQueue::confirm(const std::string& name, FileStamp st, int64_t now_ms) {
    auto it = files_.find(name);
    if (it == files_.end() || !(it->second.seen == st) || now_ms - it->second.since_ms < quiet_ms_) {
        observe(name, st, now_ms);
        return false;
    }
    if (it->second.delivered == st) return false;  // already handed out
    it->second.delivered = st;
    return true;
}

bool ReadyQueue::forget(const std::string& name) {
    auto it = files_.find(name);
    if (it == files_.end()) return false;
    bool was = it->second.delivered.size >= 0;
    files_.erase(it);
    return was;
}

int64_t ReadyQueue::next_deadline() const {
    int64_t best = -1;
    for (const auto& [name, e] : files_) {
        if (e.seen == e.delivered) continue;
        int64_t d = e.since_ms + quiet_ms_;
        if (best < 0 || d < best) best = d;
    }
    return best;
}

bool ReadyQueue::delivered(const std::string& name) const {
    auto it = files_.find(name);
    return it != files_.end() && it->second.delivered.size >= 0;
}

std::vector<std::string> ReadyQueue::names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : files_) out.push_back(name);
    return out;
}

}  // namespace btl
