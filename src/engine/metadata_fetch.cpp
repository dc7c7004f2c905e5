#include "btl/engine/metadata_fetch.hpp"

#include <algorithm>
#include <cstring>

#include "btl/ext/extension.hpp"
#include "btl/ext/ut_metadata.hpp"
#include "btl/net/peer_connection.hpp"
#include "btl/net/resolve.hpp"

namespace btl {

// One light connection: handshakes, then ut_metadata only.
class MetadataFetch::Conn final : public PeerConnectionHandler {
public:
    Conn(MetadataFetch& f, uint32_t key, std::unique_ptr<PeerTransport> t, std::string addr, bool incoming)
        : f_(f), key_(key), t_(std::move(t)), addr_(std::move(addr)), incoming_(incoming),
          born_ms_(f.host_.now_ms()) {
        t_->set_handler(this);
    }
    ~Conn() override {
        if (t_) t_->set_handler(nullptr);
    }

    void on_connected() override {
        f_.host_.slot_event(SlotEvent::connect_finished);
        tcp_up_ = true;
        send_handshake();
    }
    void on_sent(size_t) override {}
    void on_closed(const std::string& why) override {
        if (closed_) return;
        release_slots();
        closed_ = true;
        f_.conn_closed(*this, violation_.empty() ? why : violation_, !violation_.empty());
    }
    // Once per connection, whether it reported on_closed or was destroyed first.
    void release_slots() {
        if (slots_released_) return;
        slots_released_ = true;
        if (!incoming_ && !tcp_up_) f_.host_.slot_event(SlotEvent::connect_finished);
        f_.host_.slot_event(SlotEvent::closed);
    }
    size_t on_data(std::string_view buf) override {
        size_t used = 0;
        while (!closed_ && !t_->closing()) {
            size_t n = step(buf.substr(used));
            if (n == 0) break;
            used += n;
        }
        return used;
    }

    // Incoming: the session read the peer's handshake already.
    size_t accept(const Handshake& hs, std::string_view rest) {
        tcp_up_ = true;
        send_handshake();
        if (!take_handshake(hs)) return 0;
        return on_data(rest);
    }

