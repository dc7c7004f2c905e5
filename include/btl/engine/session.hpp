// Session: owns the libuv loop's engine-wide state — the listen socket, the
// disk thread-pool front (DiskIo) and file-descriptor pool, the global rate
// limits and connection caps, the ban list — and every Torrent, keyed by
// info-hash.  Incoming connections are read up to their handshake here and
// handed to the torrent they name.
//
// Idle torrents cost nothing: the session's one-second tick visits only
// torrents that are active (checking, or connected to peers, or seeking
// them); a torrent with nothing to do is not touched.
#pragma once
#include <uv.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "btl/base/lock_file.hpp"
#include "btl/base/rate.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/base/async_job.hpp"
#include "btl/core/magnet.hpp"
#include "btl/core/wire.hpp"
#include "btl/disk/disk_io.hpp"
#include "btl/disk/file_pool.hpp"
#include "btl/engine/dht_service.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/engine/torrent.hpp"
#include "btl/engine/torrent_host.hpp"
#include "btl/net/lsd.hpp"
#include "btl/net/peer_connection.hpp"
#include "btl/net/port_mapper.hpp"
#include "btl/net/udp_socket.hpp"
#include "btl/net/udp_tracker_mux.hpp"
#include "btl/net/utp_transport.hpp"

namespace btl {

class MetadataFetch;

// A magnet link's metadata fetch as the views show it.
struct FetchStatus {
    Sha1Digest info_hash{};
    std::string name;            // dn, else the info-hash in hex
    int peers = 0;               // connected metadata peers
    size_t known = 0;            // addresses known
    int64_t metadata_size = -1;  // -1 until a peer said it
    size_t pieces = 0;           // 16 KiB pieces received
    std::string tracker_message;
};

class Session final : public TorrentHost {
public:
    Session(uv_loop_t* loop, SessionOptions opt, EventSink* sink);
    ~Session() override;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Opens the listen port (first free in minport..maxport).
    Status start();
    // Adds a torrent; an error if one with the same info-hash already runs,
    // or if another process runs it: each torrent holds a one-byte record
    // lock in DATA_DIR/resume/torrents.lock while it is here ("in use by
    // another process (pid N, lock PATH)").
    Result<Torrent*> add_torrent(AddTorrentParams p);
    Torrent* find(const Sha1Digest& ih);
    // Stops and removes a torrent (its data stays); `done` after `stopped`
    // was sent and resume data saved.  A second call while the first removal
    // is under way waits for it too; `done` runs at once only if no torrent
    // with that info-hash exists.
    void remove_torrent(const Sha1Digest& ih, std::function<void()> done = nullptr);
    // Graceful shutdown of every torrent, then `done`.
    void shutdown(std::function<void()> done);

    std::vector<TorrentStatus> status(bool detail = false) const;
    SessionStatus session_status() const;
    std::vector<Torrent*> torrents() const;

    void set_rate_limits(int64_t up_bytes_s, int64_t down_bytes_s);
    void set_max_uploads(int n) { opt_.max_uploads = n; }
    // The DHT turned on or off while running (a config reload): off stops
    // the node (its table saved) and closes nothing else (the UDP socket
    // stays for uTP); on starts it with `bootstrap` as routers; other
    // routers while on restart it.  (session_reach.cpp)
    void set_dht(bool on, const std::string& bootstrap);
    uint16_t listen_port() const { return listener_.port(); }
    // "port 51413 open via UPnP at 203.0.113.7" or "port 51413 not mapped: <reason>".
    std::string port_mapping() const { return port_mapping_text(); }
    const std::string& data_dir() const { return data_dir_; }
    bool may_accept() const { return connections_ < opt_.max_connections; }
    static constexpr size_t kMaxPendingHandshakes = 128;
    // Announces take turns per tracker server (TurnQueue): at most this many
    // announces to one server are under way.
    static constexpr size_t kAnnouncesPerTracker = 32;

    // ---- magnet links (session_magnet.cpp) ----------------------------------
    // Fetches the info dictionary of `link` from peers (MetadataFetch), saves
    // it as saved_torrent_path() on the pool, then calls `done` with the
    // Metainfo, which adds the torrent (add_torrent) before returning; the
    // addresses the fetch knew are handed to that torrent.  `done` gets an
    // error if the dictionary hashes right but is no valid info dictionary.
    // An error at once if a torrent or a fetch with this info-hash runs.
    using MetadataDone = std::function<void(Result<Metainfo>)>;
    Status fetch_metadata(const MagnetLink& link, MetadataDone done);
    // Stops a fetch (its `done` never runs).  Nothing if none runs.
    void cancel_fetch(const Sha1Digest& ih);
    // More peers for a running fetch (the DHT, later): false if none runs.
    bool add_fetch_peers(const Sha1Digest& ih, const std::vector<PeerEndpoint>& peers);
    bool fetch_status(const Sha1Digest& ih, FetchStatus& out) const;
    std::vector<FetchStatus> fetches() const;
    MetadataFetch* find_fetch(const Sha1Digest& ih);
    // DATA_DIR/torrents/<info-hash hex>.torrent: where fetched metadata is kept.
    static std::string saved_torrent_path(const std::string& data_dir, const Sha1Digest& ih);

