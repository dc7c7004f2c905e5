// Plain, copyable types through which the engine talks to front ends:
// options in, status snapshots and log events out.  The engine never prints
// and never includes curses; views hold copies of these, never engine
// pointers (rtorrent's UI reading live engine objects is what we avoid).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "btl/base/sha1.hpp"

namespace btl {

// fetching: a magnet link whose metadata is still being fetched from peers.
// queued: waiting for a slot of --max_active_downloads/--max_active_seeds
// (no peers, no announces; not the user's pause).  finished: a seeding goal
// (ratio or idle time) was reached; it stays listed and can be started again.
enum class TorrentState { checking, downloading, seeding, stalled, stopped, error, fetching, queued, finished };
inline constexpr int kTorrentStateCount = 9;
const char* state_name(TorrentState s);

struct PeerStatus {
    std::string address;      // ip:port
    std::string client;       // decoded from the peer id
    double down_rate = 0, up_rate = 0;
    int64_t downloaded = 0, uploaded = 0;
    double progress = 0;      // share of pieces the peer has
    std::string flags;        // e.g. "D U i I c C S": see man page
    bool incoming = false;
    std::string source;       // where we learned of it: "tracker", "dht", "pex", "lsd", "incoming"
};

struct TrackerStatus {
    std::string url;
    std::string status;       // "ok", "announcing", "error: ...", "warning: ..."
    int64_t seeds = -1, leechers = -1;
    int64_t next_announce_s = -1;   // seconds from now (for the view)
    int64_t next_announce_at = -1;  // unix time of the next announce: fixed between
                                    // announces, so a status row does not churn
    int fails = 0;            // failed announces in a row
    int64_t interval_s = -1;  // announce interval in use (clamped), -1 before an answer
};

struct FileStatus {
    std::string path;
    int64_t length = 0;
    double progress = 0;
    // Per-file choices: wanted or skipped, priority as Transmission numbers
    // it (-1 low, 0 normal, 1 high); bytes of the file in verified pieces.
    bool wanted = true;
    int priority = 0;
    int64_t bytes_completed = 0;
};

// Queue, seeding goals, per-torrent limits: a torrent's own settings, kept
// in its resume data.  Modes as Transmission's: 0 = the global value
// (--seed_ratio, --seed_idle_minutes), 1 = this torrent's, 2 = unlimited.
struct TorrentLimits {
    double seed_ratio = 0;            // with seed_ratio_mode 1
    int seed_ratio_mode = 0;
    int64_t seed_idle_minutes = 0;    // with seed_idle_mode 1
    int seed_idle_mode = 0;
    int64_t up_limit = 0, down_limit = 0;  // bytes/s, applied while *_limited
    bool up_limited = false, down_limited = false;
    int priority = 0;                 // bandwidth priority: -1 low, 0 normal, 1 high
    bool operator==(const TorrentLimits&) const = default;
};

struct TorrentStatus {
    Sha1Digest info_hash{};
    std::string name;
    std::string save_path;
    TorrentState state = TorrentState::checking;
    double progress = 0;          // verified share of the data (0..1)
    double check_progress = 0;    // while checking
    int64_t total_size = 0;
    int64_t have_bytes = 0;
    double down_rate = 0, up_rate = 0;   // payload bytes/s
    int64_t downloaded = 0, uploaded = 0;            // payload bytes this session
    int64_t total_downloaded = 0, total_uploaded = 0; // including earlier sessions
    int peers = 0, seeds = 0;
    int64_t eta_s = -1;           // -1 = unknown
    std::string error;            // the last error, empty if none
    // With state error: the data on disk no longer matches what was checked
    // (a file deleted, truncated or changed); a re-check repairs it.
    bool needs_recheck = false;
    // With state error: the disk is full; the torrent seeds what it has and
    // looks for free space again in this many seconds (-1: not retrying).
    int64_t retry_in_s = -1;
    std::string tracker_message;  // the last tracker status or warning
    int64_t added_time = 0;
    uint32_t num_pieces = 0, pieces_have = 0;
    std::vector<TrackerStatus> trackers;
    // Filled only when asked for detail (the view's detail pane).
    std::vector<PeerStatus> peer_list;
    std::vector<FileStatus> files;
    // ---- places and labels
    std::string label;            // "" = none (a watched subdirectory's name, or set over RPC)
    std::string moving_to;        // a move of the data in progress, to this save path
    double move_progress = 0;     // its share done (0..1)
    // Queue, seeding goals, per-torrent limits.
    int64_t queue_position = -1;  // 0 = first in the queue; -1 = not queued by a launcher
    TorrentLimits limits;
    int64_t completed_time = 0;   // unix seconds of the last completion, 0 = never
    // Per-file choices and sequential download: the bytes of the pieces we
    // want (Transmission's sizeWhenDone; total_size when every file is
    // wanted) and how many of them are verified.  progress and eta count
    // these only.
    int64_t wanted_bytes = 0;
    int64_t have_wanted_bytes = 0;
    bool sequential = false;
};

struct SessionStatus {
    uint16_t listen_port = 0;
    double down_rate = 0, up_rate = 0;
    int64_t downloaded = 0, uploaded = 0;
    size_t torrents = 0, peers = 0;
    // "port 51413 open via UPnP at 203.0.113.7" or "port 51413 not mapped: <reason>"
    // ("not mapped: off" with --upnp 0 --natpmp 0).
    std::string port_mapping;
    int64_t dht_nodes = -1;  // nodes in the DHT routing table; -1 = DHT off
    int64_t dht_packets_in = 0, dht_packets_out = 0;  // DHT datagrams since start
    // ---- DHT over IPv6 (BEP 32): the IPv6 table's share of dht_nodes (a sum)
    int64_t dht_nodes6 = -1;  // -1 = DHT off
};

enum class LogLevel { debug, info, warning, error };

// The engine reports events through this.  `torrent` is the torrent's name,
// or empty for session-wide events.
class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void log(LogLevel level, const std::string& torrent, const std::string& message) = 0;
};

