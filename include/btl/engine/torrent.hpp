// Torrent: one swarm.  Owns the piece picker, the peers of this torrent, the
// in-memory buffers of pieces being downloaded, the announcer, and the
// torrent's storage.  Pieces are assembled in memory and handed to the disk
// thread pool in one job that hashes and, if the hash matches, writes them;
// so the loop thread never hashes and data is never read back to verify.
//
// Peer is the protocol state of one connection (BEP 3 + the BEP 6 fast
// extension); it lives in torrent_peer.cpp.  Both run only on the loop
// thread.  The torrent reports through its TorrentHost's log sink and through
// TorrentStatus snapshots; it never prints.
//
// What a peer may send (everything else is a violation: the peer is
// disconnected and a warning names it and the reason):
// - frames up to one 16 KiB block message (or the bitfield, if longer);
//   the length prefix alone decides, before anything is buffered;
// - unknown message ids are skipped, like libtorrent, so an extension we
//   do not know does not cut a peer off;
// - a bitfield or have_all after the first message is merged and can only
//   add pieces (aria2 sends a full bitfield instead of 20+ haves, and
//   have_all when it completes); have_none is only valid first;
// - requests of at most 16 KiB inside a piece we have (BEP 3), at most
//   2,000 queued; while choked they are rejected (fast) or ignored;
// - blocks we never requested are dropped; more of them than requests we
//   ever sent is flooding;
// - a peer must read: past 16 MiB queued to it, or 60 s without a write
//   completing, it is dropped (blocks are only served below 4 MiB queued).
// Data that fails the hash check bans the sender's address (SmartBan).
#pragma once
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "btl/base/rate.hpp"
#include "btl/core/bitfield.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/core/piece_picker.hpp"
#include "btl/core/smart_ban.hpp"
#include "btl/core/super_seed.hpp"
#include "btl/core/wire.hpp"
#include "btl/disk/disk_fault.hpp"
#include "btl/disk/disk_io.hpp"
#include "btl/disk/resume.hpp"
#include "btl/disk/storage.hpp"
#include "btl/engine/announcer.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/engine/torrent_host.hpp"
#include "btl/net/peer_connection.hpp"

namespace btl {

class Torrent;

class Peer : public PeerConnectionHandler {
public:
    Peer(Torrent& t, uint32_t key, std::unique_ptr<PeerConnection> conn, bool incoming);
    ~Peer() override;

    void on_connected() override;
    size_t on_data(std::string_view buffered) override;
    void on_sent(size_t bytes) override;
    void on_closed(const std::string& reason) override;

    // Incoming peers: their handshake was read by the session.
    void accept_handshake(const Handshake& hs);
    void disconnect(const std::string& why);
    // The peer broke the protocol: disconnect, and the torrent logs `why`
    // as a warning naming the peer.
    void violation(const std::string& why);
    const std::string& violation_reason() const { return violation_; }
    // Starts the write-stall clock when the send queue goes from empty to busy.
    void note_sending();
    void tick(int64_t now_ms);
    void we_have_piece(uint32_t piece);
    void set_choking(bool choke);
    void fill_requests();
    void serve_requests();
    // Sends at most one block; false if nothing could be sent.  fresh_only:
    // only a block of a piece we have not yet uploaded one whole copy of.
    bool serve_one(bool fresh_only = false);
    void cancel_block(BlockRef b);
    void abort_all_requests();

    PeerConnection& conn() { return *conn_; }
    uint32_t key() const { return key_; }
    bool ready() const { return handshake_done_; }
    bool is_seed() const { return has_.size() && has_.all(); }
    PeerStatus status(int64_t now_ms) const;