    // ---- TorrentHost (torrent_host.hpp) ------------------------------------
    uv_loop_t* loop() const override { return loop_; }
    int64_t now_ms() const override { return static_cast<int64_t>(uv_now(loop_)); }
    uint64_t random() override { return rng_(); }
    const SessionOptions& options() const override { return opt_; }
    HostIdentity identity() const override {
        return HostIdentity{peer_id_, listener_.port(), key_, external_port(), ipv6_address_};
    }
    Result<std::shared_ptr<PieceStore>> open_storage(const Metainfo& m, const std::string& save_path) override;
    std::string resume_file(const Sha1Digest& ih) const override;
    void log(LogLevel lvl, const std::string& torrent, const std::string& msg) override;
    bool is_banned(const std::string& ip) const override { return banned_.count(ip) > 0; }
    void ban(const std::string& ip) override { banned_.insert(ip); }
    void note_self_address(const std::string& addr) override { self_addrs_.insert(addr); }
    bool is_self_address(const std::string& addr) const override { return self_addrs_.count(addr) > 0; }
    bool may_connect() const override;
    void slot_event(SlotEvent e) override;
    std::unique_ptr<PeerTransport> connect_peer(const sockaddr* addr, const Sha1Digest* mse_skey) override;
    std::unique_ptr<PeerTransport> dial_transport(const sockaddr* addr);
    bool take_upload(uint32_t bytes, uint32_t torrent_id) override;
    bool account_download(uint32_t bytes, uint32_t torrent_id) override;
    bool download_allowed() const override {
        return down_bucket_.unlimited() || down_bucket_.available() >= 0;
    }
    void wait_bandwidth(uint32_t torrent_id) override;  // session_bandwidth.cpp
    void set_active(uint32_t torrent_id, bool active) override {
        if (active)
            active_.insert(torrent_id);
        else
            active_.erase(torrent_id);
    }
    std::shared_ptr<void> announce_turn(const std::string& tracker_url, std::function<void()> go) override;
    uint16_t dht_port() const override { return dht_ ? dht_->port() : 0; }
    void utp_hint(const std::string& ip) override {
        if (utp_) utp_->note_utp(ip);
    }
    void dht_node_hint(const std::string& ip, uint16_t port) override {
        if (dht_) dht_->add_node(ip, port);
    }
    std::shared_ptr<UdpTrackerMux> udp_trackers() override { return udp_trackers_; }
    // ---- push-based change tracking (status_changed): the torrents whose
    // status may have changed since the last call, each once; their marks
    // are cleared, so the next change marks them again.  O(changed).
    void status_changed(uint32_t torrent_id) override { changed_.push_back(torrent_id); }
    void take_changed(std::vector<Torrent*>& out);
    // The DHT (null with --dht 0 or before start()): get_peers()/announce()
    // for callers that need peers of an info hash outside a torrent.
    DhtService* dht() { return dht_.get(); }
    // Fills the DHT fields of a SessionStatus (nodes, packets).
    void dht_totals(SessionStatus& s) const;

private:
    // Port mapping and LSD (session_reach.cpp): started once the port is
    // open, stopped (the mapping deleted, bounded wait) at shutdown.
    void start_reach();
    void stop_reach(std::function<void()> done);
    void on_lsd_peer(const Sha1Digest& ih, const PeerEndpoint& peer);
    std::vector<Sha1Digest> lsd_due() const;
    uint16_t external_port() const;
    std::string port_mapping_text() const;

    class Pending;
    void retire(Pending* p);  // a pending connection is done (handed over or closed)
    void on_accept(uv_tcp_t* client);
    void on_accept_utp(std::unique_ptr<PeerTransport> t);
    // The listen port's UDP socket, uTP and UDP trackers on it, our IPv6
    // address for trackers (session_udp.cpp).
    void start_utp();
    void open_udp();
    void log_listening();
    void on_tick();
    void on_bandwidth_tick();
    void grant_turns();
    void start_dht();
    void shutdown_torrents(std::function<void()> done);

