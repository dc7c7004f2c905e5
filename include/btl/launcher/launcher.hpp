// Launcher: the front-end-independent controller of btlaunchmany.  It turns
// the watched directory into session state: a ready .torrent is parsed on
// the thread pool and added; a removed one is stopped (its data stays); a
// changed one is reloaded (remove, then add).  A torrent is identified by its
// info-hash, so the same torrent under two file names runs once and the
// second file becomes an error row "duplicate of NAME" (promoted if the
// first file goes away).  A file that fails to parse is an error row with
// the reason and is retried only when it changes (ReadyQueue).
//
// Views read Rows: copies of TorrentStatus plus the file they came from,
// never engine pointers.  A Row is the one status record: the curses and
// plain views show its fields, status_json() serialises it (each row's
// object cached and rewritten only when a shown field changed).  Every user-visible event goes through LogBook,
// which is also the Session's EventSink, so views see one stream.
//
// Rows are refreshed push-based (launcher_changes.cpp): a torrent marks
// itself changed in the Session (Session::take_changed) whenever anything
// status(false) shows may have moved, including every tick of an active
// torrent, so a rate decaying to 0 is seen; the launcher marks rows it
// changes itself.  A refresh visits the marked rows and the live ones
// (rates, peers, checking, downloading, fetching metadata), and sweeps
// every row only when rows come, go or are renamed, or the queue order
// moved: an idle launcher with 10,000 torrents does no per-row work.
//
// Save paths (choose_save_path, pure) follow --saveas_style; see the man
// page.  Whatever the style, a torrent never gets a path that equals,
// contains or lies inside the path of another loaded torrent.
#pragma once
#include <uv.h>

#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/result.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/base/options.hpp"
#include "btl/launcher/labels.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/launcher/hooks.hpp"
#include "btl/launcher/queue.hpp"
#include "btl/launcher/watch_dir.hpp"