    // Public protocol state read by the torrent's choker.
    bool am_choking = true, am_interested = false;
    bool peer_choking = true, peer_interested = false;
    bool snubbed = false, incoming = false, tcp_connected = false;
    int64_t connected_ms = 0, unchoked_ms = -1;
    RateMeter down, up;

private:
    friend class Torrent;
    bool handle_message(const Message& m);
    bool on_piece(const Message& m);
    // Queues bytes to the socket; a peer that lets more than kMaxQueued
    // pile up is not reading and is disconnected.
    void send(std::string bytes);
    void send_handshake();
    void send_bitfield();
    void update_interest();
    void set_have(uint32_t piece);

    Torrent& t_;
    uint32_t key_;
    std::unique_ptr<PeerConnection> conn_;
    bool handshake_done_ = false, sent_handshake_ = false, got_first_message_ = false;
    bool fast_ = false, closed_ = false, got_bitfield_ = false;
    PeerId peer_id_{};
    MsgId first_msg_ = MsgId::choke;
    std::string violation_;
    uint32_t max_message_ = 0;       // longest frame this peer may send us
    uint64_t blocks_requested_ = 0;  // every request we ever sent them
    uint64_t blocks_accepted_ = 0, blocks_unrequested_ = 0;
    int64_t last_write_done_ms_ = 0;
    Bitfield has_;
    uint32_t interesting_count_ = 0;  // pieces they have that we lack
    std::deque<BlockRef> outstanding_;  // our requests to them, oldest first
    struct Request {
        uint32_t piece, begin, length;
    };
    std::deque<Request> their_requests_;
    int disk_reads_in_flight_ = 0;
    size_t queue_target_ = 16;
    int64_t last_block_ms_ = 0, last_recv_ms_ = 0, last_send_ms_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

struct AddTorrentParams {
    Metainfo metainfo;
    std::string save_path;     // single-file: the file; multi-file: the directory
    bool paused = false;
};

class Torrent {
public:
    Torrent(TorrentHost& host, AddTorrentParams p, uint32_t id);
    ~Torrent();
    Torrent(const Torrent&) = delete;
    Torrent& operator=(const Torrent&) = delete;

    void start();
    // Graceful stop: disconnect peers, send `stopped`, save resume data.
    void stop(std::function<void()> done);
    void pause();
    void resume();
    void recheck();

    const Sha1Digest& info_hash() const { return mi_.info_hash; }
    const Metainfo& metainfo() const { return mi_; }
    uint32_t id() const { return id_; }
    TorrentStatus status(bool detail) const;
    // Changes whenever what status(false) shows may have changed (and more
    // often): equal values mean an unchanged row.  O(1).
    uint64_t status_fingerprint() const;
    bool complete() const { return picker_.complete(); }
    // Paused by the user (or resumed paused): no peers, no announces.
    bool paused() const { return paused_; }
    bool accepting_peers() const;

    void add_incoming(std::unique_ptr<PeerConnection> conn, const Handshake& hs, std::string_view rest, size_t& used);
    void add_peers(const std::vector<PeerEndpoint>& peers);
    void tick(int64_t now_ms);  // once a second, from the session

