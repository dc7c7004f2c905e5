// Transmission RPC ids and "recently-active" (btl/rpc/rpc_methods.hpp's
// IdTable): stable small integers per info-hash, and when each torrent last
// changed, kept either by comparing every torrent (sync) or from the
// backend's change feed (apply), whose cost is the changes only.
#include <algorithm>
#include <cstring>
#include <functional>

#include "btl/rpc/rpc_methods.hpp"

namespace btl::rpc {

namespace {

uint64_t fingerprint(const TorrentStatus& t) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    mix(uint64_t(t.state));
    mix(uint64_t(t.have_bytes));
    mix(uint64_t(t.down_rate));
    mix(uint64_t(t.up_rate));
    mix(uint64_t(t.peers) << 32 | uint64_t(t.seeds));
    mix(uint64_t(t.total_uploaded));
    mix(uint64_t(t.check_progress * 1000));
    mix(std::hash<std::string>()(t.error));
    mix(std::hash<std::string>()(t.name));
    return h;
}

}  // namespace

size_t IdTable::Hash::operator()(const Sha1Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

void IdTable::stamp(const Sha1Digest& ih, Info& info, int64_t now_ms) {
    info.changed_ms = now_ms;
    if (info.in_recent) {
        recent_.splice(recent_.end(), recent_, info.recent_at);
    } else {
        info.recent_at = recent_.insert(recent_.end(), ih);
        info.in_recent = true;
    }
}

void IdTable::forget(const Sha1Digest& ih, int64_t now_ms) {
    auto it = by_hash_.find(ih);
    if (it == by_hash_.end()) return;
    removed_.emplace_back(it->second.id, now_ms);
    by_id_.erase(it->second.id);
    if (it->second.in_recent) recent_.erase(it->second.recent_at);
    by_hash_.erase(it);
}

void IdTable::trim_removed(int64_t now_ms) {
    auto old = std::find_if(removed_.begin(), removed_.end(),
                            [now_ms](const auto& r) { return now_ms - r.second <= kRecentMs; });
    removed_.erase(removed_.begin(), old);
    if (removed_.size() > kMaxRemembered) removed_.erase(removed_.begin(), removed_.end() - kMaxRemembered);
}

void IdTable::sync(const std::vector<const TorrentStatus*>& ts, int64_t now_ms) {
    ++pass_;
    for (const TorrentStatus* t : ts) {
        auto [it, fresh] = by_hash_.try_emplace(t->info_hash);
        Info& info = it->second;
        if (fresh) {
            info.id = next_++;
            by_id_[info.id] = t->info_hash;
        }
        uint64_t fp = fingerprint(*t);
        if (fresh || fp != info.fingerprint) stamp(t->info_hash, info, now_ms);
        info.fingerprint = fp;
        info.pass = pass_;
        info.listed = true;
    }
    if (by_hash_.size() != ts.size()) {
        std::vector<Sha1Digest> gone;
        for (const auto& [h, info] : by_hash_) {
            const bool loading = !info.listed && info.reserved_ms >= 0 && now_ms - info.reserved_ms < kReservedMs;
            if (info.pass != pass_ && !loading) gone.push_back(h);
        }
        for (const auto& h : gone) forget(h, now_ms);
    }
    trim_removed(now_ms);
}

void IdTable::apply(const std::vector<TorrentChange>& changes, int64_t now_ms) {
    for (const TorrentChange& c : changes) {
        if (c.removed) {
            forget(c.info_hash, now_ms);
            continue;
        }
        auto [it, fresh] = by_hash_.try_emplace(c.info_hash);
        if (fresh) {
            it->second.id = next_++;
            by_id_[it->second.id] = c.info_hash;
        }
        it->second.pass = pass_;
        it->second.listed = true;
        stamp(c.info_hash, it->second, now_ms);
    }
    trim_removed(now_ms);
}

std::vector<Sha1Digest> IdTable::recent(int64_t now_ms) {
    while (!recent_.empty()) {
        auto it = by_hash_.find(recent_.front());
        if (it != by_hash_.end() && now_ms - it->second.changed_ms <= kRecentMs) break;
        if (it != by_hash_.end()) it->second.in_recent = false;
        recent_.pop_front();
    }
    return {recent_.begin(), recent_.end()};
}

int IdTable::id_of(const Sha1Digest& ih) {
    auto [it, fresh] = by_hash_.try_emplace(ih);
    if (fresh) {
        it->second.id = next_++;
        it->second.pass = pass_;
        by_id_[it->second.id] = ih;
    }
    return it->second.id;
}

int IdTable::reserve(const Sha1Digest& ih, int64_t now_ms) {
    int id = id_of(ih);
    Info& info = by_hash_[ih];
    if (!info.listed) info.reserved_ms = now_ms;
    return id;
}

const Sha1Digest* IdTable::hash_of(int id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &it->second;
}

bool IdTable::recently_active(const TorrentStatus& t, int64_t now_ms) const {
    if (t.down_rate > 0 || t.up_rate > 0 || t.state == TorrentState::checking) return true;
    auto it = by_hash_.find(t.info_hash);
    return it == by_hash_.end() || now_ms - it->second.changed_ms <= kRecentMs;
}

std::vector<int> IdTable::recently_removed(int64_t now_ms) const {
    std::vector<int> out;
    for (const auto& [id, when] : removed_)
        if (now_ms - when <= kRecentMs) out.push_back(id);
    return out;
}

}  // namespace btl::rpc
