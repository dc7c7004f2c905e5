#include "btl/core/ready_queue.hpp"

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

void ReadyQueue::unindex(const Files::value_type& f) {
    if (!(f.second.seen == f.second.delivered)) waiting_.erase({f.second.since_ms, f.first});
}

void ReadyQueue::index(const Files::value_type& f) {
    if (!(f.second.seen == f.second.delivered)) waiting_.emplace(f.second.since_ms, f.first);
}

void ReadyQueue::observe(const std::string& name, FileStamp st, int64_t now_ms, int64_t unchanged_for_ms) {
    auto [it, inserted] = files_.try_emplace(name);
    Entry& e = it->second;
    if (inserted || !(e.seen == st)) {
        if (!inserted) unindex(*it);
        e.seen = st;
        e.since_ms = now_ms - std::clamp<int64_t>(unchanged_for_ms, 0, quiet_ms_);
        index(*it);
    }
}

std::vector<std::string> ReadyQueue::due(int64_t now_ms) const {
    std::vector<std::string> out;
    for (const auto& [since, name] : waiting_) {
        if (now_ms - since < quiet_ms_) break;
        out.push_back(name);
    }
    // In name order, as a scan delivers them: the load order (and so which
    // of two colliding torrents gets the plain save path) stays stable.
    std::sort(out.begin(), out.end());
    return out;
}

bool ReadyQueue::confirm(const std::string& name, FileStamp st, int64_t now_ms) {
    auto it = files_.find(name);
    if (it == files_.end() || !(it->second.seen == st) || now_ms - it->second.since_ms < quiet_ms_) {
        observe(name, st, now_ms);
        return false;
    }
    if (it->second.delivered == st) return false;  // already handed out
    unindex(*it);
    it->second.delivered = st;
    return true;
}

bool ReadyQueue::forget(const std::string& name) {
    auto it = files_.find(name);
    if (it == files_.end()) return false;
    bool was = it->second.delivered.size >= 0;
    unindex(*it);
    files_.erase(it);
    return was;
}

int64_t ReadyQueue::next_deadline() const {
    return waiting_.empty() ? -1 : waiting_.begin()->first + quiet_ms_;
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

std::vector<std::string> ReadyQueue::names_after(const std::string& after, size_t max) const {
    std::vector<std::string> out;
    for (auto it = files_.upper_bound(after); it != files_.end() && out.size() < max; ++it) out.push_back(it->first);
    return out;
}

}  // namespace btl