namespace btl {

class Session;
namespace rpc {
struct FileChange;
}
class Torrent;

// ---- pure helpers (unit-tested) ----------------------------------------

// The save paths of the loaded torrents.  overlaps(p) answers
// paths_overlap(p, t) for any t in the set with a few ordered look-ups (one
// per '/' in p), so loading 10,000 torrents is not 10,000 scans of all the
// others' paths.
class TakenPaths {
public:
    TakenPaths() = default;
    TakenPaths(std::initializer_list<std::string> paths);
    TakenPaths(const std::vector<std::string>& paths);  // NOLINT: tests pass vectors
    void add(const std::string& p) { paths_.insert(p); }
    void remove(const std::string& p);  // one occurrence, if present
    bool overlaps(const std::string& p) const;
    size_t size() const { return paths_.size(); }

private:
    std::multiset<std::string> paths_;
};

// 1: save_in/STEM (STEM = the .torrent file name without ".torrent")
// 2: save_in/NAME (NAME = the name inside the torrent)
// 3: save_in/STEM/NAME
// 4: save_in/NAME, or as 3 when NAME is taken by another torrent
// In every style a path overlapping one in `taken` falls back to style 3,
// then to save_in/STEM.2/NAME, STEM.3/NAME, ...
std::string choose_save_path(int style, const std::string& save_in, const std::string& file_name,
                             const std::string& torrent_name, const TakenPaths& taken);
// True when a == b or one is a directory prefix of the other.
bool paths_overlap(const std::string& a, const std::string& b);
std::string torrent_file_stem(const std::string& file_name);  // also strips .magnet
bool is_magnet_file(const std::string& file_name);

struct Row {
    std::string file;       // file name inside the watched directory
    bool loaded = false;    // false: an error row (nothing runs)
    TorrentStatus st;       // error rows: name = file, state error, error = why
    uint64_t added_seq = 0; // load order, for the "added" sort
};

enum class SortKey { name, progress, rate, ratio, added, label };
const char* sort_key_name(SortKey k);
SortKey next_sort_key(SortKey k);
// Stable and total: ties are broken by name, then by file.
void sort_rows(std::vector<Row>& rows, SortKey k);
void sort_rows(std::vector<const Row*>& rows, SortKey k);
// The view's label filter: "" shows every row, kNoLabel the unlabelled
// ones, any other value the rows with that label.  next_label_filter()
// cycles "" -> each label present (sorted) -> kNoLabel -> "".
inline const std::string kNoLabel = "\x01";
std::string next_label_filter(const std::vector<const Row*>& rows, const std::string& current);
bool label_matches(const Row& r, const std::string& filter);
std::string label_filter_text(const std::string& filter);  // "  label movies" for the header
// Uploaded over downloaded (over the data we have when we downloaded none).
double share_ratio(const TorrentStatus& t);
// Session totals summed over the loaded rows.
SessionStatus rows_totals(const std::vector<Row>& rows, uint16_t listen_port);
// The --status_json document: each row is "file" and "loaded", then its
// TorrentStatus's members as btl::status_json writes them (the schema and
// the writer are engine/status_json.hpp's: valid UTF-8 JSON for any bytes);
// then "errors" (rows that did not load) and "totals".  Appends in place:
// it runs every display interval over every torrent.
std::string rows_status_json(const std::vector<Row>& rows, const SessionStatus& totals);
// Its parts, for a document kept up to date row by row: one row's object;
// whether two rows give the same object (walks the same schema, so a cached
// object is rewritten exactly when it would read differently);
// "],errors,totals}" after the rows; one row's share of the totals.
void append_row_json(std::string& out, const Row& r);
bool same_row_json(const Row& a, const Row& b);
void append_status_tail(std::string& out, size_t errors, const SessionStatus& totals);
void add_to_totals(SessionStatus& totals, const Row& r);

// ---- log ----------------------------------------------------------------

struct LogLine {
    std::time_t time = 0;
    LogLevel level = LogLevel::info;
    std::string torrent, message;
};

class LogBook : public EventSink {
public:
    explicit LogBook(size_t keep = 1000) : keep_(keep) {}
    void log(LogLevel level, const std::string& torrent, const std::string& message) override;
    const std::deque<LogLine>& lines() const { return lines_; }
    // Called for every line (debug included; the listener filters).
    std::function<void(const LogLine&)> listener;

private:
    size_t keep_;
    std::deque<LogLine> lines_;
};

// ---- controller ---------------------------------------------------------

struct RateLimits {
    int64_t up = 0, down = 0;  // bytes/s, 0 = unlimited
};
// The ladder the view's +/- keys climb, in bytes/s (0 = unlimited, the top):
// the next step above or below `now` (a value between steps moves to the
// neighbouring step).
int64_t next_rate_step(int64_t now, bool up);
// A limit as the log says it: "unlimited" for 0, else "2000 kB/s" (the
// unit the options take), never "0 kB/s".
std::string rate_limit_text(int64_t bytes_s);

struct LauncherOptions {
    std::string dir;
    std::string save_in;          // "" = dir
    int saveas_style = 4;
    int64_t quiet_ms = 1000;
    int64_t parse_dir_interval_ms = 60'000;
    // ---- places and labels (launcher_places.hpp)
    std::string incomplete_dir;     // "" = none
    std::string move_completed_to;  // "" = none
    LabelTable labels;              // label.NAME.* from the config file
    // Queue and hooks (launcher_queue.cpp).
    QueueLimits queue;                        // --max_active_downloads, --max_active_seeds
    int64_t queue_stalled_ms = 30 * 60'000;   // --queue_stalled_minutes
    std::string on_added, on_complete, on_removed;  // hook commands ("" = none)
    int64_t hook_timeout_ms = HookRunner::kDefaultTimeoutMs;
};

// ---- places (launcher_places.cpp) ---------------------------------------
// Where a torrent's data lives and goes: the save path choose_save_path()
// gives (under the label's directory for WATCH/LABEL/x.torrent), then
// --move_completed_to DIR (or the label's): the data moves to DIR/<last
// element> when complete (final_path); --incomplete_dir DIR: the download
// lives in DIR/<last element> and moves to the save path (or the
// move_completed_to place) when complete.  place_torrent() is pure.
// --incomplete_dir and --move_completed_to must be absolute or are made
// so; they must not lie inside the watched directory.
Status read_places(const Options& o, const LabelTable& labels, LauncherOptions& lo);
// The directories data may go to (RPC download-dir and location checks).
std::vector<std::string> place_roots(const LauncherOptions& lo);

struct Placement {
    std::string save_path;   // where the data lives now
    std::string final_path;  // where it moves when complete ("" = stays)
    std::string label;
    // label.NAME.seed_ratio (unset: the global goal); Launcher::add hands it
    // to the torrent (Torrent::set_label_seed_ratio).
    std::optional<double> seed_ratio;
};
Placement place_torrent(const LauncherOptions& opt, const std::string& save_in_override, const std::string& name,
                        const std::string& torrent_name, const TakenPaths& taken);


class Launcher : public WatchDir::Handler {
public:
    Launcher(uv_loop_t* loop, Session& s, LogBook& log, LauncherOptions opt);
    ~Launcher() override;
    Launcher(const Launcher&) = delete;
    Launcher& operator=(const Launcher&) = delete;

