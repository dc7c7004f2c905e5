// RemoteModel: the ViewModel of an engine in another process, read over
// Transmission's RPC (rpc_client.hpp): btlaunchmany's own daemon or a
// transmission-daemon.
//
// Every poll interval it asks torrent-get for the torrents that changed
// ("recently-active", with the ids removed since) and session-stats; the
// first answer after a (re)connection is the full list, which replaces
// every row.  So an idle engine with 10,000 torrents costs two small
// answers per interval, and the view sorts only when a row changed.
// session-get (limits, port, free space) is asked every few polls and after
// a limit change.  One poll is in flight at a time.  When the engine stops
// answering, link_state() says so and the log gets one line; polls go on
// at the same interval and the first answer after that logs "connected"
// and resynchronises the rows.
//
// Commands (pause/resume, verify, remove, limits) are sent at once and
// followed by a poll; their failure is logged.  detail() answers from the
// last detail answer for that torrent and asks for a fresh one at most once
// per interval.
#pragma once
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "btl/base/uv_util.hpp"
#include "btl/rpc/rpc_client.hpp"
#include "btl/rpc/rpc_client_codec.hpp"
#include "btl/ui/view_model.hpp"

namespace btl::ui {

class RemoteModel : public ViewModel {
public:
    RemoteModel(uv_loop_t* loop, rpc::RpcEndpoint ep, LogBook& log, double interval_s);
    ~RemoteModel() override;
    void start();
    // session-close: asks the engine to stop; done() with its answer (an
    // error "engine says: ..." is a refusal; a transport error may just be
    // the engine closing first).
    void stop_engine(std::function<void(Status)> done);
    bool connected() const { return connected_; }
    size_t row_count() const { return rows_.size(); }

    const std::vector<const Row*>& sorted_rows(SortKey k) override;
    SessionStatus session_status() const override;
    bool detail(const Row& r, TorrentStatus& out) override;
    void toggle_pause(const Row& r) override;
    void recheck(const Row& r) override;
    bool remove(const Row& r, bool delete_data) override;
    RateLimits rate_limits() const override { return {session_.up_limit, session_.down_limit}; }
    void set_rate_limits(RateLimits r) override;
    bool queue_move(const Row& r, QueueMove m) override;
    bool set_torrent_rates(const Row& r, RateLimits rl) override;
    std::string empty_hint() const override;
    std::string disk_path() const override { return {}; }
    int64_t disk_free() const override { return session_.free_space; }
    bool attached() const override { return true; }
    std::string link_state() const override { return link_state_; }
    void change_files(const Row& r, const rpc::FileChange& c) override;

    // The rows from one torrent-get answer (pure; unit-tested): a full list
    // replaces them, a recently-active one updates and removes.
    static void apply(std::map<int64_t, Row>& rows, rpc::TorrentList list, bool full);

private:
    void poll();
    void on_torrents(Result<std::string> answer, bool full);
    void ask_session();
    void lost(const std::string& why);
    void command(std::string body, const std::string& what);
    int64_t id_of(const Row& r) const;
    // Whether applying `list` can change the order of sorted_.
    bool reorders(const rpc::TorrentList& list) const;

    uv_loop_t* loop_;
    rpc::RpcClient client_;
    LogBook& log_;
    double interval_s_;
    std::map<int64_t, Row> rows_;  // by the engine's torrent id
    std::vector<const Row*> sorted_;
    SortKey sorted_by_ = SortKey::name;
    bool order_dirty_ = true;
    rpc::RemoteSession session_;
    rpc::RemoteStats stats_;
    std::string link_state_;
    bool connected_ = false, synced_ = false, polling_ = false, said_down_ = false;
    int polls_ = 0;
    // detail(): the last answer, for which torrent, when it was asked.
    TorrentStatus detail_;
    int64_t detail_id_ = -1, detail_asked_ms_ = -1'000'000;
    bool detail_ok_ = false, detail_busy_ = false;
    UvHandle<uv_timer_t> timer_;
};

}  // namespace btl::ui
