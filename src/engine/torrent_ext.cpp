// Torrent: the extension protocol's torrent side (BEP 10): serving our
// metadata (BEP 9 ut_metadata) and peer exchange (BEP 11 ut_pex).
//
// PEX, both ways, per peer:
// - we send at most one message a minute (the first one on the first tick
//   after its extended handshake), at most kPexMaxSend added and as many
//   dropped, naming only peers whose listen address we know (we dialled
//   them, or their handshake said `p`), with flags 0x02 (seed or
//   upload_only) and 0x10 (we reached it, so it accepts connections);
// - what it sends is checked: more than kPexMaxPerMinute messages in a
//   minute is a flood (the peer is dropped and counted), a malformed one a
//   violation; at most kPexMaxTake added peers of one message become
//   connection candidates, remembered as heard of through PEX (seeds are
//   skipped while we seed: BEP 21);
// - never on a private torrent, nor with --pex 0 (we offer no ut_pex, and
//   ignore what comes under its id).
#include <algorithm>
#include <map>

#include "btl/engine/torrent.hpp"
#include "btl/ext/ut_metadata.hpp"
#include "btl/ext/ut_pex.hpp"

namespace btl {

namespace {
// ut_metadata requests one peer may make in a minute: every piece a few
// times over (a fetch that failed a hash check starts again), then rejects.
int metadata_request_budget(uint32_t pieces) { return int(3 * pieces + 16); }
}  // namespace

void Torrent::on_ext_handshake(Peer& p) {
    mark_changed();
    const ExtHandshake& h = p.ext_handshake();
    log(LogLevel::debug, "peer " + p.conn().remote() + ": extensions" +
                             (p.supports(ExtMsg::ut_pex) ? " ut_pex" : "") +
                             (p.supports(ExtMsg::ut_metadata) ? " ut_metadata" : "") +
                             (h.reqq > 0 ? ", reqq " + std::to_string(h.reqq) : "") +
                             (p.upload_only() ? ", upload_only" : ""));
}

void Torrent::on_extended(Peer& p, ExtMsg m, std::string_view payload) {
    if (m == ExtMsg::ut_metadata) return serve_metadata(p, payload);
    if (m == ExtMsg::ut_pex && pex_enabled()) return on_pex(p, payload);
}

void Torrent::serve_metadata(Peer& p, std::string_view payload) {
    auto msg = parse_metadata_msg(payload);
    if (!msg) return p.violation(msg.error().message);
    // We have the metadata and never ask for it: data and rejects are ignored.
    if (msg->type != MetadataMsgType::request) return;
    const int64_t size = int64_t(mi_.info_bytes.size());
    const uint32_t pieces = metadata_piece_count(size);
    ExtPeerState& st = ext_peers_[p.key()];
    const int64_t now = host_.now_ms();
    if (st.md_window_ms < 0 || now - st.md_window_ms >= 60'000) {
        st.md_window_ms = now;
        st.md_requests = 0;
    }
    const bool in_range = msg->piece < pieces;
    if (!in_range || ++st.md_requests > metadata_request_budget(pieces)) {
        p.send_extended(ExtMsg::ut_metadata, encode_metadata_reject(msg->piece));
        return;
    }
    std::string_view piece = std::string_view(mi_.info_bytes).substr(size_t(msg->piece) * kMetadataPiece,
                                                                     metadata_piece_size(size, msg->piece));
    p.send_extended(ExtMsg::ut_metadata, encode_metadata_data(msg->piece, size, piece));
}

void Torrent::on_pex(Peer& p, std::string_view payload) {
    ExtPeerState& st = ext_peers_[p.key()];
    const int64_t now = host_.now_ms();
    while (!st.pex_in.empty() && now - st.pex_in.front() >= 60'000) st.pex_in.pop_front();
    st.pex_in.push_back(now);
    if (st.pex_in.size() > size_t(kPexMaxPerMinute)) {
        ++pex_floods_;
        return p.violation("PEX flood: " + std::to_string(st.pex_in.size()) + " messages within a minute");
    }
    auto msg = parse_pex(payload);
    if (!msg) return p.violation(msg.error().message);
    std::vector<PeerEndpoint> take;
    for (const PexPeer& a : msg->added) {
        if (take.size() >= kPexMaxTake) break;
        if (complete() && (a.flags & kPexSeed)) continue;  // two seeds have nothing to trade
        if (a.flags & kPexUtp) host_.utp_hint(a.ep.ip);
        take.push_back(a.ep);
    }
    if (take.empty()) return;
    log(LogLevel::debug, "peer " + p.conn().remote() + ": PEX added " + std::to_string(take.size()) + " peers");
    if (accepting_peers()) add_peers(take, PeerSource::pex);
}

std::optional<PeerEndpoint> Torrent::listen_endpoint(const Peer& p) const {
    if (auto it = dial_addr_.find(p.key()); it != dial_addr_.end()) {
        // "ip:port" or "[v6]:port", as PeerEndpoint::to_string wrote it.
        const std::string& a = it->second;
        size_t colon = a.rfind(':');
        if (colon == std::string::npos) return std::nullopt;
        std::string ip = a.substr(0, colon);
        if (ip.size() > 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
        return PeerEndpoint{ip, uint16_t(std::stoi(a.substr(colon + 1)))};
    }
    if (p.listen_port() == 0) return std::nullopt;
    return PeerEndpoint{p.conn().remote_ip(), p.listen_port()};
}

bool Torrent::from_pex(const Peer& p) const {
    auto it = dial_addr_.find(p.key());
    return it != dial_addr_.end() && book_.source(it->second) == PeerSource::pex;
}

void Torrent::send_pex(int64_t now) {
    if (!pex_enabled()) return;
    for (auto& [k, p] : peers_) {
        if (!p->ready() || p->closed() || !p->supports(ExtMsg::ut_pex)) continue;
        ExtPeerState& st = ext_peers_[k];
        if (st.pex_sent_ms >= 0 && now - st.pex_sent_ms < kPexIntervalMs) continue;
        send_pex_to(*p, st, now);
    }
}

void Torrent::send_pex_to(Peer& p, ExtPeerState& st, int64_t now) {
    // The swarm as we see it: every other peer we could tell it how to reach.
    std::map<std::string, PexPeer> current;
    for (auto& [k, q] : peers_) {
        if (k == p.key() || !q->ready() || q->closed()) continue;
        auto ep = listen_endpoint(*q);
        if (!ep) continue;
        PexPeer x{*ep, 0};
        if (q->is_seed() || q->upload_only()) x.flags |= kPexSeed;
        if (!q->incoming()) x.flags |= kPexReachable;
        if (q->conn().is_utp()) x.flags |= kPexUtp;
        current.emplace(ep->to_string(), std::move(x));
    }
    PexMessage msg;
    for (auto& [addr, x] : current) {
        if (msg.added.size() >= kPexMaxSend) break;
        if (st.pex_told.insert(addr).second) msg.added.push_back(x);
    }
    for (auto it = st.pex_told.begin(); it != st.pex_told.end() && msg.dropped.size() < kPexMaxSend;) {
        if (current.count(*it)) {
            ++it;
            continue;
        }
        auto colon = it->rfind(':');
        std::string ip = it->substr(0, colon);
        if (ip.size() > 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
        msg.dropped.push_back(PeerEndpoint{ip, uint16_t(std::stoi(it->substr(colon + 1)))});
        it = st.pex_told.erase(it);
    }
    // The first message goes out even empty (it starts the peer's clock);
    // later ones only when something changed.
    if (st.pex_sent_ms >= 0 && msg.added.empty() && msg.dropped.empty()) return;
    st.pex_sent_ms = now;
    p.send_extended(ExtMsg::ut_pex, encode_pex(msg));
}

}  // namespace btl