    Status start();
    // Stops watching, then shuts the session down gracefully.
    void shutdown(std::function<void()> done);

    std::vector<Row> rows() const;
    // The rows sorted by k, for views that draw every interval: served from
    // a per-row cache at most 100 ms old (refreshed at once after a change
    // the launcher made or saw), so 10,000 rows cost no copies.  The
    // pointers are valid until the next call into the Launcher.
    const std::vector<const Row*>& sorted_rows(SortKey k) const;
    // The detail snapshot (files, peers, trackers) of one running torrent.
    bool detail(const Sha1Digest& ih, TorrentStatus& out) const;
    void toggle_pause(const Sha1Digest& ih);
    void recheck(const Sha1Digest& ih);
    // Per-file choices and sequential download (rpc_launcher_backend.cpp);
    // a failure is logged.
    void change_files(const Sha1Digest& ih, const rpc::FileChange& c);
    // Removes the row of `file` (a name in the watched directory) for good:
    // its torrent stops as on shutdown (trackers hear `stopped`, resume
    // data is saved), then the file is renamed FILE.removed in the watched
    // directory, a name the watcher ignores, so it does not come back.  A
    // rename in place rather than a move elsewhere: it is atomic, cannot
    // fail across file systems, and the user restores a torrent by renaming
    // it back.  With delete_data the torrent's files are deleted too, on the
    // thread pool, only inside --save_in and never through a link
    // (remove_data.hpp); rows that run nothing (errors, duplicates, whose
    // data belongs to the running copy) never delete data.  The outcome is
    // logged.  False when there is no such row.
    bool remove(const std::string& file, bool delete_data);
    // The global rate limits in bytes/s (0 = unlimited), as the session
    // applies them now (a SIGHUP reload may have changed them too); setting
    // them is the same call the reload makes, and is logged.
    RateLimits rate_limits() const;
    void set_rate_limits(RateLimits r);
    // The --status_json document: status_json() fields plus "file" per row,
    // and error rows for files that did not load.  The reference stays
    // valid until the next call; status_json_version() moves when it changes.
    // Built on each call from the rows' cached JSON (the launcher keeps no
    // document: at 100,000 torrents it is 57 MB).
    std::string status_json() const;
    // Refreshes the rows and says which document status_json() would give:
    // it moves when a shown row or the totals change (not when only the
    // DHT's packet counters moved: versioned_totals(), status_json.hpp).
    uint64_t status_json_version() const;
    const LauncherOptions& options() const { return opt_; }
    // Totals over the loaded rows, from the same cache as sorted_rows().
    SessionStatus session_status() const;
    // Called when rows appear, fail or go away (not on status changes), so
    // --status_json can show a new torrent without waiting an interval.
    std::function<void()> on_rows_changed;