// --encryption (MSE/PE): allow = dial in plain text first, accept both;
// prefer = dial encrypted first, accept both; require = encrypted only.
enum class Encryption { allow, prefer, require };

struct SessionOptions {
    std::string bind_ip;           // listen on / connect from ("" = any)
    std::string announce_ip;       // --ip: address reported to trackers
    std::string ca_file;           // --ca_file: CA bundle trusted for https:// trackers, beside the system store
    uint16_t minport = 6881, maxport = 6889;
    int64_t max_upload_rate = 0;   // bytes/s, 0 = unlimited
    int64_t max_download_rate = 0; // bytes/s, 0 = unlimited
    int max_uploads = 4;           // regular unchoke slots per torrent (+1 optimistic)
    int max_peers_per_torrent = 60;
    int max_connections = 500;     // whole session
    int max_half_open = 16;        // outgoing connects in progress, whole session
    size_t max_files_open = 256;
    std::string data_dir;          // resume data; "" = default
    // Azureus style (BEP 20).  "BM": "BL" is BitBlinder's (libtorrent's
    // identify_client table); "BM" is in neither BEP 20 nor libtorrent's
    // nor Vuze's list of Azureus-style codes.
    std::string peer_id_prefix = "-BM0100-";
    // A torrent whose disk is full looks for free space this often (doubling
    // after each failed attempt, up to 12 times this).
    int64_t disk_retry_interval_ms = 10'000;
    bool super_seeder = false;     // BEP 16 for torrents that are complete when they start
    bool pex = true;               // --pex: BEP 11 peer exchange (never on private torrents)
    // Reaching out on the LAN: port mapping on the gateway, BEP 14 discovery.
    // Off unless asked for: the programs' options default to 1
    // (session_options.cpp); a Session built in a test stays on loopback.
    bool upnp = false, natpmp = false, lsd = false;
    uint32_t portmap_lease_s = 3600;   // asked of the gateway; renewed at half
    Encryption encryption = Encryption::prefer;
    bool utp = true;               // --utp: BEP 29 uTP on the listen port (UDP)
    // Mainline DHT (BEP 5), never for private torrents.  Off in a
    // SessionOptions built in code (tests must not reach the public DHT);
    // the programs' --dht defaults to 1 with the public routers
    // (session_options.cpp).
    bool dht = false;
    // HOST:PORT,... joined when the saved routing table gives too few nodes ("" = none).
    std::string dht_bootstrap;
    // Seeding goals (--seed_ratio, --seed_idle_minutes): 0 = seed forever.
    // A torrent's own TorrentLimits override them.
    double seed_ratio = 0;
    int64_t seed_idle_minutes = 0;
    // Scale: torrent locks as one lock plus a claims log (LockTable::own_claims),
    // for a process that runs very many torrents (btlaunchmany).
    bool lock_claims = false;
};

}  // namespace btl
