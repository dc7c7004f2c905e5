// DhtNode, the server half: answering queries (BEP 5, and BEP 32's nodes6
// and want), tokens, per-source rate limits, the peers announced to us.
#include <algorithm>

#include "btl/base/sha1.hpp"
#include "btl/dht/dht_node.hpp"

namespace btl::dht {

void DhtNode::reply(const NodeAddr& to, const KrpcMessage& m) {
    std::string pkt = encode_krpc(m);
    if (pkt.size() > kMaxReply) return;  // cannot happen with the caps above; never amplify
    ++stats_.packets_out;
    stats_.bytes_out += pkt.size();
    send_(to, pkt);
}

void DhtNode::send_error(const NodeAddr& to, const std::string& tid, int code, const std::string& msg) {
    KrpcMessage e;
    e.kind = MsgKind::error;
    e.tid = tid;
    e.error_code = code;
    e.error_msg = msg;
    reply(to, e);
}

// ---- tokens -----------------------------------------------------------------

// The querier's address (not its port) and the secret; an IPv6 querier's
// 16 bytes, an IPv4 querier's 4.
std::string DhtNode::make_token(const NodeAddr& a, const std::string& secret) const {
    Sha1Hasher h;
    h.update(secret);
    if (a.v6) {
        h.update(reinterpret_cast<const char*>(a.ip6.data()), a.ip6.size());
    } else {
        char b[4] = {char(a.ip >> 24), char(a.ip >> 16), char(a.ip >> 8), char(a.ip)};
        h.update(b, 4);
    }
    Sha1Digest d = h.finish();
    return std::string(reinterpret_cast<const char*>(d.data()), 8);
}

std::string DhtNode::token_for(uint32_t ip) const { return make_token(NodeAddr{ip, 0}, secret_); }
std::string DhtNode::token_for(const NodeAddr& a) const { return make_token(a, secret_); }

// ---- the server half ----------------------------------------------------------

// A source is an address without its port: IPv4 addresses are their own
// key (below 2^32; 0 is the shared overflow record), IPv6 ones a hash with
// the top bit set.
uint64_t DhtNode::source_key(const NodeAddr& a) {
    if (!a.v6) return a.ip;
    return NodeAddr::make6(a.ip6, 0).key();
}

bool DhtNode::allow_source(uint64_t ip, int64_t now, bool& first) {
    // Past max_sources, new sources share one record (key 0: never a real
    // source), so a flood from random addresses costs bounded memory and
    // gets at most one source's rate of answers.
    if (!sources_.count(ip) && sources_.size() >= cfg_.max_sources) ip = 0;
    auto [it, fresh] = sources_.try_emplace(ip, Source{cfg_.per_source_burst, now});
    first = fresh && ip != 0;
    Source& s = it->second;
    if (!fresh && now > s.last_ms)
        s.tokens = std::min(cfg_.per_source_burst, s.tokens + double(now - s.last_ms) * cfg_.per_source_per_s / 1000.0);
    s.last_ms = now;
    if (s.tokens < 1) return false;
    s.tokens -= 1;
    return true;
}

void DhtNode::store_peer(const NodeId& ih, const NodeAddr& peer, int64_t now) {
    auto it = store_.find(ih);
    if (it == store_.end()) {
        if (store_.size() >= cfg_.max_torrents) {
            auto oldest = std::min_element(store_.begin(), store_.end(), [](const auto& a, const auto& b) {
                return a.second.touched_ms < b.second.touched_ms;
            });
            store_.erase(oldest);
        }
        it = store_.emplace(ih, Stored{}).first;
    }
    Stored& s = it->second;
    s.touched_ms = now;
    ++stats_.announces_stored;
    for (auto& p : s.peers)
        if (p.addr == peer) {
            p.expires_ms = now + kPeerTtlMs;
            return;
        }
    if (s.peers.size() >= cfg_.max_peers) s.peers.erase(s.peers.begin());
    s.peers.push_back(StoredPeer{peer, now + kPeerTtlMs});
}

std::vector<NodeAddr> DhtNode::stored_peers(const NodeId& ih, int64_t now) {
    std::vector<NodeAddr> out;
    auto it = store_.find(ih);
    if (it == store_.end()) return out;
    auto& v = it->second.peers;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const StoredPeer& p) { return p.expires_ms <= now; }), v.end());
    for (size_t i = v.size(); i-- > 0 && out.size() < kMaxValues;) out.push_back(v[i].addr);  // newest first
    return out;
}

// BEP 32: `want` asks for nodes of each family; without it the querier
// gets nodes of its own (this node's) family.  The other family's nodes
// come from the other node's table, when there is one.
void DhtNode::add_nodes(KrpcMessage& r, const NodeId& target, uint8_t want) const {
    if (!want) want = cfg_.ipv6 ? kWantN6 : kWantN4;
    const RoutingTable* v4 = cfg_.ipv6 ? (other_ ? &other_->table() : nullptr) : &table_;
    const RoutingTable* v6 = cfg_.ipv6 ? &table_ : (other_ ? &other_->table() : nullptr);
    if ((want & kWantN4) && v4) r.nodes = v4->closest(target, kK);
    if ((want & kWantN6) && v6) r.nodes6 = v6->closest(target, kK);
}

void DhtNode::handle_query(const NodeAddr& from, KrpcMessage& m, int64_t now) {
    ++stats_.queries_in;
    bool first = false;
    if (!allow_source(source_key(from), now, first)) {
        ++stats_.rate_limited;
        return;
    }
    if (m.method == Method::unknown) return send_error(from, m.tid, kErrMethod, "Method Unknown");
    if (m.method == Method::invalid) return send_error(from, m.tid, kErrProtocol, m.error_msg);
    KrpcMessage r;
    r.kind = MsgKind::response;
    r.tid = m.tid;
    r.id = table_.self();
    switch (m.method) {
        case Method::find_node: add_nodes(r, m.target, m.want); break;
        case Method::get_peers:
            r.token = token_for(from);
            r.values = stored_peers(m.target, now);
            if (r.values.empty()) add_nodes(r, m.target, m.want);
            break;
        case Method::announce_peer: {
            if (m.token != make_token(from, secret_) &&
                (prev_secret_.empty() || m.token != make_token(from, prev_secret_)))
                return send_error(from, m.tid, kErrProtocol, "bad token");
            // The peer has the querier's address, so its family (BEP 32).
            NodeAddr peer = from;
            if (!m.implied_port) peer.port = m.port;
            store_peer(m.target, peer, now);
            break;
        }
        default: break;
    }
    reply(from, r);
    // A node that asks us may belong in the table: ask it back (BEP 5 keeps
    // only nodes that answer us), if its bucket has room; once per source
    // while we track it, so a busy querier is not pinged per query.
    if (first && !m.read_only && !table_.contains(from) && table_.has_room_for(m.id) &&
        outstanding_.size() < cfg_.max_outstanding / 2) {
        KrpcMessage q;
        q.method = Method::ping;
        send_query(from, q, 0, now);
    }
}

}  // namespace btl::dht
