// RpcBackend: what the Transmission-RPC methods ask of the program that runs
// the torrents.  The rpc layer sits beside the launcher, not above it, so
// the server only knows this interface; btlaunchmany implements it over its
// Launcher (launcher/rpc_launcher_backend.hpp) and the unit tests over a map.
//
// Contract: every call is made on the loop thread and must not block.
// torrents() returns snapshots (views hold copies, never engine objects);
// the pointers stay valid until the next call into the backend.  Torrents
// are named by info-hash; the server gives them Transmission's small ids.
// Commands on a hash that is gone return an error naming it.  add() may
// finish later (it reads and parses on the thread pool) and calls `done`
// exactly once, on the loop.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/core/piece_priority.hpp"
#include "btl/engine/engine_types.hpp"

namespace btl::rpc {

struct AddRequest {
    std::string metainfo;      // raw .torrent bytes, or empty
    std::string filename;      // a path to a .torrent or a magnet URI, when metainfo is empty
    std::string download_dir;  // "" = the default; already checked against the allowed roots
    bool paused = false;
};

struct AddResult {
    Sha1Digest info_hash{};
    std::string name;
    bool duplicate = false;  // already running: nothing was added
};

struct SessionFacts {
    std::string download_dir;     // where downloads go by default (--save_in)
    std::string data_dir;         // the engine's state directory
    std::string config_dir;       // what session-get calls config-dir
    uint16_t peer_port = 0;       // the BitTorrent listen port
    int64_t up_limit = 0, down_limit = 0;  // bytes/s, 0 = unlimited
    int peer_limit_per_torrent = 0, peer_limit_global = 0;
    // What session-get reports about the engine's other settings (read only
    // over RPC: they come from the command line and the config file).
    bool dht = false, pex = false, utp = false, lpd = false, port_forwarding = false;
    std::string encryption = "preferred";  // Transmission's words: required, preferred, tolerated
    std::string incomplete_dir;            // "" = none
    double seed_ratio = 0;                 // 0 = seed forever
    int64_t seed_idle_minutes = 0;         // 0 = forever
    int download_queue_size = 0, seed_queue_size = 0;  // 0 = no queue
    int64_t queue_stalled_minutes = 0;
};

// One change torrent-set asks for (per-file choices, sequential download).
// `files` are file indices; empty means every file (Transmission's rule).
struct FileChange {
    enum class Kind { wanted, unwanted, priority, sequential } kind = Kind::wanted;
    std::vector<uint32_t> files;
    FilePriority priority = FilePriority::normal;  // Kind::priority
    bool on = false;                                // Kind::sequential
};

// One change of the running torrents: one shows something new (or is new),
// or one went away.
struct TorrentChange {
    Sha1Digest info_hash{};
    bool removed = false;
};

class RpcBackend {
public:
    virtual ~RpcBackend() = default;
    // Every running torrent (rows that did not load are not torrents).
    virtual const std::vector<const TorrentStatus*>& torrents() = 0;
    // Files, peers and trackers of one torrent; false when it is gone.
    virtual bool detail(const Sha1Digest& ih, TorrentStatus& out) = 0;
    virtual bool paused(const Sha1Digest& ih) const = 0;
    virtual Status start(const Sha1Digest& ih) = 0;
    virtual Status stop(const Sha1Digest& ih) = 0;
    virtual Status verify(const Sha1Digest& ih) = 0;
    // For good: the torrent does not come back at the next start.
    virtual Status remove(const Sha1Digest& ih, bool delete_data) = 0;
    virtual void add(AddRequest req, std::function<void(Result<AddResult>)> done) = 0;
    virtual SessionFacts facts() const = 0;
    virtual void set_rate_limits(int64_t up_bytes_s, int64_t down_bytes_s) = 0;
    virtual SessionStatus session_status() = 0;
    // ---- places and labels (a backend without them refuses)
    // Moves the torrent's data into dir (move) or looks for it there (!move:
    // the save path changes and the data is re-checked).  The move runs in
    // the background; its outcome goes to the log.
    virtual Status set_location(const Sha1Digest& ih, const std::string& dir, bool move) {
        (void)ih, (void)dir, (void)move;
        return make_error("torrent-set-location is not supported by this engine");
    }
    // The torrent's label ("" = none); our bookkeeping only, no data moves.
    virtual Status set_label(const Sha1Digest& ih, const std::string& label) {
        (void)ih, (void)label;
        return make_error("labels are not supported by this engine");
    }
    // ---- queue and per-torrent limits (a backend without them says so)
    // A torrent's own limits and seeding goals (TorrentStatus::limits).
    virtual Status set_limits(const Sha1Digest& ih, const TorrentLimits& l) {
        (void)ih, (void)l;
        return make_error("per-torrent limits are not supported by this engine");
    }
    // how: 0 top, 1 up, 2 down, 3 bottom (queue-move-*).
    virtual Status queue_move(const Sha1Digest& ih, int how) {
        (void)ih, (void)how;
        return make_error("the queue is not supported by this engine");
    }
    // ---- torrent-set: per-file choices and sequential download.  An index
    // past the last file is an error naming it, and changes nothing.
    virtual Status change_files(const Sha1Digest& ih, const FileChange& c) = 0;
    // ---- push-based change tracking (a backend without it keeps these:
    // every request compares every torrent, as torrents() lists them)
    // The changes since `cursor` (0 at first), in order; the cursor moves
    // past them.  False when they are not known (too old, or not tracked):
    // the caller reads torrents() instead.
    virtual bool changes(uint64_t& cursor, std::vector<TorrentChange>& out) {
        (void)cursor, (void)out;
        return false;
    }
    // session-stats' counts kept by the backend (false: the caller counts
    // torrents()): all of them; not stopped with a rate or checking;
    // stopped; the sums of total_uploaded and total_downloaded.
    struct Counts {
        int64_t torrents = 0, active = 0, paused = 0, up_total = 0, down_total = 0;
    };
    virtual bool counts(Counts& out) {
        (void)out;
        return false;
    }
    // One running torrent's snapshot (null when gone); valid as torrents()'s.
    virtual const TorrentStatus* find(const Sha1Digest& ih) {
        for (const TorrentStatus* t : torrents())
            if (t->info_hash == ih) return t;
        return nullptr;
    }
};

}  // namespace btl::rpc
