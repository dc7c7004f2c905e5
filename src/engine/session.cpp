#include "btl/engine/session.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "btl/core/turn_queue.hpp"
#include "btl/disk/resume.hpp"
#include "btl/engine/metadata_fetch.hpp"
#include "btl/net/mse_transport.hpp"

namespace btl {

// An incoming connection until its handshake names a torrent.  A plain
// handshake starts "\x13BitTorrent protocol"; anything else is taken for
// an MSE/PE one, which names its torrent by HASH('req2', info-hash).
class Session::Pending : public PeerConnectionHandler {
public:
    Pending(Session& s, uv_tcp_t* client) : s_(s) {
        auto c = std::make_unique<PeerConnection>(s.loop(), this);
        c->adopt(client);
        conn_ = std::move(c);
        remote_ = conn_->remote();
        born_ms_ = s.now_ms();
    }
    Pending(Session& s, std::unique_ptr<PeerTransport> t) : s_(s), conn_(std::move(t)) {
        conn_->set_handler(this);
        remote_ = conn_->remote();
        born_ms_ = s.now_ms();
    }
    void on_connected() override {}
    void on_sent(size_t) override {}
    size_t on_data(std::string_view buf) override {
        if (!decided_) {
            static constexpr std::string_view kPlain("\x13" "BitTorrent protocol", 20);
            const size_t n = std::min(buf.size(), kPlain.size());
            if (buf.substr(0, n) == kPlain.substr(0, n) && n < kPlain.size()) return 0;  // not sure yet
            decided_ = true;
            if (buf.substr(0, n) != kPlain) return start_mse(buf);
            if (s_.opt_.encryption == Encryption::require) {
                conn_->close("plain-text handshake refused (--encryption require)");
                return 0;
            }
        }
        if (buf.size() < kHandshakeSize) return 0;
        auto hs = parse_handshake(buf.substr(0, kHandshakeSize));
        if (!hs.ok()) {
            conn_->close("bad handshake: " + hs.error().message);
            return 0;
        }
        Torrent* t = s_.find(hs->info_hash);
        if (MetadataFetch* f = t ? nullptr : s_.find_fetch(hs->info_hash)) {  // a magnet still fetching
            size_t used = 0;
            handed_over_ = true;
            f->add_incoming(std::move(conn_), *hs, buf.substr(kHandshakeSize), used);
            s_.retire(this);
            return kHandshakeSize + used;
        }
        if (!t || !t->accepting_peers()) {
            conn_->close(t ? "torrent not accepting peers"
                           : "handshake for an unknown torrent (info-hash " + to_hex(hs->info_hash) + ")");
            return 0;
        }
        size_t used = 0;
        handed_over_ = true;
        t->add_incoming(std::move(conn_), *hs, buf.substr(kHandshakeSize), used);
        s_.retire(this);
        return kHandshakeSize + used;
    }
    void on_closed(const std::string& why) override {
        s_.log(LogLevel::debug, "", "incoming connection from " + remote_ + " closed before its handshake: " + why);
        s_.slot_event(SlotEvent::closed);
        s_.retire(this);
    }
    bool expired(int64_t now) const { return !handed_over_ && now - born_ms_ > 20'000; }
    void close(const std::string& why) {
        if (conn_) conn_->close(why);
    }

private:
    // The rest of the connection runs through an MseTransport, which hands
    // this object the plain stream after the negotiation.
    size_t start_mse(std::string_view buf) {
        MseConfig cfg;
        cfg.crypto = s_.opt_.encryption == Encryption::require ? kMseCryptoRc4 : kMseCryptoRc4 | kMseCryptoPlain;
        cfg.prefer_plain = s_.opt_.encryption == Encryption::allow;
        Session& s = s_;
        auto hs = MseHandshake::responder([&s](const Sha1Digest& req2, Sha1Digest& skey) {
            auto it = s.by_req2_.find(req2);
            if (it == s.by_req2_.end()) return false;
            skey = it->second;
            return true;
        }, cfg);
        auto mse = std::make_unique<MseTransport>(std::move(conn_), std::move(hs), this);
        MseTransport* raw = mse.get();
        conn_ = std::move(mse);
        return raw->take_buffered(buf);  // may hand conn_ over to a torrent
    }

    Session& s_;
    std::unique_ptr<PeerTransport> conn_;
    std::string remote_;
    int64_t born_ms_ = 0;
    bool handed_over_ = false, decided_ = false;
};

struct Session::Turns {
    TurnQueue queue{kAnnouncesPerTracker};
    std::map<uint64_t, std::function<void()>> go;  // waiting turns
    std::function<void()> wake;                    // schedules grant_turns
    struct Token {
        std::weak_ptr<Turns> turns;
        uint64_t id = 0;
        ~Token() {
            auto t = turns.lock();
            if (!t) return;
            t->queue.release(id);
            t->go.erase(id);
            if (t->queue.waiting() > 0 && t->wake) t->wake();
        }
    };
};

Session::Session(uv_loop_t* loop, SessionOptions opt, EventSink* sink)
    : loop_(loop), opt_(std::move(opt)), sink_(sink), listener_(loop) {
    std::random_device rd;
    rng_.seed((uint64_t(rd()) << 32) ^ rd() ^ uint64_t(uv_hrtime()));
    peer_id_ = make_peer_id(opt_.peer_id_prefix, rng_());
    key_ = uint32_t(rng_());
    disk_ = std::make_unique<DiskIo>(loop_);
    files_ = std::make_shared<FilePool>(opt_.max_files_open);
    data_dir_ = opt_.data_dir.empty() ? default_data_dir() : opt_.data_dir;
    tick_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    tick_->data = this;
    uv_timer_start(tick_.get(), [](uv_timer_t* t) {
        if (auto* s = static_cast<Session*>(t->data)) s->on_tick();
    }, 1000, 1000);
    bw_tick_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    bw_tick_->data = this;
    turns_ = std::make_shared<Turns>();
    turn_timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    turn_timer_->data = this;
    turns_->wake = [this] {
        if (turn_timer_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(turn_timer_.get())))
            uv_timer_start(turn_timer_.get(), [](uv_timer_t* t) {
                if (auto* s = static_cast<Session*>(t->data)) s->grant_turns();
            }, 0, 0);
    };
    set_rate_limits(opt_.max_upload_rate, opt_.max_download_rate);  // needs bw_tick_
}

Session::~Session() {
    turns_->wake = nullptr;
    fetches_.clear();
    dead_fetches_.clear();
    pending_.clear();
    by_hash_.clear();
    by_req2_.clear();
    torrents_.clear();
    graveyard_.clear();
}

void Session::set_rate_limits(int64_t up, int64_t down) {
    opt_.max_upload_rate = up;
    opt_.max_download_rate = down;
    up_bucket_.set_rate(double(up));
    down_bucket_.set_rate(double(down));
    if (!bw_tick_) return;
    if (up > 0 || down > 0)
        uv_timer_start(bw_tick_.get(), [](uv_timer_t* t) {
            if (auto* s = static_cast<Session*>(t->data)) s->on_bandwidth_tick();
        }, 50, 50);
    else {
        uv_timer_stop(bw_tick_.get());
        // No tick will wake the torrents still waiting for tokens (reads
        // paused under the old limit stalled forever): wake them now.
        on_bandwidth_tick();
    }
}

Status Session::start() {
    // Resume data lives in data_dir/resume; create it up front so a bad
    // --data_dir is reported at start, not at the first save.
    std::string d = data_dir_;
    for (size_t i = 1; i <= d.size(); ++i)
        if (i == d.size() || d[i] == '/') ::mkdir(d.substr(0, i).c_str(), 0755);
    ::mkdir((d + "/resume").c_str(), 0755);
    struct stat st {};
    if (::stat((d + "/resume").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return make_error("cannot create data directory " + d + "/resume");
    stale_temps_ = find_resume_temps(d);
    int rc = listener_.listen(opt_.bind_ip, opt_.minport, opt_.maxport, [this](uv_tcp_t* c) { on_accept(c); });
    if (rc != 0)
        return make_error("cannot listen on " + (opt_.bind_ip.empty() ? std::string("any address") : opt_.bind_ip) +
                          " ports " + std::to_string(opt_.minport) + "-" + std::to_string(opt_.maxport) + ": " +
                          uv_strerror(rc));
    log_listening();
    start_reach();
    open_udp();
    if (opt_.dht && udp_) start_dht();
    if (opt_.utp) start_utp();
    return Ok{};
}

void Session::dht_totals(SessionStatus& s) const {
    s.dht_nodes = dht_ ? int64_t(dht_->nodes()) : -1;  // both tables (BEP 32)
    s.dht_nodes6 = dht_ ? int64_t(dht_->nodes6()) : -1;
    if (dht_) {
        s.dht_packets_in = int64_t(dht_->packets_in());
        s.dht_packets_out = int64_t(dht_->packets_out());
    }
}

void Session::start_dht() {
    DhtService::Hooks h;
    h.wants_peers = [this](const Sha1Digest& ih) {
        Torrent* t = find(ih);
        return t && t->accepting_peers();
    };
    h.on_peers = [this](const Sha1Digest& ih, const std::vector<PeerEndpoint>& peers) {
        if (Torrent* t = find(ih)) t->add_peers(peers, PeerSource::dht);
    };
    h.log = [this](LogLevel l, const std::string& m) { log(l, "", m); };
    dht_ = std::make_unique<DhtService>(loop_, opt_, data_dir_, std::move(h), rng_());
    // A UDP port already taken is no reason to refuse to run: no DHT then.
    if (auto st = dht_->start(udp_); !st.ok()) {
        log(LogLevel::warning, "", st.error().message);
        dht_.reset();
        return;
    }
    for (auto& [ih, t] : torrents_)
        if (!t->metainfo().is_private) dht_->add_torrent(ih);
}

void Session::log(LogLevel lvl, const std::string& torrent, const std::string& msg) {
    if (sink_) sink_->log(lvl, torrent, msg);
}

std::string Session::resume_file(const Sha1Digest& ih) const { return resume_path(data_dir_, ih); }

Result<Torrent*> Session::add_torrent(AddTorrentParams p) {
    if (shutting_down_) return make_error("shutting down");
    if (torrents_.count(p.metainfo.info_hash))
        return make_error("torrent " + to_hex(p.metainfo.info_hash) + " is already running");
    Sha1Digest ih = p.metainfo.info_hash;
    std::string hex = to_hex(ih);
    if (!lock_table_) {
        lock_table_ = std::make_unique<LockTable>(data_dir_ + "/resume/torrents.lock");
        if (opt_.lock_claims)
            if (std::string why = lock_table_->own_claims(); !why.empty())
                log(LogLevel::warning, "", why + "; taking one lock per torrent instead");
    }
    auto lk = lock_table_->lock(lock_table_key(ih.data()));
    if (lk.busy)
        return make_error("in use by another process (" +
                          (lk.holder_pid > 0 ? "pid " + std::to_string(lk.holder_pid) : std::string("pid unknown")) +
                          ", lock " + lock_table_->path() + ")");
    if (!lk.ok()) return make_error(lk.error);
    locks_.insert(ih);
    if (auto st = stale_temps_.find(hex); st != stale_temps_.end()) {
        for (const auto& f : st->second) ::unlink(f.c_str());
        stale_temps_.erase(st);
    }
    uint32_t id = next_id_++;
    auto t = std::make_unique<Torrent>(*this, std::move(p), id);
    Torrent* raw = t.get();
    torrents_.emplace(ih, std::move(t));
    by_hash_[ih] = raw;
    by_req2_[mse_req2_hash(ih)] = ih;
    by_id_[id] = raw;
    active_.insert(id);
    raw->start();
    if (dht_ && !raw->metainfo().is_private) dht_->add_torrent(ih);
    return raw;
}

Torrent* Session::find(const Sha1Digest& ih) {
    auto it = by_hash_.find(ih);
    return it == by_hash_.end() ? nullptr : it->second;
}

std::vector<Torrent*> Session::torrents() const {
    std::vector<Torrent*> out;
    for (auto& [h, t] : torrents_) out.push_back(t.get());
    return out;
}

void Session::take_changed(std::vector<Torrent*>& out) {
    // A removed torrent's id is never reused: an id not found is gone.
    for (uint32_t id : changed_) {
        auto it = by_id_.find(id);
        if (it == by_id_.end()) continue;
        it->second->clear_change_mark();
        out.push_back(it->second);
    }
    changed_.clear();
}

void Session::remove_torrent(const Sha1Digest& ih, std::function<void()> done) {
    auto it = torrents_.find(ih);
    if (it == torrents_.end()) {
        if (done) done();
        return;
    }
    if (auto r = removing_.find(ih); r != removing_.end()) {
        // Already stopping: the caller must not see the torrent gone (and
        // e.g. re-add it) before it really is.
        if (done) r->second.push_back(std::move(done));
        return;
    }
    if (dht_) dht_->remove_torrent(ih);
    auto& waiters = removing_[ih];
    if (done) waiters.push_back(std::move(done));
    it->second->stop([this, ih] {
        auto it = torrents_.find(ih);
        if (it != torrents_.end()) {
            by_id_.erase(it->second->id());
            active_.erase(it->second->id());
            waiting_bandwidth_.erase(it->second->id());
            by_hash_.erase(ih);
            by_req2_.erase(mse_req2_hash(ih));
            graveyard_.push_back(std::move(it->second));  // freed on the next tick, outside its own callbacks
            torrents_.erase(it);
        }
        if (locks_.erase(ih))  // its resume data is saved: another process may take it now
            lock_table_->unlock(lock_table_key(ih.data()));
        std::vector<std::function<void()>> waiting;
        if (auto r = removing_.find(ih); r != removing_.end()) {
            waiting = std::move(r->second);
            removing_.erase(r);
        }
        for (auto& f : waiting) f();
    });
}

void Session::shutdown(std::function<void()> done) {
    shutting_down_ = true;
    listener_.close();
    for (auto& [p, owned] : pending_) p->close("shutting down");
    while (!fetches_.empty()) cancel_fetch(fetches_.begin()->first);
    if (dht_) {  // the routing table is saved before `done`
        dht_->stop([this, done] { shutdown_torrents(done); });
        return;
    }
    shutdown_torrents(std::move(done));
}

void Session::shutdown_torrents(std::function<void()> done) {
    // The gateway's mapping is deleted while the torrents stop; done waits for both.
    auto remaining = std::make_shared<size_t>(torrents_.size() + 1);
    stop_reach([remaining, done] {
        if (--*remaining == 0 && done) done();
    });
    for (auto& [h, t] : torrents_) {
        t->stop([remaining, done] {
            if (--*remaining == 0 && done) done();
        });
    }
}

void Session::retire(Pending* p) {
    auto it = pending_.find(p);
    if (it == pending_.end()) return;
    dead_pending_.push_back(std::move(it->second));
    pending_.erase(it);
}

void Session::on_accept_utp(std::unique_ptr<PeerTransport> t) {
    // the same caps as TCP; dropping the transport resets the connection
    if (shutting_down_ || !may_accept() || pending_.size() >= kMaxPendingHandshakes) return;
    if (is_banned(t->remote_ip())) return;
    ++connections_;
    auto p = std::make_unique<Pending>(*this, std::move(t));
    Pending* raw = p.get();
    pending_.emplace(raw, std::move(p));
}

void Session::on_accept(uv_tcp_t* client) {
    auto drop = [](uv_tcp_t* c) {
        uv_close(reinterpret_cast<uv_handle_t*>(c), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    };
    // Connections still owing their handshake are capped separately, so a
    // flood of silent sockets cannot take every slot for the handshake timeout.
    if (shutting_down_ || !may_accept() || pending_.size() >= kMaxPendingHandshakes) return drop(client);
    sockaddr_storage ss{};
    int len = sizeof ss;
    std::string ip;
    uint16_t port = 0;
    if (uv_tcp_getpeername(client, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        sockaddr_to_ip(reinterpret_cast<sockaddr*>(&ss), ip, port);
    if (is_banned(ip)) {
        log(LogLevel::debug, "", "refused a connection from banned address " + ip);
        return drop(client);
    }
    ++connections_;
    auto p = std::make_unique<Pending>(*this, client);
    Pending* raw = p.get();
    pending_.emplace(raw, std::move(p));
}

Result<std::shared_ptr<PieceStore>> Session::open_storage(const Metainfo& m, const std::string& save_path) {
    auto st = Storage::open(m, save_path, files_);
    if (!st.ok()) return st.error();
    return std::shared_ptr<PieceStore>(std::make_shared<DiskPieceStore>(loop_, *disk_, *st));
}

std::unique_ptr<PeerTransport> Session::connect_peer(const sockaddr* addr, const Sha1Digest* mse_skey) {
    auto conn = dial_transport(addr);
    if (!mse_skey) return conn;
    MseConfig cfg;
    cfg.crypto = opt_.encryption == Encryption::require ? kMseCryptoRc4 : kMseCryptoRc4 | kMseCryptoPlain;
    return std::make_unique<MseTransport>(std::move(conn), MseHandshake::initiator(*mse_skey, cfg), nullptr);
}

// TCP, or uTP and TCP one after the other (FallbackTransport); MSE, when
// asked for, runs on top of whichever carries the connection.
std::unique_ptr<PeerTransport> Session::dial_transport(const sockaddr* addr) {
    sockaddr_storage to{};
    std::memcpy(&to, addr, addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    auto tcp = [this, a = to](PeerConnectionHandler* h) {
        auto conn = std::make_unique<PeerConnection>(loop_, h);
        conn->connect(reinterpret_cast<const sockaddr*>(&a), opt_.bind_ip, 10'000);
        return std::unique_ptr<PeerTransport>(std::move(conn));
    };
    if (!utp_) return tcp(nullptr);
    // uTP first (TCP after ~1 s) for a peer known to speak it; else TCP,
    // and uTP when TCP fails (a uTP-only peer).
    auto utp = [this, a = to](PeerConnectionHandler* h) {
        return utp_->dial(reinterpret_cast<const sockaddr*>(&a), h);
    };
    std::string ip;
    uint16_t port = 0;
    sockaddr_to_ip(addr, ip, port);
    if (utp_->knows_utp(ip) || utp_first_) return std::make_unique<FallbackTransport>(loop_, utp, tcp, 1'000);
    return std::make_unique<FallbackTransport>(loop_, tcp, utp, 10'000);
}

bool Session::may_connect() const {
    return !shutting_down_ && connections_ < opt_.max_connections && half_open_ < opt_.max_half_open;
}

void Session::slot_event(SlotEvent e) {
    switch (e) {
        case SlotEvent::outgoing_opened:
            ++connections_;
            ++half_open_;
            break;
        case SlotEvent::connect_finished:
            if (half_open_ > 0) --half_open_;
            break;
        case SlotEvent::closed:
            if (connections_ > 0) --connections_;
            break;
    }
}

std::shared_ptr<void> Session::announce_turn(const std::string& tracker_url, std::function<void()> go) {
    auto tok = std::make_shared<Turns::Token>();
    tok->turns = turns_;
    tok->id = turns_->queue.request(tracker_key(tracker_url));
    turns_->go.emplace(tok->id, std::move(go));
    turns_->wake();  // granted from the loop, never inside this call
    return tok;
}

void Session::grant_turns() {
    for (uint64_t id : turns_->queue.grant()) {
        auto it = turns_->go.find(id);
        if (it == turns_->go.end()) continue;  // cancelled by an earlier go()
        auto go = std::move(it->second);
        turns_->go.erase(it);
        if (go) go();
    }
}

void Session::on_tick() {
    int64_t now = now_ms();
    graveyard_.clear();
    dht_dead_.reset();
    dead_pending_.clear();
    dead_fetches_.clear();
    fetch_dht_tick(now);
    for (auto& [p, owned] : pending_)
        if (p->expired(now)) p->close("handshake timed out");
    // Copy: a tick may activate or deactivate torrents.
    std::vector<uint32_t> ids(active_.begin(), active_.end());
    for (uint32_t id : ids) {
        auto it = by_id_.find(id);
        if (it != by_id_.end()) it->second->tick(now);
    }
}

std::vector<TorrentStatus> Session::status(bool detail) const {
    std::vector<TorrentStatus> out;
    out.reserve(torrents_.size());
    for (auto& [h, t] : torrents_) out.push_back(t->status(detail));
    return out;
}

SessionStatus Session::session_status() const {
    SessionStatus s;
    s.listen_port = listener_.port();
    s.port_mapping = port_mapping_text();
    s.torrents = torrents_.size();
    dht_totals(s);
    for (auto& [h, t] : torrents_) {
        auto st = t->status(false);
        s.down_rate += st.down_rate;
        s.up_rate += st.up_rate;
        s.downloaded += st.downloaded;
        s.uploaded += st.uploaded;
        s.peers += size_t(st.peers);
    }
    return s;
}

}  // namespace btl
