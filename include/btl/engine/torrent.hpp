// Torrent: one swarm.  Owns the piece picker, the peers of this torrent, the
// in-memory buffers of pieces being downloaded, the announcer, and the
// torrent's storage.  Received blocks go to the storage (PieceStore: the
// disk thread pool, or a test's memory twin) in small batches and are
// written at once; the pool hashes each piece in order as its blocks land
// (disk/block_assembler.hpp) and reports a verdict per piece, so memory
// does not grow with the piece size and the loop thread never hashes.  A
// piece counts as had (have messages, resume data) only after its verdict.
//
// Everything from outside comes through TorrentHost (torrent_host.hpp): the
// clock, storage, transports, bans, slots and rate limits; a test builds a
// Torrent with a fake host and no sockets.  Peer (peer.hpp) is the protocol
// state of one connection; the torrent is its PeerOwner and drives it
// through its public queries and commands.  Both run only on the loop
// thread.  The torrent reports through the host's log sink and TorrentStatus
// snapshots; it never prints.
//
// Data that fails the hash check bans the sender's address (SmartBan).
//
// Addresses to dial live in a PeerBook (core/peer_book.hpp): one that
// dropped or failed is dialled again after a backoff, and a tracker's fresh
// answer, a re-check or a resume make every known one eligible again.  One
// connection per peer: when a handshake names a peer id we are already
// connected to, the connection initiated by the side with the greater peer
// id survives, as libtorrent decides, so both ends drop the same one.
#pragma once
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/rate.hpp"
#include "btl/core/bitfield.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/core/peer_book.hpp"
#include "btl/core/piece_picker.hpp"
#include "btl/core/piece_priority.hpp"
#include "btl/core/seed_uploads.hpp"
#include "btl/core/smart_ban.hpp"
#include "btl/core/super_seed.hpp"
#include "btl/core/wire.hpp"
#include "btl/disk/disk_fault.hpp"
#include "btl/disk/move_storage.hpp"
#include "btl/disk/piece_store.hpp"
#include "btl/disk/resume.hpp"
#include "btl/engine/announcer.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/engine/peer.hpp"
#include "btl/engine/torrent_host.hpp"
#include "btl/net/peer_transport.hpp"

namespace btl {

struct AddTorrentParams {
    Metainfo metainfo;
    std::string save_path;     // single-file: the file; multi-file: the directory
    bool paused = false;
    // ---- places and labels (torrent_move.cpp)
    // Where the data moves once the download is complete ("" = it stays):
    // with --incomplete_dir, save_path lies there and final_path is the
    // real save path; with --move_completed_to, final_path lies there.
    std::string final_path;
    std::string label;         // from the watched folder; resume data's wins
    bool queued = false;       // waits for a queue slot (set_queued) once checked
    // Per-file choices: BEP 53 `so` of a magnet link (inclusive ranges of
    // file indices), applied when the torrent has no resume data yet.
    std::vector<std::pair<uint32_t, uint32_t>> select_only;
};

class Torrent final : public PeerOwner {
public:
    Torrent(TorrentHost& host, AddTorrentParams p, uint32_t id);
    ~Torrent() override;
    Torrent(const Torrent&) = delete;
    Torrent& operator=(const Torrent&) = delete;

    void start();
    // Graceful stop: disconnect peers, send `stopped`, save resume data.
    void stop(std::function<void()> done);
    void pause();
    void resume();
    void recheck();

    const Sha1Digest& info_hash() const { return mi_.info_hash; }
    const Metainfo& metainfo() const override { return mi_; }
    uint32_t id() const { return id_; }
    TorrentStatus status(bool detail) const;
    // Changes whenever what status(false) shows may have changed (and more
    // often): equal values mean an unchanged row.  O(1).
    uint64_t status_fingerprint() const;
    // Done downloading: every wanted piece is verified (all of them unless
    // files are skipped).  A torrent with skipped files seeds what it has.
    bool complete() const override { return picker_.wanted_complete(); }
    // Paused by the user (or resumed paused): no peers, no announces.
    bool paused() const { return paused_; }
    bool accepting_peers() const;