    // ---- push-based change tracking (launcher_changes.cpp) ----------------
    // The live rows (rates or peers, checking, downloading, fetching
    // metadata) sorted by name: every other row shows nothing that moves
    // with time.  Same lifetime as sorted_rows().
    const std::vector<const Row*>& live_rows() const;
    // Rows shown, and how many are in each TorrentState (the plain view's
    // summary), kept up to date by the refresh.
    size_t row_count() const;
    const std::vector<size_t>& state_counts() const;
    // One change of the running torrents (RpcBackend::torrents()): a row
    // that shows something new, or a torrent whose row went away.
    struct RowChange {
        Sha1Digest info_hash{};
        bool removed = false;
    };
    // The changes since `cursor` (0, or what an earlier call left there), in
    // order; `cursor` moves past them.  False when the feed no longer reaches
    // back that far (it keeps kFeedMax changes): read every row instead.
    bool changes_since(uint64_t& cursor, std::vector<RowChange>& out) const;
    static constexpr size_t kFeedMax = 1 << 16;
    // Over the running torrents (loaded rows): not stopped with a rate or
    // checking; stopped; sums of total_uploaded, total_downloaded.  Kept
    // as rows change (RPC session-stats).
    struct TorrentCounts {
        int64_t torrents = 0, active = 0, paused = 0, up_total = 0, down_total = 0;
    };
    TorrentCounts torrent_counts() const;
    // The shown status of a running torrent; null when it runs no row.
    const TorrentStatus* shown_status(const Sha1Digest& ih) const;
    // Test hook: rows the refresh has built so far (an idle launcher adds
    // none per pass).
    uint64_t refresh_visits() const { return refresh_visits_; }

    // ---- torrents added over RPC ----------------------------------------
    // They live as DIR/HEX.torrent in their own directory of the data dir
    // (never in the watched directory, which is the user's), each row named
    // added_name(HEX); a DIR/HEX.dir beside it holds a save directory other
    // than --save_in.  load_added() loads them at start (restarts keep
    // them); remove() renames one to HEX.torrent.removed, so it is gone for
    // good, as a watched file is.
    static std::string added_name(const Sha1Digest& ih);
    // A magnet link added over RPC: DIR/HEX.magnet, named added_magnet_name(HEX).
    static std::string added_magnet_name(const Sha1Digest& ih);
    void load_added(const std::string& dir);
    // A row for a .torrent at `path` (already written), saved under
    // `save_in` ("" = --save_in), started paused if asked.
    void add_file(const std::string& name, const std::string& path, const std::string& save_in, bool paused);
    bool paused(const Sha1Digest& ih) const;
    // The row (file name) running this info-hash; "" when none.
    std::string file_of(const Sha1Digest& ih) const;

    // ---- places and labels (launcher_places.cpp) -------------------------
    // Moves a running torrent's data into dir (or, !move, looks for it
    // there and re-checks); the outcome is logged.
    Status set_location(const Sha1Digest& ih, const std::string& dir, bool move);
    // Sets the label ("" none) in our bookkeeping (resume data); no data moves.
    Status set_label(const Sha1Digest& ih, const std::string& label);
    // ---- queue and hooks (launcher_queue.cpp) ----------------------------
    // Moves a torrent in the queue (logged); false when it is not queued here.
    bool queue_move(const Sha1Digest& ih, QueueMove m);
    // 0-based place in the queue; -1 when the info-hash runs nothing.
    int64_t queue_position(const Sha1Digest& ih) const { return queue_.position(ih); }
    QueueLimits queue_limits() const { return opt_.queue; }
    void set_queue_limits(QueueLimits q);
    // Starts a paused or finished torrent (a finished one seeds again).
    void start_torrent(const Sha1Digest& ih);
    // A torrent's own limits and goals (logged); false when it is not running.
    bool set_torrent_limits(const Sha1Digest& ih, const TorrentLimits& l);
    // Runs the queue now: which torrents may run, hooks for completions.
    void queue_pass();
    // A pass within kQueueSoonMs (torrents added during a long load: one
    // pass per add was quadratic, 10,000 torrents took 40 s instead of 1 s).
    void queue_pass_soon();
    static constexpr uint64_t kQueueSoonMs = 100;