    // Used by Peer.
    TorrentHost& host() { return host_; }
    PiecePicker& picker() { return picker_; }
    void log(LogLevel lvl, const std::string& msg) const;
    void on_block(Peer& from, BlockRef b, std::string_view data);
    void peer_closed(Peer& p, const std::string& reason);
    void read_block(Peer& p, uint32_t piece, uint32_t begin, uint32_t length);
    bool can_download() const { return state_ == TorrentState::downloading && !picker_.complete() && !disk_full_; }
    // Pieces waiting for hash+write hold memory: stop requesting past a cap so
    // a disk slower than the network cannot grow the heap without bound.
    bool disk_backlogged() const { return pending_write_bytes_ >= kMaxPendingWriteBytes; }
    static constexpr int64_t kMaxPendingWriteBytes = int64_t(32) << 20;
    static constexpr uint32_t kBlock = 16384;  // the request size we use and accept
    bool serving() const { return state_ == TorrentState::downloading || state_ == TorrentState::seeding; }
    void maybe_unchoke(Peer& p);
    void on_bandwidth();  // the session's rate limiter has tokens again
    // Seeding: pieces of which less than one copy went out are served first.
    bool upload_fresh(uint32_t piece) const {
        return piece < sent_bytes_.size() && sent_bytes_[piece] < mi_.piece_size(piece);
    }
    void note_upload(uint32_t piece, uint32_t bytes) {
        if (sent_bytes_.size() != mi_.num_pieces()) sent_bytes_.assign(mi_.num_pieces(), 0);
        sent_bytes_[piece] += bytes;
    }
    // BEP 16: while super-seeding, peers get have_none and one `have` at a time.
    bool super_seeding() const { return super_ != nullptr; }
    void on_peer_has(Peer& p, uint32_t piece);  // a have or bitfield bit from p
    void super_seed_update();
    int64_t payload_down = 0, payload_up = 0;

private:
    void begin_check(bool full);
    void check_done(const std::vector<uint8_t>& verified);
    void start_swarm();
    void piece_done(uint32_t piece, bool hash_ok, const Status& write, BufferPtr data);
    void on_complete();
    void run_choker(int64_t now_ms, bool rotate_optimistic);
    void connect_more();
    void save_resume(std::function<void()> done = nullptr, DataSync mode = DataSync::no_sync);
    void set_error(const std::string& e, bool needs_recheck = false);
    // Disk full (disk_fault.hpp): stop downloading, keep seeding, look for
    // space again later.
    void on_disk_full(const std::string& why);
    void check_space();
    void end_disk_full(int64_t free_bytes);
    void close_all_peers(const std::string& why);
    AnnounceRequest make_announce() const;

    TorrentHost& host_;
    Metainfo mi_;
    std::string save_path_;
    uint32_t id_;
    std::shared_ptr<Storage> storage_;
    PiecePicker picker_;
    TorrentState state_ = TorrentState::checking;
    bool paused_ = false, stopping_ = false, was_complete_at_start_ = false;
    std::string error_;
    bool needs_recheck_ = false;
    bool disk_full_ = false, space_check_running_ = false;
    DiskRetry disk_retry_;
    double check_progress_ = 0;
    std::shared_ptr<CheckHandle> check_;
    std::map<uint32_t, std::unique_ptr<Peer>> peers_;
    uint32_t next_key_ = 1;
    std::unordered_map<uint32_t, std::shared_ptr<std::vector<uint8_t>>> piece_bufs_;
    SmartBan smart_ban_;                   // who sent what, for pieces that fail
    void ban_address(const std::string& ip, const std::string& why);
    // SHA-1 of each block of data on the thread pool, then done (loop thread).
    void hash_blocks(BufferPtr data, std::function<void(std::vector<Sha1Digest>)> done);
    std::deque<PeerEndpoint> candidates_;
    std::set<std::string> known_;          // ip:port already tried or connected
    std::unique_ptr<Announcer> announcer_;
    RateMeter down_meter_, up_meter_;
    int64_t total_down_before_ = 0, total_up_before_ = 0;
    int64_t added_time_ = 0, completed_time_ = 0;
    int64_t last_save_ms_ = 0;
    bool resume_dirty_ = false, saving_ = false;
    bool unsynced_ = false;  // the last save did not sync the data files
    uint64_t status_gen_ = 0;  // see status_fingerprint()
    int pending_writes_ = 0;
    int64_t pending_write_bytes_ = 0;
    std::function<void()> after_writes_;
    int64_t have_bytes_ = 0, started_ms_ = 0;
    int ticks_ = 0;
    uint32_t optimistic_ = 0;
    size_t bandwidth_turn_ = 0;  // round-robin start for the rate limiter
    std::unique_ptr<SuperSeed> super_;
    std::vector<int64_t> sent_bytes_;  // per piece, payload uploaded
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btl