    void add_incoming(std::unique_ptr<PeerTransport> conn, const Handshake& hs, std::string_view rest, size_t& used);
    void add_peers(const std::vector<PeerEndpoint>& peers, PeerSource src = PeerSource::tracker);
    // Our external port changed (gateway mapping): trackers hear it now.
    void address_changed() {
        if (announcer_) announcer_->address_changed();
    }
    // Whether the peer book knows this address ("ip:port").
    bool knows_peer(const std::string& addr) const { return book_.state(addr).has_value(); }
    void tick(int64_t now_ms);  // once a second, from the session

    void log(LogLevel lvl, const std::string& msg) const;
    // Blocks waiting to be written hold memory: stop requesting past a cap so
    // a disk slower than the network cannot grow the heap without bound.
    // Blocks are written as they arrive (no whole pieces wait), so 16 MiB
    // is about 50-150 ms of download at loopback rates; 32 MiB made the
    // backlog alone half of the 64 MiB peak-RSS target on a busy disk.
    static constexpr int64_t kMaxPendingWriteBytes = int64_t(16) << 20;
    // Requests already sent keep arriving past that cap (a libtorrent seed
    // takes 500 queued requests, 8 MiB per peer): past this one the
    // torrent stops reading its sockets (the kernel's buffers and TCP flow
    // control hold the rest) until the backlog is below the first cap.
    static constexpr int64_t kHoldReadingBytes = kMaxPendingWriteBytes + (int64_t(8) << 20);
    // Blocks per write job: each job costs two thread wake-ups (the pool
    // thread, then the loop for its completion); 64 blocks (1 MiB, one
    // pwritev when they follow each other) make a 1 GiB download ~1,000
    // jobs (16 blocks: 4,000 jobs, 16 context switches per MiB).
    static constexpr size_t kWriteBatchBlocks = 64;
    void on_bandwidth();  // the session's rate limiter has tokens again

    // ---- PeerOwner (peer.hpp)
    TorrentHost& host() override { return host_; }
    PiecePicker& picker() override { return picker_; }
    bool can_download() const override {
        return state_ == TorrentState::downloading && !picker_.wanted_complete() && !disk_full_;
    }
    bool disk_backlogged() const override { return pending_write_bytes_ >= kMaxPendingWriteBytes; }
    bool serving() const override {
        return state_ == TorrentState::downloading || state_ == TorrentState::seeding;
    }
    // BEP 16: while super-seeding, peers get have_none and one `have` at a time.
    bool super_seeding() const override { return super_ != nullptr; }
    // Seeding: pieces of which less than one copy went out are served first
    // (core/seed_uploads.hpp).
    bool upload_fresh(uint32_t piece, uint32_t peer) const override { return seed_uploads_.fresh(piece, peer); }
    bool upload_unsent(uint32_t piece) const override { return seed_uploads_.unsent(piece); }
    void on_peer_has(Peer& p, uint32_t piece) override;
    // A peer that is not a seed announced `piece`: our requests of it to
    // seeds are cancelled (core/seed_uploads.hpp says why).
    void move_off_seeds(const Peer& p, uint32_t piece);
    void super_seed_update() override;
    void maybe_unchoke(Peer& p) override;
    void on_block(Peer& from, BlockRef b, SharedBytes data) override;
    void peer_closed(Peer& p, const std::string& reason) override;
    void peer_identified(Peer& p) override;
    bool take_upload(uint32_t bytes) override;  // this torrent's cap, then the host's (torrent_goals.cpp)
    void note_upload(uint32_t piece, uint32_t bytes, uint32_t peer) override { seed_uploads_.sent(piece, bytes, peer); }
    void stopped_serving(Peer& p) override;
    void read_block(Peer& p, uint32_t piece, uint32_t begin, uint32_t length) override;
    // ---- places and labels (torrent_move.cpp)
    // Moves the data into dest_dir (DIR/<last element of the save path>) on
    // the thread pool; done(status) on the loop when it ends (an error:
    // nothing moved, or the move was rolled back).  A complete torrent keeps
    // seeding from the old place meanwhile; an incomplete one stops its
    // peers for the move (writes cannot go to two places) and restarts
    // them after.  Crash-safe: see move_storage.hpp and ResumeData.
    Status move_to_dir(const std::string& dest_dir, std::function<void(Status)> done = nullptr);
    // Looks for the data at dest_dir without moving it (RPC move=false):
    // the save path changes and the torrent is re-checked there.
    Status relocate_to_dir(const std::string& dest_dir);
    bool moving() const { return move_ != nullptr; }
    const std::string& save_path() const { return save_path_; }
    const std::string& label() const { return label_; }
    void set_label(std::string label);
    // ---- BEP 10 extensions (torrent_ext.cpp): serving ut_metadata, BEP 11 PEX
    bool pex_enabled() const override { return host_.options().pex && !mi_.is_private; }
    void on_ext_handshake(Peer& p) override;
    void on_extended(Peer& p, ExtMsg m, std::string_view payload) override;
    // Peers dropped for flooding us with PEX.
    uint64_t pex_floods() const { return pex_floods_; }
    // PEX limits (BEP 11; libtorrent's numbers).
    static constexpr int64_t kPexIntervalMs = 60'000;  // what we send each peer, at most this often
    static constexpr size_t kPexMaxSend = 50;           // added, and dropped, per message we send
    static constexpr size_t kPexMaxTake = 100;          // peers we take from one message
    static constexpr int kPexMaxPerMinute = 6;          // more from one peer is a flood