    void request(uint32_t piece) { send_ext(remote_id_, encode_metadata_request(piece)); }
    void violate(const std::string& why) {
        if (violation_.empty()) violation_ = why;
        t_->close(why);
    }
    void close(const std::string& why) { t_->close(why); }
    bool ready() const { return remote_id_ != 0 && sized_; }
    bool past_handshake() const { return got_hs_; }
    bool expired(int64_t now) const { return !got_ext_ && now - born_ms_ > kHandshakeTimeoutMs; }
    uint32_t key() const { return key_; }
    const std::string& addr() const { return addr_; }
    std::string ip() const { return t_->remote_ip(); }
    bool incoming() const { return incoming_; }
    int listen_port() const { return listen_port_; }
    bool closed() const { return closed_ || t_->closing(); }

private:
    void send_handshake() {
        if (sent_hs_) return;
        sent_hs_ = true;
        std::string out;
        append_handshake(out, f_.link_.info_hash, f_.host_.identity().peer_id, false, true);
        t_->send(std::move(out));
    }
    void send_ext(uint8_t id, std::string_view payload) {
        std::string out;
        append_extended(out, id, payload);
        t_->send(std::move(out));
    }
    bool take_handshake(const Handshake& hs) {
        got_hs_ = true;
        if (!(hs.info_hash == f_.link_.info_hash)) {
            close("handshake for another info-hash");
            return false;
        }
        if (hs.peer_id == f_.host_.identity().peer_id) {
            f_.host_.note_self_address(addr_);
            close("connected to ourselves");
            return false;
        }
        if (!hs.supports_extended()) {
            close("peer does not speak the extension protocol (BEP 10)");
            return false;
        }
        ExtHandshake ours;
        ours.ids[size_t(ExtMsg::ut_metadata)] = int(ExtMsg::ut_metadata);
        ours.listen_port = f_.host_.identity().listen_port;
        ours.client = f_.host_.options().peer_id_prefix;
        send_ext(0, encode_ext_handshake(ours));
        return true;
    }
    // One step: the handshake, or one whole frame; 0 = need more bytes.
    size_t step(std::string_view buf) {
        if (!got_hs_) {
            if (buf.size() < kHandshakeSize) return 0;
            auto hs = parse_handshake(buf.substr(0, kHandshakeSize));
            if (!hs) {
                violate("bad handshake: " + hs.error().message);
                return 0;
            }
            if (!take_handshake(*hs)) return 0;
            return kHandshakeSize;
        }
        if (buf.size() < 4) return 0;
        uint32_t len = (uint32_t(uint8_t(buf[0])) << 24) | (uint32_t(uint8_t(buf[1])) << 16) |
                       (uint32_t(uint8_t(buf[2])) << 8) | uint32_t(uint8_t(buf[3]));
        if (len > kMaxFrame) {
            violate("message of " + std::to_string(len) + " bytes");
            return 0;
        }
        if (buf.size() < 4 + size_t(len)) return 0;
        if (len >= 2 && uint8_t(buf[4]) == 20) on_extended(uint8_t(buf[5]), buf.substr(6, len - 2));
        return 4 + size_t(len);  // anything else (bitfield, have, choke...) is skipped
    }
    void on_extended(uint8_t id, std::string_view payload) {
        if (id == 0) return on_ext_handshake(payload);
        if (id != uint8_t(ExtMsg::ut_metadata)) return;
        auto m = parse_metadata_msg(payload);
        if (!m) return violate(m.error().message);
        switch (m->type) {
            case MetadataMsgType::request:
                // We have nothing to give yet (id 0 would be a handshake).
                if (remote_id_ != 0) send_ext(remote_id_, encode_metadata_reject(m->piece));
                return;
            case MetadataMsgType::reject:
                f_.asm_.on_reject(key_, m->piece);
                return f_.pump();
            case MetadataMsgType::data: {
                auto r = f_.asm_.on_data(key_, m->piece, m->total_size, m->data);
                if (!r) return violate(r.error().message);
                if (*r) return f_.on_complete();
                return f_.pump();
            }
            case MetadataMsgType::unknown: return;
        }
    }
    void on_ext_handshake(std::string_view payload) {
        if (payload.size() > kMaxExtHandshake) return violate("extended handshake too large");
        auto h = parse_ext_handshake(payload);
        if (!h) return violate(h.error().message);
        got_ext_ = true;
        if (h->listen_port > 0) listen_port_ = h->listen_port;
        if (h->ids[size_t(ExtMsg::ut_metadata)] >= 0) remote_id_ = h->remote_id(ExtMsg::ut_metadata);
        if (remote_id_ == 0) return close("peer does not offer ut_metadata");
        if (h->metadata_size >= 0 || !sized_) {
            if (h->metadata_size < 0) return close("peer did not say its metadata_size");
            if (Status s = f_.asm_.peer_size(key_, h->metadata_size); !s) return violate(s.error().message);
            sized_ = true;
        }
        f_.pump();
    }

