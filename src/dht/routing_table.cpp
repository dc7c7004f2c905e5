#include "btl/dht/routing_table.hpp"

#include <algorithm>

namespace btl::dht {

bool closer(const NodeId& t, const NodeId& a, const NodeId& b) {
    for (size_t i = 0; i < kIdLen; ++i) {
        uint8_t da = a[i] ^ t[i], db = b[i] ^ t[i];
        if (da != db) return da < db;
    }
    return false;
}

int common_prefix(const NodeId& a, const NodeId& b) {
    for (size_t i = 0; i < kIdLen; ++i) {
        uint8_t x = a[i] ^ b[i];
        if (x) return int(i * 8) + __builtin_clz(unsigned(x)) - 24;
    }
    return 160;
}

size_t RoutingTable::index_of(const NodeId& id) const {
    size_t cp = size_t(common_prefix(self_, id));
    return std::min(cp, buckets_.size() - 1);
}

Health RoutingTable::health(const Node& n, int64_t now) const {
    if (n.fails >= kBadFails) return Health::bad;
    if (n.last_reply_ms >= 0 && n.fails == 0 && now - n.last_reply_ms < kQuestionableMs) return Health::good;
    return Health::questionable;
}

RoutingTable::Node* RoutingTable::find(const NodeAddr& a, size_t* bucket) {
    if (!addrs_.count(a)) return nullptr;
    for (size_t b = 0; b < buckets_.size(); ++b)
        for (auto& n : buckets_[b].nodes)
            if (n.e.addr == a) {
                if (bucket) *bucket = b;
                return &n;
            }
    return nullptr;
}

void RoutingTable::split_last() {
    Bucket& last = buckets_.back();
    Bucket next;
    size_t new_index = buckets_.size();
    auto moves = [&](const Node& n) { return size_t(common_prefix(self_, n.e.id)) >= new_index; };
    for (auto* list : {&last.nodes, &last.replacements}) {
        auto& dst = list == &last.nodes ? next.nodes : next.replacements;
        for (const auto& n : *list)
            if (moves(n)) dst.push_back(n);
        list->erase(std::remove_if(list->begin(), list->end(), moves), list->end());
    }
    next.changed_ms = last.changed_ms;
    buckets_.push_back(std::move(next));
}

bool RoutingTable::insert(const Node& n, int64_t now, bool verified) {
    if (n.e.id == self_) return false;
    for (;;) {
        size_t bi = index_of(n.e.id);
        Bucket& b = buckets_[bi];
        for (auto& x : b.nodes)
            if (x.e.id == n.e.id) return false;  // known id at another address: keep the old entry
        if (b.nodes.size() < K) {
            b.nodes.push_back(n);
            b.changed_ms = now;
            addrs_.insert(n.e.addr);
            return true;
        }
        if (bi == buckets_.size() - 1 && buckets_.size() < 160) {
            split_last();
            continue;
        }
        for (auto& x : b.nodes)
            if (health(x, now) == Health::bad) {
                addrs_.erase(x.e.addr);
                x = n;
                addrs_.insert(n.e.addr);
                b.changed_ms = now;
                return true;
            }
        if (!verified) return false;
        auto& r = b.replacements;
        r.erase(std::remove_if(r.begin(), r.end(), [&](const Node& x) { return x.e.id == n.e.id || x.e.addr == n.e.addr; }),
                r.end());
        if (r.size() >= K) r.erase(r.begin());
        r.push_back(n);
        return false;
    }
}

bool RoutingTable::heard_from(const NodeEntry& e, int64_t now) {
    if (Node* n = find(e.addr)) {
        if (n->e.id != e.id) return false;  // another id at a known address: ignored
        n->last_reply_ms = now;
        n->fails = 0;
        buckets_[index_of(e.id)].changed_ms = now;
        return true;
    }
    Node n{e, now, -1, 0};
    return insert(n, now, true);
}

bool RoutingTable::add_unverified(const NodeEntry& e, int64_t now) {
    if (contains(e.addr)) return false;
    Node n{e, -1, -1, 0};
    return insert(n, now, false);
}

bool RoutingTable::has_room_for(const NodeId& id) const {
    if (id == self_) return false;
    size_t bi = index_of(id);
    const Bucket& b = buckets_[bi];
    for (const auto& x : b.nodes)
        if (x.e.id == id) return false;
    return b.nodes.size() < K || (bi == buckets_.size() - 1 && buckets_.size() < 160);
}

void RoutingTable::failed(const NodeAddr& a) {
    size_t bi = 0;
    Node* n = find(a, &bi);
    if (!n) return;
    ++n->fails;
    Bucket& b = buckets_[bi];
    if (n->fails >= kBadFails && !b.replacements.empty()) {
        addrs_.erase(n->e.addr);
        *n = b.replacements.back();
        b.replacements.pop_back();
        addrs_.insert(n->e.addr);
    }
}

void RoutingTable::queried(const NodeAddr& a, int64_t now) {
    if (Node* n = find(a)) n->last_query_ms = now;
}

std::vector<NodeEntry> RoutingTable::closest(const NodeId& target, size_t count) const {
    std::vector<NodeEntry> out;
    for (const auto& b : buckets_)
        for (const auto& n : b.nodes)
            if (n.fails < kBadFails) out.push_back(n.e);
    auto cmp = [&](const NodeEntry& a, const NodeEntry& b) { return closer(target, a.id, b.id); };
    if (out.size() > count) {
        std::partial_sort(out.begin(), out.begin() + std::ptrdiff_t(count), out.end(), cmp);
        out.resize(count);
    } else
        std::sort(out.begin(), out.end(), cmp);
    return out;
}

std::vector<NodeEntry> RoutingTable::to_ping(int64_t now, size_t max) const {
    std::vector<NodeEntry> out;
    for (const auto& b : buckets_)
        for (const auto& n : b.nodes)
            if (out.size() < max && health(n, now) == Health::questionable &&
                (n.last_query_ms < 0 || now - n.last_query_ms >= 60'000))
                out.push_back(n.e);
    return out;
}

std::vector<NodeId> RoutingTable::stale_buckets(int64_t now, uint64_t bits) {
    std::vector<NodeId> out;
    for (size_t i = 0; i < buckets_.size(); ++i) {
        Bucket& b = buckets_[i];
        if (now - b.changed_ms < kQuestionableMs) continue;
        b.changed_ms = now;  // one refresh per interval, answered or not
        // A target sharing exactly i leading bits with us (the last
        // bucket: at least i): random bits, then our first i bits, then bit i flipped.
        NodeId t{};
        uint64_t x = bits + i * 0x9e3779b97f4a7c15ULL;
        for (auto& byte : t) {
            x ^= x >> 29;
            x *= 0xbf58476d1ce4e5b9ULL;
            byte = uint8_t(x >> 56);
        }
        auto bit = [](const NodeId& id, size_t k) { return (id[k / 8] >> (7 - k % 8)) & 1; };
        auto set = [](NodeId& id, size_t k, int v) {
            id[k / 8] = uint8_t((id[k / 8] & ~(0x80 >> (k % 8))) | (v ? 0x80 >> (k % 8) : 0));
        };
        for (size_t k = 0; k < i && k < 160; ++k) set(t, k, bit(self_, k));
        if (i + 1 < buckets_.size() && i < 160) set(t, i, !bit(self_, i));
        out.push_back(t);
    }
    return out;
}

std::vector<NodeEntry> RoutingTable::all() const {
    std::vector<NodeEntry> out;
    for (const auto& b : buckets_)
        for (const auto& n : b.nodes) out.push_back(n.e);
    return out;
}

size_t RoutingTable::good_count(int64_t now) const {
    size_t c = 0;
    for (const auto& b : buckets_)
        for (const auto& n : b.nodes) c += health(n, now) == Health::good;
    return c;
}

}  // namespace btl::dht