    // ---- queue, seeding goals, per-torrent limits (torrent_goals.cpp)
    // Queued: no peers, no announces, state "queued" (once checked) until
    // set_queued(false); not the user's pause, which stays as it is.
    void set_queued(bool q);
    bool queued() const { return queued_; }
    TorrentState state() const { return state_; }  // as kept (status() adds stalled)
    // Whether resume data was found at start (false: a new torrent).
    bool resumed() const { return resumed_; }
    // A seeding goal was reached (state "finished"); resume() seeds again,
    // without applying the goals that were met to that run.
    bool finished() const { return finished_; }
    const TorrentLimits& limits() const { return limits_; }
    void set_limits(const TorrentLimits& l);
    // This torrent's own seed ratio / idle minutes (mode "this torrent's"):
    // what a label's seed_ratio sets.
    void set_seed_ratio(double r);
    // A label's seed ratio (label.NAME.seed_ratio): the goal in place of the
    // global --seed_ratio while the torrent's own mode is 0 (global).
    void set_label_seed_ratio(std::optional<double> r) { label_seed_ratio_ = r; }
    void set_seed_idle_minutes(int64_t m);
    // The launcher's order key, kept in the resume data (-1 = none yet);
    // save_now: saved at once (a move), else with the next save.
    int64_t queue_key() const { return queue_key_; }
    void set_queue_key(int64_t k, bool save_now = true);
    // Downloads completed while this object ran (a resumed complete torrent: 0).
    uint64_t completions() const { return completions_; }
    // Milliseconds since payload last arrived, or since the swarm started.
    int64_t download_idle_ms() const;
    // The seeding goals in force now: ratio (0 = none), idle ms (0 = none).
    double seed_ratio_goal() const;
    int64_t seed_idle_goal_ms() const;
    // ---- per-file choices and sequential download (torrent_files.cpp)
    const std::vector<FileChoice>& file_choices() const { return file_choices_; }
    // Errors name an index past the last file; nothing changes then.
    Status set_files_wanted(const std::vector<uint32_t>& files, bool wanted);
    Status set_files_priority(const std::vector<uint32_t>& files, FilePriority p);
    void set_sequential(bool on);
    bool sequential() const { return sequential_; }
    // ---- push-based change tracking (torrent_host.hpp: status_changed)
    // The host's consumer read this torrent's change: the next one marks it again.
    void clear_change_mark() { change_marked_ = false; }
    bool change_marked() const { return change_marked_; }
    // A download without payload for this long after its swarm started shows "stalled".
    static constexpr int64_t kStalledAfterMs = 15'000;

private:
    int64_t payload_down_ = 0, payload_up_ = 0;  // this session
    void begin_check(bool full);
    void check_done(const std::vector<uint8_t>& verified);
    void start_swarm();
    void piece_done(uint32_t piece, bool hash_ok, const Status& write);
    void fail_piece(uint32_t piece);  // re-download it
    void on_complete();
    void run_choker(int64_t now_ms, bool rotate_optimistic);
    void connect_more();
    void save_resume(std::function<void()> done = nullptr, DataSync mode = DataSync::no_sync);
    void save_deferred();  // the save asked for while another was in flight
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
    std::shared_ptr<PieceStore> storage_;
    PiecePicker picker_;
    TorrentState state_ = TorrentState::checking;
    bool paused_ = false, stopping_ = false, was_complete_at_start_ = false;
    std::string error_;
    bool needs_recheck_ = false;
    bool disk_full_ = false, space_check_running_ = false;
    DiskRetry disk_retry_;
    double check_progress_ = 0;
    PieceStore::CancelFn cancel_check_;  // set while a check runs
    std::map<uint32_t, std::unique_ptr<Peer>> peers_;
    uint32_t next_key_ = 1;
    SmartBan smart_ban_;                   // who sent what, for pieces that fail
    void ban_address(const std::string& ip, const std::string& why);
    // SHA-1 of each block of a piece as it is on disk (pool), then done on
    // the loop thread, unless a re-check started meanwhile.
    void hash_blocks(uint32_t piece, std::function<void(std::vector<Sha1Digest>)> done);
    // Piece assembly on disk (torrent_write.cpp): blocks received and not
    // yet handed to the storage, flushed when kWriteBatchBlocks are waiting,
    // when a piece's last block arrived, on every tick and on pause/stop.
    std::vector<BlockWrite> write_batch_;
    int64_t batch_bytes_ = 0;
    uint64_t write_gen_ = 0;  // bumped by recheck(): answers from before are stale
    bool disk_hold_reading_ = false;  // sockets paused: the backlog passed kHoldReadingBytes
    void queue_block(BlockRef b, SharedBytes data, bool piece_complete);
    void flush_writes();
    void writes_done(uint64_t gen, int64_t bytes, std::vector<uint32_t> pieces,
                     Result<std::vector<PieceVerdict>> r);
    PeerBook book_;                        // every address we may dial, and when
    int64_t last_prune_ms_ = 0;
    std::unordered_map<uint32_t, std::string> dial_addr_;  // outgoing peer key -> the address dialled
    // --encryption: addresses to dial next in the other mode (encrypted or
    // plain), and the dials that are such a second try.
    std::unordered_set<std::string> other_mode_;
    std::unordered_set<uint32_t> fallback_dials_;
    bool dial_encrypted(uint32_t key, const std::string& addr);
    // A surviving connection's key -> the address whose duplicate dial was
    // dropped for it; that address may be dialled again when it closes.
    std::unordered_map<uint32_t, std::string> held_by_;
    std::set<uint32_t> closed_by_us_;  // peers close_all_peers() disconnected
    // The duplicate rule (torrent.hpp's paragraph): `p`, just identified,
    // and `q`, older, reach the same peer; the one to drop.
    Peer& duplicate_loser(Peer& p, Peer& q);
    std::unique_ptr<Announcer> announcer_;
    RateMeter down_meter_, up_meter_;
    int64_t total_down_before_ = 0, total_up_before_ = 0;
    int64_t added_time_ = 0, completed_time_ = 0;
    int64_t last_save_ms_ = 0;
    bool resume_dirty_ = false, saving_ = false;
    // A save asked for while one is in flight runs after it, so the saves
    // of one torrent land in order (two on the pool at once could rename
    // an older snapshot over a newer one).
    bool save_again_ = false;
    DataSync save_again_mode_ = DataSync::no_sync;
    std::vector<std::function<void()>> save_again_done_;
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
    // Per peer, for the extensions: request and message rates, and what
    // our PEX told it.  Erased when the peer closes.
    struct ExtPeerState {
        int64_t md_window_ms = -1;  // start of the current ut_metadata minute
        int md_requests = 0;        // requests in it
        std::deque<int64_t> pex_in;  // when its last PEX messages came (at most kPexMaxPerMinute + 1)
        int64_t pex_sent_ms = -1;    // our last PEX to it
        std::set<std::string> pex_told;  // addresses it has from us, not yet dropped
    };
    std::unordered_map<uint32_t, ExtPeerState> ext_peers_;
    uint64_t pex_floods_ = 0;
    void serve_metadata(Peer& p, std::string_view payload);
    void on_pex(Peer& p, std::string_view payload);
    void send_pex(int64_t now_ms);  // from tick
    void send_pex_to(Peer& p, ExtPeerState& st, int64_t now_ms);
    // Where a connected peer can be dialled: the address we dialled, or
    // its IP with the port of its extended handshake; nullopt if unknown.
    std::optional<PeerEndpoint> listen_endpoint(const Peer& p) const;
    bool from_pex(const Peer& p) const;
    SeedUploads seed_uploads_;  // what the seed serves first
    // ---- places and labels (torrent_move.cpp)
    ResumeData resume_snapshot() const;
    void add_places(ResumeData& rd) const;  // places, label, the move journal
    // At start: adopt the resume data's place; true when a move a crash
    // interrupted is being finished first (start() runs again after it).
    bool apply_places(const ResumeData& rd);
    // At start without resume data: the data may already be at final_path.
    bool choose_first_place();
    void move_if_completed();
    bool move_running() const { return move_ && move_->running; }
    bool defer_read(uint64_t gen, uint32_t key, uint32_t piece, uint32_t begin, uint32_t length);
    Status start_move(const std::string& to, int64_t placed, std::function<void(Status)> done);
    void begin_move();  // once no save and no write is in flight
    void move_done(Status st);
    void rollback_done(Status st);
    void reissue_deferred_reads();
    bool places_applied_ = false;
    std::optional<double> label_seed_ratio_;  // set_label_seed_ratio
    std::string final_path_;
    int64_t placed_ = 0;              // ResumeData::placed
    std::string label_;
    uint64_t storage_gen_ = 0;        // bumps when storage_ changes place
    struct MoveState {
        std::string from, to;
        int64_t placed = 2;
        bool running = false;         // the pool job was queued
        bool rolling_back = false;    // it failed; moving back what moved
        bool restart_peers = false;   // stopped its peers for the move
        std::shared_ptr<MoveProgress> progress = std::make_shared<MoveProgress>();
        std::function<void(Status)> done;
    };
    std::unique_ptr<MoveState> move_;
    struct DeferredRead {
        uint32_t key, piece, begin, length;
    };
    std::vector<DeferredRead> deferred_reads_;
    // Queue, seeding goals, per-torrent limits (torrent_goals.cpp).
    bool queued_ = false, finished_ = false, goals_waived_ = false, resumed_ = false;
    TorrentLimits limits_;
    int64_t queue_key_ = -1;
    uint64_t completions_ = 0;
    int64_t last_down_ms_ = 0, last_up_ms_ = 0;  // payload last moved (or the swarm started)
    TokenBucket own_up_, own_down_;
    // start_swarm() asks first: a queued or finished torrent stays so.
    bool hold_swarm();
    void goals_tick(int64_t now);
    bool goal_watch() const;  // a seeding torrent with an idle goal keeps ticking
    void finish_seeding(const std::string& why);
    bool account_down(uint32_t bytes);
    bool download_allowed_now();  // the host's bucket and this torrent's
    void fill_goal_resume(ResumeData& rd) const;
    void load_goal_resume(const ResumeData& rd);
    // ---- per-file choices and sequential download (torrent_files.cpp)
    std::vector<FileChoice> file_choices_;  // one per file; empty = all wanted, normal
    std::vector<std::pair<uint32_t, uint32_t>> select_only_;  // magnet so=, until first applied
    bool sequential_ = false;
    int64_t wanted_bytes_ = 0, have_wanted_bytes_ = 0;
    // Gives the picker the pieces' priorities and sequential mode and counts
    // the wanted bytes; after a change (not at start) the state follows:
    // seeding when the wanted pieces are all here, downloading again if not.
    void apply_file_choices(bool changed);
    void note_wanted_piece(uint32_t piece);
    void create_empty_files();  // the zero-length wanted files (on the pool)
    void load_file_choices(const ResumeData* rd);  // null: no resume data (a magnet's so= applies)  // a piece passed: count it if wanted
    void fill_file_status(TorrentStatus& st) const;
    // ---- push-based change tracking: what status(false) shows may have
    // changed; the host hears of it once until its consumer clears the mark.
    bool change_marked_ = false;
    void mark_changed() {
        ++status_gen_;
        if (change_marked_) return;
        change_marked_ = true;
        host_.status_changed(id_);
    }
    // Last member, so destroyed first: no callback (disk job, announcer
    // hook) runs into a torrent whose members are being torn down.
    JobOwner jobs_;
};

}  // namespace btl
