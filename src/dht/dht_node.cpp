#include "btl/dht/dht_node.hpp"

#include <algorithm>

#include "btl/base/sha1.hpp"
#include "btl/core/bencode.hpp"

namespace btl::dht {

struct DhtNode::Lookup {
    enum class St : uint8_t { fresh, asked, answered, failed };
    struct Cand {
        NodeEntry e;
        bool id_known = true;
        St st = St::fresh;
        std::string token;
    };
    uint64_t id = 0;
    Method method = Method::find_node;  // announce_peer: get_peers, then announce
    NodeId target{};
    uint16_t port = 0;
    PeersFn peers;
    DoneFn done;
    std::vector<Cand> cands;  // known ids closest first, then unknown ids
    std::unordered_set<NodeAddr, NodeAddrHash> seen, peers_seen;
    bool v6 = false;  // the family of the node running it
    size_t inflight = 0, responded = 0;
    bool active = false;

    void add(const NodeEntry& e, bool id_known, const NodeId& self) {
        if (e.addr.v6 != v6 || !e.addr.usable()) return;
        if (seen.size() >= 1024 || !seen.insert(e.addr).second) return;
        if (id_known && e.id == self) return;
        Cand c{e, id_known, St::fresh, {}};
        auto pos = cands.end();
        if (id_known)
            pos = std::find_if(cands.begin(), cands.end(),
                               [&](const Cand& x) { return !x.id_known || closer(target, e.id, x.e.id); });
        cands.insert(pos, std::move(c));
        // Past the cap the farthest candidate not yet asked goes.
        if (cands.size() > kMaxCandidates)
            for (size_t i = cands.size(); i-- > 0;)
                if (cands[i].st == St::fresh || cands[i].st == St::failed) {
                    cands.erase(cands.begin() + std::ptrdiff_t(i));
                    break;
                }
    }
};

DhtNode::DhtNode(const NodeId& id, DhtConfig cfg, SendFn send, uint64_t seed)
    : table_(id), cfg_(cfg), send_(std::move(send)), rng_(seed) {
    budget_ = cfg_.query_burst;
}

DhtNode::~DhtNode() = default;

std::string DhtNode::next_tid() {
    for (;;) {
        uint16_t t = next_tid_++;
        std::string s{char(t >> 8), char(t)};
        if (!outstanding_.count(s)) return s;
    }
}

bool DhtNode::take_budget(int64_t now, bool force) {
    if (budget_ms_ >= 0 && now > budget_ms_)
        budget_ = std::min(cfg_.query_burst, budget_ + double(now - budget_ms_) * cfg_.queries_per_s / 1000.0);
    budget_ms_ = now;
    // A forced query (the announce_peer that ends a lookup) goes out anyway
    // and leaves the budget in debt, which the next lookups wait out.
    if (budget_ < 1 && !force) return false;
    budget_ -= 1;
    return true;
}

bool DhtNode::send_query(const NodeAddr& to, KrpcMessage& q, uint64_t lookup, int64_t now, bool budgeted) {
    if (outstanding_.size() >= cfg_.max_outstanding) return false;
    if (!take_budget(now, !budgeted)) return false;
    q.kind = MsgKind::query;
    q.tid = next_tid();
    q.id = table_.self();
    // Both families only once the other node has had an answer: a host
    // whose IPv6 goes nowhere would otherwise fill the other node with
    // addresses it cannot reach.
    if (other_ && other_->heard_any_ && (q.method == Method::find_node || q.method == Method::get_peers))
        q.want = kWantN4 | kWantN6;
    std::string pkt = encode_krpc(q);
    ++stats_.packets_out;
    stats_.bytes_out += pkt.size();
    outstanding_[q.tid] = Outstanding{to, lookup, q.method, now};
    table_.queried(to, now);
    send_(to, pkt);
    return true;
}

// ---- the client half ----------------------------------------------------------

void DhtNode::on_packet(const NodeAddr& from, std::string_view packet, int64_t now) {
    ++stats_.packets_in;
    stats_.bytes_in += packet.size();
    if (!from.usable() || from.v6 != cfg_.ipv6) {  // BEP 32: one family per node
        ++stats_.malformed;
        return;
    }
    auto m = decode_krpc(packet);
    if (!m.ok()) {
        ++stats_.malformed;
        return;
    }
    if (m->kind == MsgKind::query)
        handle_query(from, *m, now);
    else
        handle_reply(from, *m, now);
}

void DhtNode::handle_reply(const NodeAddr& from, const KrpcMessage& m, int64_t now) {
    auto it = outstanding_.find(m.tid);
    if (it == outstanding_.end() || it->second.to != from) {
        ++stats_.unexpected;
        return;
    }
    Outstanding o = it->second;
    outstanding_.erase(it);
    if (m.kind == MsgKind::response) heard_any_ = true;  // our family's network works
    if (m.kind == MsgKind::response && !m.read_only) table_.heard_from(NodeEntry{m.id, from}, now);
    if (!o.lookup) return;
    auto l = lookups_.find(o.lookup);
    if (l != lookups_.end()) on_lookup_reply(*l->second, from, m.kind == MsgKind::response ? &m : nullptr, now);
}

void DhtNode::on_lookup_reply(Lookup& l, const NodeAddr& from, const KrpcMessage* m, int64_t now) {
    std::vector<NodeAddr> fresh_peers;
    for (auto& c : l.cands) {
        if (c.e.addr != from || c.st != Lookup::St::asked) continue;
        --l.inflight;
        if (!m) {
            c.st = Lookup::St::failed;
            break;
        }
        c.st = Lookup::St::answered;
        ++l.responded;
        if (!c.id_known) {  // a bootstrap address: now we know its id; keep the order
            c.id_known = true;
            c.e.id = m->id;
        }
        c.token = m->token;
        break;
    }
    if (m) {
        // Nodes of our family feed the lookup; the other family's go to the
        // other node, when we run one (BEP 32), and are dropped otherwise.
        const auto& ours = cfg_.ipv6 ? m->nodes6 : m->nodes;
        const auto& theirs = cfg_.ipv6 ? m->nodes : m->nodes6;
        for (const auto& n : ours) l.add(n, true, table_.self());
        if (other_)
            for (const auto& n : theirs) other_->offer(n, now);
        for (const auto& v : m->values)
            if (v.usable() && l.peers_seen.size() < 4096 && l.peers_seen.insert(v).second) fresh_peers.push_back(v);
        // A candidate whose id became known moves to its place.
        std::stable_sort(l.cands.begin(), l.cands.end(), [&](const Lookup::Cand& a, const Lookup::Cand& b) {
            if (a.id_known != b.id_known) return a.id_known;
            return a.id_known && closer(l.target, a.e.id, b.e.id);
        });
    }
    step(l, now);
    if (!fresh_peers.empty() && l.peers) {
        PeersFn cb = l.peers;  // the callback may cancel the lookup: l is not touched after it
        cb(fresh_peers);
    }
}

// Sends what the lookup may send now: fresh candidates among the kK closest
// that have not failed, at most kAlpha in flight.
void DhtNode::step(Lookup& l, int64_t now) {
    if (!l.active) return;
    size_t considered = 0;
    for (auto& c : l.cands) {
        if (c.st == Lookup::St::failed) continue;
        if (considered++ >= kK) break;
        if (c.st != Lookup::St::fresh) continue;
        if (l.inflight >= kAlpha) break;
        KrpcMessage q;
        q.method = l.method == Method::find_node ? Method::find_node : Method::get_peers;
        q.target = l.target;
        if (!send_query(c.e.addr, q, l.id, now)) break;
        c.st = Lookup::St::asked;
        ++l.inflight;
    }
}

void DhtNode::finish(uint64_t id, int64_t now) {
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    std::unique_ptr<Lookup> l = std::move(it->second);
    lookups_.erase(it);
    if (l->active) --active_;
    ++stats_.lookups_done;
    if (l->method == Method::announce_peer) {
        size_t sent = 0;
        for (auto& c : l->cands) {
            if (sent >= kK) break;
            if (c.st != Lookup::St::answered || c.token.empty()) continue;
            KrpcMessage q;
            q.method = Method::announce_peer;
            q.target = l->target;
            q.token = c.token;
            q.port = l->port;
            q.implied_port = l->port == 0;
            if (send_query(c.e.addr, q, 0, now, false)) ++sent;
        }
    }
    if (l->done) l->done(l->responded);
}

uint64_t DhtNode::start_lookup(Method m, const NodeId& target, uint16_t port, const std::vector<NodeAddr>& extra,
                               PeersFn peers, DoneFn done, int64_t now) {
    if (waiting_.size() >= cfg_.max_waiting) return 0;
    auto l = std::make_unique<Lookup>();
    l->id = next_lookup_++;
    l->method = m;
    l->target = target;
    l->port = port;
    l->peers = std::move(peers);
    l->done = std::move(done);
    l->v6 = cfg_.ipv6;
    uint64_t id = l->id;
    Lookup& ref = *l;
    lookups_.emplace(id, std::move(l));
    for (const auto& n : table_.closest(target, kMaxCandidates / 2)) ref.add(n, true, table_.self());
    for (const auto& a : extra) ref.add(NodeEntry{NodeId{}, a}, false, table_.self());
    if (active_ < cfg_.max_active) {
        ref.active = true;
        ++active_;
        step(ref, now);  // a lookup that is already over ends at the next tick: no callback from here
    } else
        waiting_.push_back(id);
    return id;
}

uint64_t DhtNode::bootstrap(const std::vector<NodeAddr>& extra, int64_t now, DoneFn done) {
    return start_lookup(Method::find_node, table_.self(), 0, extra, nullptr, std::move(done), now);
}

uint64_t DhtNode::get_peers(const NodeId& ih, PeersFn peers, DoneFn done, int64_t now) {
    return start_lookup(Method::get_peers, ih, 0, {}, std::move(peers), std::move(done), now);
}

uint64_t DhtNode::announce(const NodeId& ih, uint16_t port, PeersFn peers, DoneFn done, int64_t now) {
    return start_lookup(Method::announce_peer, ih, port, {}, std::move(peers), std::move(done), now);
}

void DhtNode::cancel(uint64_t id) {
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    if (it->second->active) --active_;
    lookups_.erase(it);  // waiting_ skips ids that are gone
}

void DhtNode::add_contact(const NodeAddr& a, int64_t now) {
    if (!a.usable() || a.v6 != cfg_.ipv6 || table_.contains(a)) return;
    KrpcMessage q;
    q.method = Method::ping;
    send_query(a, q, 0, now);
}

void DhtNode::offer(const NodeEntry& n, int64_t now) {
    if (!heard_any_ || !n.addr.usable() || n.addr.v6 != cfg_.ipv6 || table_.contains(n.addr) ||
        !table_.has_room_for(n.id))
        return;
    if (outstanding_.size() >= cfg_.max_outstanding / 2) return;
    KrpcMessage q;
    q.method = Method::ping;
    send_query(n.addr, q, 0, now);
}

// ---- time -----------------------------------------------------------------------

void DhtNode::expire(int64_t now) {
    for (auto it = store_.begin(); it != store_.end();) {
        auto& v = it->second.peers;
        v.erase(std::remove_if(v.begin(), v.end(), [&](const StoredPeer& p) { return p.expires_ms <= now; }),
                v.end());
        it = v.empty() ? store_.erase(it) : std::next(it);
    }
    for (auto it = sources_.begin(); it != sources_.end();)
        it = now - it->second.last_ms > 60'000 ? sources_.erase(it) : std::next(it);
}

void DhtNode::tick(int64_t now) {
    if (secret_ms_ < 0 || now - secret_ms_ >= kSecretRotateMs) {
        prev_secret_ = secret_;
        secret_.clear();
        for (int i = 0; i < 2; ++i) {
            uint64_t r = rng_();
            secret_.append(reinterpret_cast<const char*>(&r), 8);
        }
        secret_ms_ = now;
    }
    std::vector<std::pair<std::string, Outstanding>> late;
    for (const auto& [tid, o] : outstanding_)
        if (now - o.sent_ms >= cfg_.query_timeout_ms) late.emplace_back(tid, o);
    for (auto& [tid, o] : late) {
        outstanding_.erase(tid);
        ++stats_.timeouts;
        table_.failed(o.to);
        if (auto l = lookups_.find(o.lookup); o.lookup && l != lookups_.end()) on_lookup_reply(*l->second, o.to, nullptr, now);
    }
    while (active_ < cfg_.max_active && !waiting_.empty()) {
        auto it = lookups_.find(waiting_.front());
        waiting_.pop_front();
        if (it == lookups_.end()) continue;
        it->second->active = true;
        ++active_;
    }
    std::vector<uint64_t> over;
    for (auto& [id, l] : lookups_) {
        if (!l->active) continue;
        step(*l, now);
        bool pending = false;
        size_t considered = 0;
        for (const auto& c : l->cands) {
            if (c.st == Lookup::St::failed) continue;
            if (considered++ >= kK) break;
            if (c.st == Lookup::St::fresh) pending = true;
        }
        // Over when the kK closest live candidates all answered (or nothing is left to ask).
        if (!pending && l->inflight == 0) over.push_back(id);
    }
    for (uint64_t id : over) finish(id, now);
    if (now - last_refresh_ms_ >= 60'000) {
        last_refresh_ms_ = now;
        expire(now);
        for (const auto& n : table_.to_ping(now, 4)) {
            KrpcMessage q;
            q.method = Method::ping;
            if (!send_query(n.addr, q, 0, now)) break;
        }
        if (table_.size() > 0)
            for (const auto& t : table_.stale_buckets(now, rng_()))
                if (lookups_.size() < cfg_.max_active) start_lookup(Method::find_node, t, 0, {}, nullptr, nullptr, now);
    }
}

}  // namespace btl::dht