    void on_file_ready(const std::string& name, const std::string& path, FileStamp st) override;
    void on_file_removed(const std::string& name) override;
    void on_watch_error(const std::string& message) override;

private:
    struct Entry {
        std::string path;
        uint64_t gen = 0;        // bumps on every change; stale parse results are dropped
        bool loaded = false;     // a torrent runs for this file
        // The running torrent while `loaded`: only the launcher removes
        // torrents, and it clears `loaded` (or the entry) before it does.
        // Saves a look-up per row per display interval.
        Torrent* torrent = nullptr;
        bool busy = false;       // parsing or being removed for a reload
        bool fetching = false;   // a .magnet whose metadata is being fetched (ih set)
        Sha1Digest ih{};
        bool has_ih = false;
        std::string torrent_name, error, save_path;
        std::string duplicate_of;  // file name of the running copy
        std::string save_in;       // "" = --save_in (RPC download-dir otherwise)
        bool start_paused = false; // the next add starts it paused (RPC "paused")
        uint64_t seq = 0;
        // status_json()'s cache of this row: what it last showed, as JSON.
        mutable Row shown;
        mutable std::string json;
        mutable bool visible = false, json_ok = false;
        uint64_t completions_seen = 0;     // Torrent::completions() the on_complete hook saw
        // per-file choices: a magnet's BEP 53 so= ranges, given to the torrent it adds
        std::vector<std::pair<uint32_t, uint32_t>> select_only;
        // push-based change tracking: on the dirty list; on the live list;
        // the refresh pass that last built `shown`.
        mutable bool dirty = false, live = false;
        mutable uint64_t seen_pass = 0;
    };
    using Files = std::map<std::string, Entry>;
    void parse(const std::string& name);
    void on_parsed(const std::string& name, uint64_t gen, Result<Metainfo> mi);
    void add(const std::string& name, Metainfo mi);
    // .magnet files (launcher_magnet.cpp)
    void load_magnet(const std::string& name);
    struct MagnetLoad;
    void on_magnet_loaded(const std::string& name, uint64_t gen, Result<MagnetLoad> r);
    bool magnet_row(const Entry& e, Row& r) const;
    void stop_fetch(Entry& e);
    void promote_duplicate(const Sha1Digest& ih);
    // The row of one file as views see it; false when it has none now
    // (still parsing, or being reloaded).
    bool row_for(const std::string& name, const Entry& e, Row& out) const;
    void sort_order() const;
    // Brings every row's cache up to date unless that was done less than
    // max_age_ms ago (and nothing the launcher knows of changed since).
    void refresh(int64_t max_age_ms) const;
    void rows_changed() {
        order_dirty_ = true;
        refreshed_ms_ = -1;
        if (on_rows_changed) on_rows_changed();
    }