    MetadataFetch& f_;
    uint32_t key_;
    std::unique_ptr<PeerTransport> t_;
    std::string addr_, violation_;
    bool incoming_, tcp_up_ = false, sent_hs_ = false, got_hs_ = false, got_ext_ = false, sized_ = false;
    bool closed_ = false, slots_released_ = false;
    uint8_t remote_id_ = 0;
    int listen_port_ = -1;
    int64_t born_ms_;
};

MetadataFetch::MetadataFetch(TorrentHost& host, MagnetLink link, Done done)
    : host_(host), link_(std::move(link)), done_(std::move(done)) {}

MetadataFetch::~MetadataFetch() {
    // Destroying a transport closes it silently: give the slots back here.
    for (auto& [k, c] : conns_) c->release_slots();
    conns_.clear();
}

void MetadataFetch::log(LogLevel l, const std::string& msg) { host_.log(l, link_.display_name(), msg); }

void MetadataFetch::start() {
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(host_.loop(), t); });
    if (timer_) {
        timer_->data = this;
        uv_timer_start(timer_.get(), [](uv_timer_t* t) {
            auto* f = static_cast<MetadataFetch*>(t->data);
            f->tick(f->host_.now_ms());
        }, 1000, 1000);
    }
    if (!link_.trackers.empty()) {
        Announcer::Hooks hooks;
        auto alive = jobs_.token();
        hooks.make_request = [this] {
            AnnounceRequest r;
            r.info_hash = link_.info_hash;
            r.peer_id = host_.identity().peer_id;
            r.port = host_.identity().listen_port;
            r.left = kMetadataPiece;  // unknown until the metadata arrives; not 0, which says "seed"
            r.numwant = 50;
            r.key = host_.identity().announce_key;
            r.ip = host_.options().announce_ip;
            r.ipv6 = host_.identity().ipv6;
            return r;
        };
        hooks.on_peers = [this, alive](const std::vector<PeerEndpoint>& peers) {
            if (!alive.expired()) add_peers(peers);
        };
        hooks.on_log = [this, alive](LogLevel l, const std::string& m) {
            if (!alive.expired()) log(l, m);
        };
        hooks.wait_turn = [this](const std::string& url, std::function<void()> go) {
            return host_.announce_turn(url, std::move(go));
        };
        HttpOptions http;
        http.bind_ip = host_.options().bind_ip;
        http.ca_file = host_.options().ca_file;
        std::vector<std::vector<std::string>> tiers;
        for (const auto& t : link_.trackers) tiers.push_back({t});
        UdpTrackerOptions udp;
        udp.mux = host_.udp_trackers();  // the listen port's UDP socket, when it is open
        announcer_ = std::make_unique<Announcer>(host_.loop(), std::move(tiers), http, std::move(hooks), std::move(udp));
        announcer_->start();
    }
    log(LogLevel::info, "fetching metadata for " + to_hex(link_.info_hash) + " from " +
                            std::to_string(link_.trackers.size()) + " tracker(s) and " +
                            std::to_string(link_.peers.size() + link_.peer_hosts.size()) + " peer hint(s)");
    add_peers(link_.peers);
    // Host-name hints are looked up on the pool (resolve_address bounds the lookups).
    auto alive = jobs_.token();
    for (const auto& [host, port] : link_.peer_hosts) {
        resolve_address(host_.loop(), host, port, SOCK_STREAM, host_.options().bind_ip,
                        [this, alive, h = host](Result<sockaddr_storage> r) {
                            if (alive.expired() || finished_) return;
                            PeerEndpoint ep;
                            if (!r.ok() || !sockaddr_to_ip(reinterpret_cast<const sockaddr*>(&*r), ep.ip, ep.port)) {
                                log(LogLevel::warning, "peer hint " + h + ": " +
                                                           (r.ok() ? std::string("no usable address") : r.error().message));
                                return;
                            }
                            add_peers({ep});
                        });
    }
}

void MetadataFetch::stop() {
    finished_ = true;
    done_ = nullptr;
    announcer_.reset();
    timer_.reset();
    for (auto& [k, c] : conns_) c->close("metadata fetch stopped");
}

void MetadataFetch::remember(const PeerEndpoint& ep) {
    if (known_.size() >= kMaxKnown) return;
    if (std::find(known_.begin(), known_.end(), ep) == known_.end()) known_.push_back(ep);
}

void MetadataFetch::add_peers(const std::vector<PeerEndpoint>& peers) {
    if (finished_) return;
    int64_t now = host_.now_ms();
    for (const auto& p : peers) {
        std::string addr = p.to_string();
        if (host_.is_banned(p.ip) || host_.is_self_address(addr)) continue;
        if (p.port == host_.identity().listen_port &&
            (p.ip == host_.options().bind_ip || p.ip == host_.options().announce_ip))
            continue;
        remember(p);
        book_.offered(p, now);
    }
    connect_more();
}

void MetadataFetch::connect_more() {
    int64_t now = host_.now_ms();
    while (!finished_ && conns_.size() < kMaxConnections && host_.may_connect()) {
        auto ep = book_.next_eligible(now);
        if (!ep) break;
        std::string addr = ep->to_string();
        sockaddr_storage ss{};
        if (!ip_to_sockaddr(ep->ip, ep->port, ss) || host_.is_banned(ep->ip) || host_.is_self_address(addr)) {
            book_.ban(addr);
            continue;
        }
        host_.slot_event(SlotEvent::outgoing_opened);
        uint32_t key = next_key_++;
        // Plain text unless the user requires encryption: a fetch has no
        // plain-text retry, and most peers that serve metadata accept both.
        const Sha1Digest* skey = host_.options().encryption == Encryption::require ? &link_.info_hash : nullptr;
        auto t = host_.connect_peer(reinterpret_cast<sockaddr*>(&ss), skey);
        conns_.emplace(key, std::make_unique<Conn>(*this, key, std::move(t), addr, false));
    }
}

