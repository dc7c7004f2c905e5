// ViewModel: what the curses view reads and asks, whoever runs the torrents.
// Two implementations: LocalModel (the Launcher of this process) and
// RemoteModel (an engine reached over Transmission's RPC: our own daemon or
// a transmission-daemon).  The view draws the same screen and takes the same
// keys from either; it never learns which engine sits behind the model.
//
// Contract: rows are copies (Row: file name, TorrentStatus), sorted by the
// view's key; the pointers stay valid until the next call into the model.
// Commands are fire-and-forget: their outcome shows in the rows and in the
// log (LogBook) the view already shows.  detail() answers from the freshest
// copy the model has (a remote model asks for a newer one in the
// background and answers false until it has one).  link_state() is empty
// while the engine answers, else one line saying why it does not.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "btl/engine/engine_types.hpp"
#include "btl/launcher/launcher.hpp"
#include "btl/rpc/rpc_backend.hpp"

namespace btl::ui {

class ViewModel {
public:
    virtual ~ViewModel() = default;
    virtual const std::vector<const Row*>& sorted_rows(SortKey k) = 0;
    virtual SessionStatus session_status() const = 0;
    virtual bool detail(const Row& r, TorrentStatus& out) = 0;
    virtual void toggle_pause(const Row& r) = 0;
    virtual void recheck(const Row& r) = 0;
    // False when the row is already gone.
    virtual bool remove(const Row& r, bool delete_data) = 0;
    virtual RateLimits rate_limits() const = 0;
    virtual void set_rate_limits(RateLimits r) = 0;
    // Shown in an empty table: where torrents come from.
    virtual std::string empty_hint() const = 0;
    // A local directory whose free space the footer shows; "" when the
    // model knows the figure itself (disk_free(), -1 = unknown).
    virtual std::string disk_path() const = 0;
    virtual int64_t disk_free() const { return -1; }
    // True when the engine runs in another process: `d` detaches then, and
    // quitting asks the engine to stop.
    virtual bool attached() const { return false; }
    virtual std::string link_state() const { return {}; }
    // Queue and per-torrent limits: move in the queue; set the torrent's own
    // rate caps (bytes/s, 0 = none).  False when the model cannot.
    virtual bool queue_move(const Row& r, QueueMove m) { (void)r, (void)m; return false; }
    virtual bool set_torrent_rates(const Row& r, RateLimits rl) { (void)r, (void)rl; return false; }
    // ---- per-file choices and sequential download (the detail pane's keys)
    virtual void change_files(const Row& r, const rpc::FileChange& c) = 0;
};

// The Launcher of this process.
class LocalModel : public ViewModel {
public:
    explicit LocalModel(Launcher& l) : l_(l) {}
    const std::vector<const Row*>& sorted_rows(SortKey k) override { return l_.sorted_rows(k); }
    SessionStatus session_status() const override { return l_.session_status(); }
    bool detail(const Row& r, TorrentStatus& out) override { return r.loaded && l_.detail(r.st.info_hash, out); }
    void toggle_pause(const Row& r) override {
        if (r.loaded) l_.toggle_pause(r.st.info_hash);
    }
    void recheck(const Row& r) override {
        if (r.loaded) l_.recheck(r.st.info_hash);
    }
    bool remove(const Row& r, bool delete_data) override { return l_.remove(r.file, delete_data); }
    RateLimits rate_limits() const override { return l_.rate_limits(); }
    void set_rate_limits(RateLimits r) override { l_.set_rate_limits(r); }
    std::string empty_hint() const override { return "no torrents yet: drop .torrent files into " + l_.options().dir; }
    std::string disk_path() const override { return l_.options().save_in; }
    bool queue_move(const Row& r, QueueMove m) override { return r.loaded && l_.queue_move(r.st.info_hash, m); }
    bool set_torrent_rates(const Row& r, RateLimits rl) override {
        TorrentLimits l = r.st.limits;
        l.down_limit = rl.down;
        l.up_limit = rl.up;
        l.down_limited = rl.down > 0;
        l.up_limited = rl.up > 0;
        return r.loaded && l_.set_torrent_limits(r.st.info_hash, l);
    }
    void change_files(const Row& r, const rpc::FileChange& c) override {
        if (r.loaded) l_.change_files(r.st.info_hash, c);
    }

private:
    Launcher& l_;
};

}  // namespace btl::ui
