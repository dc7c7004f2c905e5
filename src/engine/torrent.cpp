#include "btl/engine/torrent.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "btl/base/format.hpp"
#include "btl/core/choker.hpp"
#include "btl/net/peer_connection.hpp"
#include "btl/disk/resume.hpp"

namespace btl {

const char* state_name(TorrentState s) {
    switch (s) {
        case TorrentState::checking: return "checking";
        case TorrentState::downloading: return "downloading";
        case TorrentState::seeding: return "seeding";
        case TorrentState::stalled: return "stalled";
        case TorrentState::stopped: return "stopped";
        case TorrentState::error: return "error";
        case TorrentState::fetching: return "fetching metadata";
        case TorrentState::queued: return "queued";
        case TorrentState::finished: return "finished";
    }
    return "?";
}

Torrent::Torrent(TorrentHost& host, AddTorrentParams p, uint32_t id)
    : host_(host),
      mi_(std::move(p.metainfo)),
      save_path_(std::move(p.save_path)),
      id_(id),
      picker_(mi_.num_pieces(), mi_.piece_length, mi_.total_length, kBlock, host.random()),
      paused_(p.paused),
      disk_retry_(DiskRetryPolicy{host.options().disk_retry_interval_ms, 12 * host.options().disk_retry_interval_ms}),
      seed_uploads_(mi_.num_pieces(), mi_.piece_length, mi_.total_length) {
    added_time_ = int64_t(std::time(nullptr));
    final_path_ = std::move(p.final_path);
    label_ = std::move(p.label);
    queued_ = p.queued;
    wanted_bytes_ = mi_.total_length;  // until the file choices are applied
    select_only_ = std::move(p.select_only);
}

Torrent::~Torrent() {
    if (cancel_check_) cancel_check_();
    if (move_) move_->progress->cancel = true;
}

void Torrent::log(LogLevel lvl, const std::string& msg) const { host_.log(lvl, mi_.name, msg); }

void Torrent::set_error(const std::string& e, bool needs_recheck) {
    mark_changed();
    // Several reads or writes in flight fail the same way at once: say it once.
    if (state_ == TorrentState::error && error_ == e) return;
    const bool was_error = state_ == TorrentState::error;
    error_ = e;
    needs_recheck_ = needs_recheck;
    disk_full_ = false;
    state_ = TorrentState::error;
    log(LogLevel::error, needs_recheck ? e + " (re-check the torrent)" : e);
    close_all_peers("torrent error");
    // Nothing more is served from what may be stale, and the tracker stops
    // sending peers here.
    if (storage_) storage_->evict();
    if (announcer_ && !was_error) announcer_->stop(3000, nullptr);
}

void Torrent::on_disk_full(const std::string& why) {
    mark_changed();
    if (disk_full_ || state_ != TorrentState::downloading) return;
    disk_full_ = true;
    error_ = why;
    needs_recheck_ = false;
    int64_t now = host_.now_ms();
    int64_t next = disk_retry_.on_full(now);
    log(LogLevel::error, why + ": download paused, seeding the " + std::to_string(picker_.num_have()) +
                             " pieces we have; looking for free space in " + std::to_string((next - now + 999) / 1000) +
                             " s");
    // Requests in flight would only bring data we cannot store: cancel them
    // (can_download() is false now, so update_interest says not interested).
    for (auto& [k, p] : peers_) {
        p->cancel_all_requests();
        p->update_interest();
    }
    host_.set_active(id_, true);  // the tick must run to look for space again
}

void Torrent::check_space() {
    if (!storage_) return;
    space_check_running_ = true;
    storage_->free_space([this, alive = jobs_.token()](int64_t free_bytes) {
        if (alive.expired()) return;
        space_check_running_ = false;
        end_disk_full(free_bytes);
    });
}

void Torrent::end_disk_full(int64_t free_bytes) {
    mark_changed();
    if (!disk_full_ || state_ != TorrentState::downloading) return;
    int64_t need = std::min<int64_t>(mi_.piece_length, mi_.total_length - have_bytes_);
    if (!disk_retry_.on_check(host_.now_ms(), free_bytes, need)) return;
    disk_full_ = false;
    error_.clear();
    log(LogLevel::info, (free_bytes >= 0 ? format_size(free_bytes) + " free" : std::string("free space unknown")) +
                            " in " + storage_->base_dir() + "; resuming the download");
    for (auto& [k, p] : peers_) p->update_interest();
    if (announcer_) announcer_->want_peers();
}

void Torrent::close_all_peers(const std::string& why) {
    // Our choice (re-check, pause, error, stop), not the peers' fault: their
    // addresses are due again as soon as we want peers.
    for (auto& [k, p] : peers_) {
        if (!p->closed()) closed_by_us_.insert(k);
        p->disconnect(why);
    }
}

bool Torrent::accepting_peers() const {
    return !stopping_ && !paused_ && (state_ == TorrentState::downloading || state_ == TorrentState::seeding) &&
           int(peers_.size()) < host_.options().max_peers_per_torrent;
}

void Torrent::start_swarm() {
    mark_changed();
    if (hold_swarm()) return;
    state_ = complete() ? TorrentState::seeding : TorrentState::downloading;
    // Super-seeding only makes sense for a complete torrent (we reveal what
    // we have); a download never turns it on.
    super_.reset();
    if (host_.options().super_seeder && picker_.complete()) {
        super_ = std::make_unique<SuperSeed>(mi_.num_pieces(), host_.random());
        log(LogLevel::info, "super-seeding: peers are shown one piece at a time");
    }
    error_.clear();
    needs_recheck_ = false;
    disk_full_ = false;
    Announcer::Hooks hooks;
    auto alive = jobs_.token();
    hooks.make_request = [this] { return make_announce(); };
    hooks.on_peers = [this, alive](const std::vector<PeerEndpoint>& peers) {
        if (!alive.expired()) add_peers(peers);
    };
    hooks.on_log = [this, alive](LogLevel l, const std::string& m) {
        if (!alive.expired()) log(l, m);
    };
    hooks.wait_turn = [this](const std::string& url, std::function<void()> go) {
        return host_.announce_turn(url, std::move(go));
    };
    hooks.on_change = [this, alive] {
        if (!alive.expired()) mark_changed();  // what status() shows of the trackers moved
    };
    HttpOptions http;
    http.bind_ip = host_.options().bind_ip;
    http.ca_file = host_.options().ca_file;
    UdpTrackerOptions udp;
    udp.mux = host_.udp_trackers();  // the listen port's UDP socket, when it is open
    announcer_ = std::make_unique<Announcer>(host_.loop(), mi_.tracker_tiers(), http, std::move(hooks), std::move(udp));
    announcer_->start();
    // Started, resumed or re-checked: every address we know may be tried at
    // once, whatever failed before (a re-check dropped them all).
    book_.make_all_eligible(host_.now_ms());
    connect_more();
    host_.set_active(id_, true);
}

AnnounceRequest Torrent::make_announce() const {
    AnnounceRequest r;
    r.info_hash = mi_.info_hash;
    r.peer_id = host_.identity().peer_id;
    r.port = host_.identity().external_port ? host_.identity().external_port : host_.identity().listen_port;
    r.uploaded = total_up_before_ + payload_up_;
    r.downloaded = total_down_before_ + payload_down_;
    r.left = mi_.total_length - have_bytes_;
    r.numwant = 50;
    r.key = host_.identity().announce_key;
    r.ip = host_.options().announce_ip;
    r.ipv6 = host_.identity().ipv6;
    return r;
}

void Torrent::add_peers(const std::vector<PeerEndpoint>& peers, PeerSource src) {
    int64_t now = host_.now_ms();
    // Forgetting is a pass over the book: at most once a minute (the book
    // also prunes itself when an offer takes it past its cap).
    if (now - last_prune_ms_ >= 60'000) {
        last_prune_ms_ = now;
        book_.prune(now);
    }
    size_t offered = 0;
    for (const auto& p : peers) {
        std::string addr = p.to_string();
        if (host_.is_banned(p.ip) || host_.is_self_address(addr)) continue;
        if (p.port == host_.identity().listen_port && (p.ip == host_.options().bind_ip || p.ip == host_.options().announce_ip)) continue;
        // A fresh answer says the address is alive: a backed-off one is due now.
        book_.offered(p, now, src);
        ++offered;
    }
    // Nothing to dial (a DHT answer naming only us): an idle torrent stays
    // idle, rather than ticking and asking its trackers early for peers.
    if (offered == 0) return;
    connect_more();
    host_.set_active(id_, true);
}

void Torrent::connect_more() {
    int64_t now = host_.now_ms();
    while (accepting_peers() && host_.may_connect()) {
        auto ep = book_.next_eligible(now);
        if (!ep) break;
        std::string addr = ep->to_string();
        sockaddr_storage ss{};
        // Never dialled again: banned since it was offered, or found to be us.
        if (!ip_to_sockaddr(ep->ip, ep->port, ss) || host_.is_banned(ep->ip) || host_.is_self_address(addr)) {
            book_.ban(addr);
            continue;
        }
        host_.slot_event(SlotEvent::outgoing_opened);
        uint32_t key = next_key_++;
        dial_addr_[key] = addr;
        const bool mse = dial_encrypted(key, addr);
        // The connect reports asynchronously: the peer is its handler by then.
        auto peer = std::make_unique<Peer>(
            *this, key, host_.connect_peer(reinterpret_cast<sockaddr*>(&ss), mse ? &mi_.info_hash : nullptr),
            false);
        peers_.emplace(key, std::move(peer));
    }
}

bool Torrent::dial_encrypted(uint32_t key, const std::string& addr) {
    const Encryption policy = host_.options().encryption;
    bool mse = policy != Encryption::allow;
    if (policy != Encryption::require && other_mode_.erase(addr)) {
        mse = !mse;  // the first mode failed before the handshake: the other one, once
        fallback_dials_.insert(key);
    }
    return mse;
}

void Torrent::add_incoming(std::unique_ptr<PeerTransport> conn, const Handshake& hs, std::string_view rest,
                           size_t& used) {
    mark_changed();
    used = 0;
    uint32_t key = next_key_++;
    auto peer = std::make_unique<Peer>(*this, key, std::move(conn), true);
    Peer* p = peer.get();
    p->set_tcp_connected();
    peers_.emplace(key, std::move(peer));
    p->accept_handshake(hs);
    if (!rest.empty()) used = p->on_data(rest);
    host_.set_active(id_, true);
}

void Torrent::peer_closed(Peer& p, const std::string& reason) {
    mark_changed();
    if (!p.incoming() && !p.tcp_connected()) host_.slot_event(SlotEvent::connect_finished);
    host_.slot_event(SlotEvent::closed);
    p.abort_all_requests();
    seed_uploads_.peer_gone(p.key());
    if (p.pieces().count() > 0) picker_.dec_availability(p.pieces());
    if (super_) super_->remove_peer(p.key());
    if (!p.violation_reason().empty())
        log(LogLevel::warning, "peer " + p.conn().remote() + " disconnected: " + p.violation_reason());
    else
        log(LogLevel::debug, "peer " + p.conn().remote() + " disconnected: " + reason);
    if (optimistic_ == p.key()) optimistic_ = 0;
    bool was_unchoked = !p.am_choking();
    const int64_t now = host_.now_ms();
    if (auto it = dial_addr_.find(p.key()); it != dial_addr_.end()) {
        // Connected but closed before the BitTorrent handshake: the peer may
        // want the other mode (encrypted or plain text); try it once, now.
        const bool retry = p.tcp_connected() && !p.ready() && !stopping_ &&
                           host_.options().encryption != Encryption::require && !fallback_dials_.count(p.key()) &&
                           other_mode_.size() < 4096;
        if (retry) other_mode_.insert(it->second);
        book_.closed(it->second, now, retry || closed_by_us_.count(p.key()) > 0);  // dialled again after its backoff
        dial_addr_.erase(it);
    }
    fallback_dials_.erase(p.key());
    closed_by_us_.erase(p.key());
    ext_peers_.erase(p.key());
    if (auto it = held_by_.find(p.key()); it != held_by_.end()) {
        book_.release(it->second, now);  // the duplicate we dropped for it may be dialled now
        held_by_.erase(it);
    }
    peers_.erase(p.key());  // destroys p
    if (stopping_) return;
    if (was_unchoked) run_choker(host_.now_ms(), false);
    connect_more();
}

Peer& Torrent::duplicate_loser(Peer& p, Peer& q) {
    // Both ends must drop the same connection: the one initiated by the side
    // with the smaller peer id goes (libtorrent's rule), so only the greater
    // side's dial survives.  Two connections in the same direction (the
    // peer reached at two addresses): the newer one goes.
    if (p.incoming() == q.incoming()) return p;
    const bool we_are_greater = p.peer_id() < host_.identity().peer_id;
    Peer& ours = p.incoming() ? q : p;
    Peer& theirs = p.incoming() ? p : q;
    return we_are_greater ? theirs : ours;
}

void Torrent::peer_identified(Peer& p) {
    mark_changed();
    const int64_t now = host_.now_ms();
    if (auto it = dial_addr_.find(p.key()); it != dial_addr_.end()) book_.connected(it->second, now);
    for (auto& [k, q] : peers_) {
        if (k == p.key() || q->closed() || !q->ready() || q->peer_id() != p.peer_id()) continue;
        Peer& loser = duplicate_loser(p, *q);
        Peer& survivor = &loser == &p ? *q : p;
        // The address we dialled it at waits for the survivor to end, not
        // for a backoff (it would only be dropped again).
        if (auto it = dial_addr_.find(loser.key()); it != dial_addr_.end()) {
            book_.hold(it->second, now);
            held_by_[survivor.key()] = it->second;
        }
        log(LogLevel::debug, "peer " + loser.conn().remote() + ": duplicate connection to " +
                                 survivor.conn().remote() + " dropped");
        loser.disconnect("duplicate connection");
        return;
    }
}

void Torrent::stopped_serving(Peer& p) { seed_uploads_.peer_gone(p.key()); }

void Torrent::maybe_unchoke(Peer& p) {
    if (!p.am_choking() || !serving()) return;
    int unchoked = 0;
    for (auto& [k, q] : peers_)
        if (!q->am_choking()) ++unchoked;
    if (unchoked < host_.options().max_uploads + 1) p.set_choking(false);
}

void Torrent::run_choker(int64_t now, bool rotate) {
    if (!serving()) return;
    std::vector<ChokeCandidate> c;
    c.reserve(peers_.size());
    for (auto& [k, p] : peers_) {
        if (!p->ready()) continue;
        ChokeCandidate x;
        x.id = k;
        x.interested = p->peer_interested();
        x.snubbed = p->snubbed();
        x.rate_from_peer = p->down_rate(now);
        x.rate_to_peer = p->up_rate(now);
        x.unchoked_at_ms = p->unchoked_ms();
        x.connected_at_ms = p->connected_ms();
        c.push_back(x);
    }
    const bool seeding = complete();
    auto regular = choose_unchoked(c, size_t(host_.options().max_uploads), seeding, std::nullopt, now);
    bool opt_valid = optimistic_ && peers_.count(optimistic_) &&
                     std::find(regular.begin(), regular.end(), optimistic_) == regular.end();
    if (rotate || !opt_valid) {
        auto o = pick_optimistic(c, regular, host_.random(), now);
        optimistic_ = o ? *o : 0;
    }
    if (optimistic_) regular.push_back(optimistic_);
    for (auto& [k, p] : peers_) {
        if (!p->ready()) continue;
        bool unchoke = std::find(regular.begin(), regular.end(), k) != regular.end();
        p->set_choking(!unchoke);
    }
}

void Torrent::tick(int64_t now) {
    mark_changed();
    ++ticks_;
    flush_writes();  // blocks of a slow piece wait at most a tick
    for (auto& [k, p] : peers_) p->tick(now);
    if (ticks_ % 10 == 0) run_choker(now, ticks_ % 30 == 0);
    super_seed_update();
    send_pex(now);
    goals_tick(now);
    connect_more();
    // The periodic save syncs the data it claims (on the pool), so a reboot
    // need not re-check it; saves on events (completion, pause, stop) do
    // not wait for the disk, and the next periodic one syncs after them.
    if ((resume_dirty_ || unsynced_) && !saving_ && now - last_save_ms_ > 60'000)
        save_resume(nullptr, DataSync::sync);
    if (move_) begin_move();  // waiting for a save or writes to end
    if (announcer_ && can_download() && peers_.size() < 10) announcer_->want_peers();
    const bool waiting_for_space = disk_full_ && state_ == TorrentState::downloading;
    if (waiting_for_space && !space_check_running_ && disk_retry_.due(now)) check_space();
    // A download waits (ticking) for an address due within a minute; later
    // ones are dialled when a tracker offers them again (which also resets
    // their backoff), so an idle torrent still costs nothing.
    auto due = book_.next_due();
    const bool dial_soon = due && can_download() && *due - now <= 60'000;
    // A download turns "stalled" with time alone: it ticks (and so marks
    // its row changed) until that moment has passed.
    const bool stall_watch = state_ == TorrentState::downloading && now - started_ms_ <= kStalledAfterMs;
    if (peers_.empty() && !dial_soon && state_ != TorrentState::checking && !resume_dirty_ && !move_ &&
        !unsynced_ && !waiting_for_space && down_meter_.rate(now) == 0 && up_meter_.rate(now) == 0 &&
        !goal_watch() && !stall_watch)
        host_.set_active(id_, false);
}

void Torrent::on_bandwidth() {
    // Tokens are scarce: hand them out one block per peer per pass, starting
    // from a rotating position, so one fast requester cannot take them all
    // (that starved every other leecher and stopped them trading).
    std::vector<Peer*> ps;
    ps.reserve(peers_.size());
    for (auto& [k, p] : peers_) {
        if (download_allowed_now() && !disk_hold_reading_ && !p->conn().reading() && !p->conn().closing())
            p->conn().resume_reading();
        ps.push_back(p.get());
    }
    if (ps.empty()) return;
    size_t start = bandwidth_turn_++ % ps.size();
    // Seeding: first the blocks of pieces not yet uploaded once, each piece
    // to the peer it was started for, then those of pieces started for
    // another peer, then duplicates (core/seed_uploads.hpp): the swarm gets
    // every piece from us before any piece twice; a duplicate request waits
    // and is often cancelled meanwhile.
    const Peer::ServeTier tiers[] = {Peer::ServeTier::fresh, Peer::ServeTier::unsent, Peer::ServeTier::any};
    for (size_t t = complete() ? 0 : 2; t < 3; ++t) {
        bool progress = true;
        while (progress) {
            progress = false;
            for (size_t i = 0; i < ps.size(); ++i)
                if (ps[(start + i) % ps.size()]->serve_one(tiers[t])) progress = true;
        }
    }
}

void Torrent::on_peer_has(Peer& p, uint32_t piece) {
    move_off_seeds(p, piece);
    if (!super_) return;
    if (!super_->has_peer(p.key())) return;  // not started yet: its bitfield is read on start
    super_->peer_has(p.key(), piece, host_.now_ms());
    super_seed_update();
}

// A seed's upload is what brings pieces nobody else has into the swarm, and
// a seed serves the pieces it already sent whole last.  Requests to a seed
// for a piece that a leecher now has would wait there, taking the room of
// requests for new pieces: they go back to the picker, which asks the
// leecher (a seed gets partial pieces only when nothing rarer is left).
// Not in endgame, where every block is asked of several peers on purpose.
void Torrent::move_off_seeds(const Peer& p, uint32_t piece) {
    if (p.is_seed() || !picker_.in_progress(piece) || picker_.have(piece) || picker_.in_endgame()) return;
    for (auto& [k, q] : peers_)
        if (q.get() != &p && !q->closed() && q->is_seed() && q->requests_in_flight() > 0) q->cancel_piece_requests(piece);
}

void Torrent::super_seed_update() {
    if (!super_) return;
    int64_t now = host_.now_ms();
    // A peer joins once it has said what it has (its first message), or
    // after 2 s of silence (BEP 3 allows no bitfield when it has nothing).
    for (auto& [k, p] : peers_) {
        if (super_->has_peer(k) || !p->ready() || p->closed()) continue;
        if (!p->said_what_it_has() && now - p->connected_ms() < 2000) continue;
        super_->add_peer(k, now);
        for (uint32_t i = 0; i < mi_.num_pieces() && p->pieces().count(); ++i)
            if (p->pieces().get(i)) super_->peer_has(k, i, now);
    }
    for (auto [k, piece] : super_->reveals(now)) {
        auto it = peers_.find(k);
        if (it == peers_.end() || it->second->closed()) continue;
        it->second->reveal_piece(piece);
    }
}

void Torrent::on_block(Peer& from, BlockRef b, SharedBytes data) {
    auto r = picker_.mark_received(b, from.key());
    if (!r.accepted) return;
    payload_down_ += int64_t(data.size());
    down_meter_.add(int64_t(data.size()), host_.now_ms());
    if (!account_down(uint32_t(data.size()))) from.conn().pause_reading();
    smart_ban_.block_received(b.piece, b.block, uint32_t((mi_.piece_size(b.piece) + kBlock - 1) / kBlock),
                              from.conn().remote_ip());
    for (PeerKey k : r.cancel) {
        auto it = peers_.find(k);
        if (it != peers_.end()) it->second->cancel_block(b);
    }
    queue_block(b, std::move(data), r.piece_complete);
}

void Torrent::ban_address(const std::string& ip, const std::string& why) {
    if (ip.empty()) return;
    if (!host_.is_banned(ip)) {
        host_.ban(ip);
        log(LogLevel::warning, "banned " + ip + ": " + why);
    }
    for (auto& [k, p] : peers_)
        if (p->conn().remote_ip() == ip) p->violation("banned: " + why);
}

void Torrent::on_complete() {
    mark_changed();
    if (state_ != TorrentState::downloading) return;
    state_ = TorrentState::seeding;
    ++completions_;
    completed_time_ = int64_t(std::time(nullptr));
    log(LogLevel::info, "download complete; seeding");
    if (announcer_) announcer_->completed();
    // BEP 21: seeds have nothing to trade; the others hear we only upload now.
    for (auto& [k, p] : peers_) {
        if (p->is_seed() || p->upload_only())
            p->disconnect("both sides are seeds");
        else
            p->send_ext_handshake();
    }
    save_resume();
    move_if_completed();  // --move_completed_to, --incomplete_dir
}

void Torrent::read_block(Peer& p, uint32_t piece, uint32_t begin, uint32_t length) {
    auto talive = jobs_.token();
    // Keys are never reused: a peer found under `key` is the one that asked.
    uint32_t key = p.key();
    int64_t off = int64_t(piece) * mi_.piece_length + begin;
    const uint64_t gen = storage_gen_;
    storage_->read_verified(off, length, mi_.piece_hash(piece), [this, talive, key, piece, begin, length, gen](Result<BufferPtr> r) {
        if (talive.expired()) return;
        auto it = peers_.find(key);
        if (it == peers_.end()) return;
        // The data is being moved: read it again from its new place.
        if (!r.ok() && defer_read(gen, key, piece, begin, length)) return;
        Peer& p = *it->second;
        p.read_done();
        if (!r.ok()) {
            // Nothing is sent for this request, and nothing more at all
            // until a re-check has found out what is still good.
            set_error(r.error().message, true);
            return;
        }
        if (!p.send_block(piece, begin, length, *r)) return;
        payload_up_ += length;
        up_meter_.add(length, host_.now_ms());
        p.serve_requests();
    });
}

}  // namespace btl
