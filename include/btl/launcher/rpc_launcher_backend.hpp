// LauncherRpcBackend: the RPC server's view of btlaunchmany (rpc/
// rpc_backend.hpp) implemented over the Launcher, so a command from
// transmission-remote does exactly what the same key in the curses view
// does, and logs the same line.
//
// torrent-add: the .torrent (sent as base64 or named by a path, read on the
// thread pool) is parsed on the pool, written atomically as
// DATA_DIR/added/HEX.torrent (plus HEX.dir when it has its own save
// directory) and handed to the launcher, which loads it as it loads a
// watched file; restarts load it again (Launcher::load_added).  A torrent
// that already runs is answered as a duplicate and nothing is written.
#pragma once
#include <uv.h>

#include <string>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/launcher/launcher.hpp"
#include "btl/rpc/rpc_backend.hpp"

namespace btl {

class Session;

// Per-file choices and sequential download on a running torrent (RPC
// torrent-set and the curses view's keys); an error names a torrent that is
// not running or a file index past the last.
Status change_torrent_files(Session& s, const Sha1Digest& ih, const rpc::FileChange& c);

class LauncherRpcBackend final : public rpc::RpcBackend {
public:
    LauncherRpcBackend(uv_loop_t* loop, Launcher& launcher, Session& session);
    // Where RPC-added torrents are kept: DATA_DIR/added.
    static std::string added_dir(const std::string& data_dir);

    const std::vector<const TorrentStatus*>& torrents() override;
    bool detail(const Sha1Digest& ih, TorrentStatus& out) override;
    bool paused(const Sha1Digest& ih) const override;
    Status start(const Sha1Digest& ih) override;
    Status stop(const Sha1Digest& ih) override;
    Status verify(const Sha1Digest& ih) override;
    Status remove(const Sha1Digest& ih, bool delete_data) override;
    void add(rpc::AddRequest req, std::function<void(Result<rpc::AddResult>)> done) override;
    rpc::SessionFacts facts() const override;
    void set_rate_limits(int64_t up_bytes_s, int64_t down_bytes_s) override;
    SessionStatus session_status() override;
    // places and labels
    Status set_location(const Sha1Digest& ih, const std::string& dir, bool move) override;
    Status set_label(const Sha1Digest& ih, const std::string& label) override;
    // Queue and per-torrent limits.
    Status set_limits(const Sha1Digest& ih, const TorrentLimits& l) override;
    Status queue_move(const Sha1Digest& ih, int how) override;
    Status change_files(const Sha1Digest& ih, const rpc::FileChange& c) override {
        return change_torrent_files(session_, ih, c);
    }
    // Push-based change tracking: the launcher's change feed.
    bool changes(uint64_t& cursor, std::vector<rpc::TorrentChange>& out) override;
    const TorrentStatus* find(const Sha1Digest& ih) override { return launcher_.shown_status(ih); }
    bool counts(Counts& out) override;

private:
    struct Parsed;
    void on_parsed(rpc::AddRequest req, Parsed p, std::function<void(Result<rpc::AddResult>)> done);
    Status running(const Sha1Digest& ih) const;

    uv_loop_t* loop_;
    Launcher& launcher_;
    Session& session_;
    std::vector<const TorrentStatus*> list_;
    std::vector<Launcher::RowChange> feed_buf_;
    JobOwner jobs_;
};

}  // namespace btl
