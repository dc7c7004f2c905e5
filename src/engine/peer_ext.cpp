// Peer, the extensions beside BEP 3: the BEP 10 extended handshake and
// messages (reqq, upload_only, ut_pex and ut_metadata handed to the
// torrent), the extended frames' own length bound, and the BEP 5 `port`
// message.  The core protocol is in peer.cpp.
#include <arpa/inet.h>

#include <algorithm>

#include "btl/base/version.hpp"
#include "btl/engine/peer.hpp"

namespace btl {

void Peer::send_ext_handshake() {
    if (!ext_ || closed_) return;
    ExtHandshake h;
    h.ids[size_t(ExtMsg::ut_metadata)] = int(ExtMsg::ut_metadata);
    if (t_.pex_enabled()) h.ids[size_t(ExtMsg::ut_pex)] = int(ExtMsg::ut_pex);
    h.listen_port = t_.host().identity().listen_port;
    h.client = std::string("btlaunchmany ") + kVersion;
    unsigned char addr[16];
    const std::string& ip = conn_->remote_ip();
    if (inet_pton(AF_INET, ip.c_str(), addr) == 1)
        h.yourip.assign(reinterpret_cast<const char*>(addr), 4);
    else if (inet_pton(AF_INET6, ip.c_str(), addr) == 1)
        h.yourip.assign(reinterpret_cast<const char*>(addr), 16);
    h.reqq = int64_t(kMaxTheirRequests);
    if (!t_.metainfo().info_bytes.empty()) h.metadata_size = int64_t(t_.metainfo().info_bytes.size());
    // BEP 21.  Not while super-seeding (as libtorrent): a peer that showed
    // nothing and says it only uploads looks useless, and leechers stall.
    h.upload_only = t_.complete() && !t_.super_seeding() ? 1 : 0;
    std::string out;
    append_extended(out, 0, encode_ext_handshake(h));
    send(std::move(out));
}

bool Peer::send_extended(ExtMsg m, std::string_view payload) {
    uint8_t id = supports(m) ? ext_state_.remote_id(m) : 0;
    if (id == 0 || closed_) return false;
    std::string out;
    append_extended(out, id, payload);
    send(std::move(out));
    return !closed_;
}

uint32_t Peer::frame_limit(std::string_view rest) const {
    // The length prefix decides before anything is buffered; an extended
    // frame is told apart by its id, the byte after the prefix.
    const uint32_t either = std::max(max_message_, kMaxExtendedFrame);
    if (rest.size() < 5) {
        // Too long for any id: refused at once, against the ordinary bound.
        if (rest.size() == 4) {
            auto u = reinterpret_cast<const unsigned char*>(rest.data());
            uint32_t len = uint32_t(u[0]) << 24 | uint32_t(u[1]) << 16 | uint32_t(u[2]) << 8 | u[3];
            if (len > either) return max_message_;
        }
        return either;
    }
    return uint8_t(rest[4]) == uint8_t(MsgId::extended) ? kMaxExtendedFrame : max_message_;
}

uint16_t Peer::dht_port() const { return t_.metainfo().is_private ? 0 : t_.host().dht_port(); }

void Peer::send_dht_port() {
    if (uint16_t port = dht_port()) {
        std::string out;
        append_port(out, port);
        send(std::move(out));
    }
}

bool Peer::on_port(const Message& m) {
    // the bare address (an IPv6 one without brackets); the DHT ignores what it cannot use
    if (dht_port() && m.port && !conn_->remote_ip().empty()) t_.host().dht_node_hint(conn_->remote_ip(), m.port);
    return true;
}

bool Peer::on_extended(const Message& m) {
    if (!ext_) return true;  // not negotiated: ignored like an unknown id
    if (m.ext_id == uint8_t(ExtMsg::handshake)) return take_ext_handshake(m.payload);
    // Sub-ids are the ids WE gave in our handshake; others are ignored.
    if (m.ext_id == uint8_t(ExtMsg::ut_pex) || m.ext_id == uint8_t(ExtMsg::ut_metadata))
        t_.on_extended(*this, ExtMsg(m.ext_id), m.payload);
    return !closed_;
}

bool Peer::take_ext_handshake(std::string_view payload) {
    auto h = parse_ext_handshake(payload);
    if (!h) return fail(h.error().message);
    merge_ext_handshake(ext_state_, *h);
    got_ext_ = true;
    if (h->reqq > 0) set_peer_reqq(uint32_t(std::min<int64_t>(h->reqq, UINT32_MAX)));
    // BEP 21: two sides that only upload have nothing to trade.
    if (upload_only() && t_.complete()) {
        disconnect("both sides are seeds (it said upload_only)");
        return false;
    }
    t_.on_ext_handshake(*this);
    return !closed_;
}

}  // namespace btl