    uv_loop_t* loop_;
    Session& s_;
    LogBook& log_;
    LauncherOptions opt_;
    std::unique_ptr<WatchDir> watch_;
    Files files_;
    // status_json(): every file in name order with the name it was sorted
    // by, re-sorted only when rows come, go or are renamed; the document.
    mutable std::vector<std::pair<Files::const_iterator, std::string>> order_;
    mutable bool order_dirty_ = true;
    // refresh(): when it last ran (-1: stale), whether the document must be
    // rebuilt, the totals of the shown rows.
    mutable int64_t refreshed_ms_ = -1;
    mutable bool doc_stale_ = true;
    mutable SessionStatus totals_;
    mutable std::vector<const Row*> sorted_;
    mutable std::string doc_tail_;  // of versioned_totals(): what the version compares
    mutable uint64_t doc_version_ = 0;
    // info-hash -> file running it (hashed: 100,000 ordered inserts by
    // 20-byte keys were a visible share of a long load)
    struct DigestHash {
        size_t operator()(const Sha1Digest& d) const {
            size_t h = 0;
            for (size_t i = 0; i < sizeof h; ++i) h = (h << 8) | d[i];  // SHA-1 bytes are uniform already
            return h;
        }
    };
    std::unordered_map<Sha1Digest, std::string, DigestHash> owner_;
    TakenPaths taken_;                         // save_path of every loaded entry
    uint64_t next_seq_ = 1;
    // Queue and hooks (launcher_queue.cpp).
    QueueOrder queue_;
    std::unique_ptr<HookRunner> hooks_;
    UvHandle<uv_timer_t> queue_timer_;
    bool queue_busy_ = false;  // some torrent is held in the queue
    void start_queue();
    bool queue_wanted() const;
    void after_add(const std::string& name, Entry& e);
    // A torrent leaves the queue; `removed`: for good (the on_removed hook).
    void queue_forget(Entry& e, bool removed);
    void run_hook(const char* event, const std::string& cmd, const TorrentStatus& st);
    JobOwner jobs_;  // pool jobs and session callbacks check it before touching us
    // Scale: parses take turns on the thread pool, a few jobs at a time, so
    // 100,000 files dropped in at once leave room on the pool for the
    // status file, resume reads and checks.  (name, gen) waiting in order.
    static constexpr size_t kParsesInFlight = 2;
    static constexpr size_t kParseBatch = 64;  // files per job
    std::deque<std::pair<std::string, uint64_t>> parse_wait_;
    size_t parses_in_flight_ = 0;
    void pump_parses();
    // ---- push-based change tracking (launcher_changes.cpp)
    // Rows to build again (Entry::dirty), by file name; the live rows (they
    // are built every pass); a pass counter so a row is built once a pass.
    mutable std::vector<std::string> dirty_;
    mutable std::set<std::string> live_;
    mutable std::vector<Torrent*> changed_buf_;
    mutable uint64_t pass_ = 0, refresh_visits_ = 0;
    mutable bool full_refresh_ = true;   // sweep every row at the next refresh
    // Sums over the shown rows, kept as rows change; rates and peers are
    // summed over the live rows each pass.
    mutable int64_t n_loaded_ = 0, n_errors_ = 0, n_visible_ = 0, sum_down_ = 0, sum_up_ = 0;
    mutable int64_t n_paused_ = 0, sum_total_down_ = 0, sum_total_up_ = 0;  // loaded rows
    mutable std::vector<size_t> state_counts_ = std::vector<size_t>(kTorrentStateCount, 0);
    // sorted_rows(): rebuilt only when a shown row or the order changed.
    mutable uint64_t rows_version_ = 1, sorted_version_ = 0;
    mutable SortKey sorted_key_ = SortKey::name;
    mutable std::vector<const Row*> live_sorted_;
    mutable uint64_t live_version_ = 0;
    // The change feed (changes_since): (sequence, change), the oldest first.
    mutable std::deque<std::pair<uint64_t, RowChange>> feed_;
    mutable uint64_t feed_seq_ = 0;
    // A row the launcher changed itself (not through its torrent).
    void mark_dirty(const std::string& name) const;
    void mark_all() const { full_refresh_ = true; }
    void visit_row(const std::string& name, const Entry& e) const;
    void count_row(const Row& r, int sign) const;
    void full_pass() const;
    void changed_pass() const;
    void sum_live() const;
    void feed(const Sha1Digest& ih, bool removed) const;
    void note_gone(const Entry& e) const;  // before an entry is erased
    // ---- load path: a queue pass brought forward while torrents are added
    // waits at least kQueuePassCostFactor times what the last pass cost: a
    // pass visits every torrent, and 100,000 of them every 100 ms were a
    // fifth of a long load's CPU.
    static constexpr uint64_t kQueuePassCostFactor = 10;
    uint64_t queue_pass_cost_ns_ = 0;
    // The torrent of each queue position, as of queue_.version(): a pass
    // looked every torrent up in the session's table (a cache miss each),
    // most of an idle launcher's CPU with 100,000 queued torrents.  Only
    // the launcher removes torrents, and queue_forget() moves the version
    // first.
    std::vector<Torrent*> queue_torrents_;
    uint64_t queue_torrents_version_ = UINT64_MAX;
};

}  // namespace btl