void MetadataFetch::add_incoming(std::unique_ptr<PeerTransport> conn, const Handshake& hs, std::string_view rest,
                                 size_t& used) {
    used = 0;
    if (finished_ || conns_.size() >= kMaxConnections) {
        conn->close(finished_ ? "metadata fetch ended" : "too many metadata peers");
        // The transport reports on_closed to no one once we drop it: give its slot back.
        host_.slot_event(SlotEvent::closed);
        return;
    }
    uint32_t key = next_key_++;
    std::string addr = conn->remote();
    auto c = std::make_unique<Conn>(*this, key, std::move(conn), addr, true);
    Conn* raw = c.get();
    conns_.emplace(key, std::move(c));
    used = raw->accept(hs, rest);
}

void MetadataFetch::pump() {
    if (verifying_ || finished_) return;
    int64_t now = host_.now_ms();
    for (auto& [k, c] : conns_) {
        if (c->closed() || !c->ready()) continue;
        while (auto piece = asm_.next_request(k, now)) c->request(*piece);
    }
}

void MetadataFetch::tick(int64_t now) {
    dead_.clear();
    if (finished_) return;
    for (uint32_t k : asm_.timed_out(now)) {
        auto it = conns_.find(k);
        if (it != conns_.end()) it->second->close("metadata request timed out");
    }
    for (auto& [k, c] : conns_)
        if (c->expired(now)) c->close("handshake timed out");
    if (now - last_prune_ms_ >= 60'000) {
        last_prune_ms_ = now;
        book_.prune(now);
    }
    connect_more();
    pump();
}

void MetadataFetch::conn_closed(Conn& c, const std::string& why, bool violation) {
    asm_.peer_gone(c.key());
    if (!c.incoming()) {
        if (violation) book_.ban(c.addr());  // its pieces did not add up: not dialled again
        else book_.closed(c.addr(), host_.now_ms());
    }
    log(violation ? LogLevel::warning : LogLevel::debug, "metadata peer " + c.addr() + " disconnected: " + why);
    auto it = conns_.find(c.key());
    if (it != conns_.end()) {
        dead_.push_back(std::move(it->second));
        conns_.erase(it);
    }
    if (!finished_) {
        connect_more();
        pump();
    }
}

void MetadataFetch::on_complete() {
    if (verifying_) return;
    verifying_ = true;
    std::string info = asm_.assemble();
    auto shared = std::make_shared<std::string>(std::move(info));
    Status q = queue_job(
        host_.loop(), jobs_.token(), [shared, ih = link_.info_hash] { return metadata_matches(ih, *shared); },
        [this, shared](Result<bool> ok) { on_verified(ok.ok() && *ok, std::move(*shared)); });
    if (!q) on_verified(metadata_matches(link_.info_hash, *shared), std::move(*shared));
}

void MetadataFetch::on_verified(bool ok, std::string info) {
    verifying_ = false;
    if (!ok) {
        auto senders = asm_.mismatch();
        log(LogLevel::warning, "metadata from " + std::to_string(senders.size()) +
                                   " peer(s) does not hash to the info-hash; fetching it again");
        if (senders.size() == 1) {
            if (auto it = conns_.find(senders[0]); it != conns_.end()) {
                host_.ban(it->second->ip());
                it->second->violate("sent metadata that does not match the info-hash (banned)");
            }
        }
        pump();
        return;
    }
    finished_ = true;
    log(LogLevel::info, "metadata received (" + std::to_string(info.size()) + " bytes from " +
                            std::to_string(connected_peers()) + " peer(s))");
    // Incoming peers' listen ports (from their extended handshakes) are
    // addresses the torrent can dial too.
    for (auto& [k, c] : conns_) {
        if (!c->incoming() || c->listen_port() <= 0) continue;
        remember(PeerEndpoint{c->ip(), uint16_t(c->listen_port())});
    }
    for (auto& [k, c] : conns_) c->close("metadata complete");
    announcer_.reset();
    if (done_) {
        auto done = std::move(done_);
        done_ = nullptr;
        done(std::move(info), known_);
    }
}

int MetadataFetch::connected_peers() const {
    int n = 0;
    for (const auto& [k, c] : conns_) n += !c->closed() && c->past_handshake();
    return n;
}

}  // namespace btl