    uv_loop_t* loop_;
    SessionOptions opt_;
    EventSink* sink_;
    std::unique_ptr<DiskIo> disk_;
    std::shared_ptr<FilePool> files_;
    Listener listener_;
    std::shared_ptr<UdpSocket> udp_;    // the listen port's UDP socket (DHT, uTP)
    std::unique_ptr<UtpContext> utp_;   // uTP on it (after udp_: destroyed first)
    std::shared_ptr<UdpTrackerMux> udp_trackers_;  // UDP tracker replies on it
    std::string ipv6_address_;          // told to trackers as ipv6= (BEP 7); "" = none
    bool utp_first_ = false;            // BTL_UTP_FIRST=1: dial uTP first everywhere
    // find() by hash: the launcher looks up every torrent each display
    // interval, and a 10,000-node map walk by 20-byte keys was most of that.
    struct DigestHash {
        size_t operator()(const Sha1Digest& d) const {
            size_t h;
            std::memcpy(&h, d.data(), sizeof h);  // SHA-1 bytes are uniform already
            return h;
        }
    };
    // Hashed, not ordered: 100,000 ordered inserts by 20-byte keys were 6 %
    // of a long load; nothing depends on the order torrents are visited in.
    std::unordered_map<Sha1Digest, std::unique_ptr<Torrent>, DigestHash> torrents_;
    std::unordered_map<Sha1Digest, Torrent*, DigestHash> by_hash_;
    // HASH('req2', info-hash) -> info-hash: an encrypted handshake names its
    // torrent only by this (net/mse.hpp).
    std::unordered_map<Sha1Digest, Sha1Digest, DigestHash> by_req2_;
    std::map<uint32_t, Torrent*> by_id_;
    uint32_t next_id_ = 1;
    std::mt19937_64 rng_;
    PeerId peer_id_{};
    uint32_t key_ = 0;
    std::string data_dir_;
    std::set<std::string> banned_, self_addrs_;
    int connections_ = 0, half_open_ = 0;
    TokenBucket up_bucket_, down_bucket_;
    std::set<uint32_t> waiting_bandwidth_, active_;
    // Bandwidth priority (session_bandwidth.cpp): the highest priority among
    // torrents waiting for upload tokens; a lower one waits behind it.
    int max_waiting_priority_ = -2;
    int priority_of(uint32_t torrent_id) const;
    void note_waiting(uint32_t torrent_id);
    std::vector<std::unique_ptr<Torrent>> graveyard_;
    UvHandle<uv_timer_t> tick_, bw_tick_, turn_timer_;
    struct Turns;
    std::shared_ptr<Turns> turns_;  // tokens hold it weakly
    // Incoming connections waiting for their handshake.
    std::map<Pending*, std::unique_ptr<Pending>> pending_;
    std::vector<std::unique_ptr<Pending>> dead_pending_;
    // Torrents being removed -> everyone waiting for that removal to finish.
    std::map<Sha1Digest, std::vector<std::function<void()>>> removing_;
    bool shutting_down_ = false;
    std::unique_ptr<DhtService> dht_;
    // Per-torrent locks (one byte each in DATA_DIR/resume/torrents.lock, one
    // descriptor for all), released once a removed torrent saved its resume
    // data.  locks_ lists the keys this session holds.
    std::unique_ptr<LockTable> lock_table_;
    std::unordered_set<Sha1Digest, DigestHash> locks_;  // hashed: an ordered insert was a 20-byte compare per level
    // Temp files of interrupted resume saves, deleted once their torrent's lock is ours.
    std::map<std::string, std::vector<std::string>> stale_temps_;
    std::unique_ptr<PortMapper> mapper_;
    std::unique_ptr<LsdService> lsd_;
    // The DHT switched off while running: kept until its table is saved,
    // freed on the next tick; started again after that when asked meanwhile.
    std::unique_ptr<DhtService> dht_stopping_, dht_dead_;
    bool dht_restart_ = false;
    void stop_dht_now();
    void forget_fetch_lookups();  // session_magnet.cpp: the DHT is going away
    // Metadata fetches (session_magnet.cpp), declared last: destroyed first.
    struct Fetch;
    void on_metadata(const Sha1Digest& ih, std::string info, std::vector<PeerEndpoint> peers);
    // Starts a DHT get_peers for each fetch that has none running and is due.
    void fetch_dht_tick(int64_t now);
    void finish_fetch(const Sha1Digest& ih, std::shared_ptr<Result<Metainfo>> mi, std::vector<PeerEndpoint> peers);
    std::map<Sha1Digest, std::shared_ptr<Fetch>> fetches_;
    std::vector<std::shared_ptr<Fetch>> dead_fetches_;  // freed on the next tick
    JobOwner fetch_jobs_;
    // Push-based change tracking: torrent ids marked since take_changed().
    std::vector<uint32_t> changed_;
};

}  // namespace btl
