#include "btl/ui/remote_model.hpp"

#include <algorithm>

#include "btl/base/sha1.hpp"

namespace btl::ui {

namespace {

constexpr int kSessionEvery = 5;  // polls between session-get refreshes

}  // namespace

RemoteModel::RemoteModel(uv_loop_t* loop, rpc::RpcEndpoint ep, LogBook& log, double interval_s)
    : loop_(loop), client_(loop, std::move(ep)), log_(log), interval_s_(std::max(0.1, interval_s)) {}

RemoteModel::~RemoteModel() = default;

void RemoteModel::start() {
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop_, h); });
    timer_->data = this;
    auto ms = uint64_t(interval_s_ * 1000);
    uv_timer_start(timer_.get(), [](uv_timer_t* h) {
        if (auto* m = static_cast<RemoteModel*>(h->data)) m->poll();
    }, 0, ms);
}

void RemoteModel::apply(std::map<int64_t, Row>& rows, rpc::TorrentList list, bool full) {
    if (full) rows.clear();
    for (int64_t id : list.removed) rows.erase(id);
    for (auto& t : list.torrents) {
        Row& r = rows[t.id];
        r.file = t.st.name.empty() ? to_hex(t.st.info_hash) : t.st.name;
        r.loaded = true;
        r.added_seq = uint64_t(t.id);
        r.st = std::move(t.st);
    }
}

void RemoteModel::poll() {
    if (polling_) return;
    polling_ = true;
    const bool full = !synced_;
    client_.call(rpc::torrent_get_request(full ? rpc::Which::all : rpc::Which::recently_active),
                 [this, full](Result<std::string> a) { on_torrents(std::move(a), full); });
    client_.call(rpc::plain_request("session-stats"), [this](Result<std::string> a) {
        if (!a.ok()) return;
        if (auto s = rpc::parse_session_stats(*a); s.ok()) stats_ = *s;
    });
    if (full || ++polls_ % kSessionEvery == 0) ask_session();
}

void RemoteModel::ask_session() {
    client_.call(rpc::plain_request("session-get"), [this](Result<std::string> a) {
        if (!a.ok()) return;
        auto s = rpc::parse_session_get(*a);
        if (!s.ok()) return;
        session_ = *s;
        // Transmission 4 dropped download-dir-free-space: ask free-space.
        if (session_.free_space < 0 && !session_.download_dir.empty())
            client_.call(rpc::free_space_request(session_.download_dir), [this](Result<std::string> f) {
                if (!f.ok()) return;
                if (auto n = rpc::parse_free_space(*f); n.ok()) session_.free_space = *n;
            });
    });
}

void RemoteModel::on_torrents(Result<std::string> answer, bool full) {
    polling_ = false;
    if (!answer.ok()) return lost(answer.error().message);
    auto list = rpc::parse_torrent_get(*answer);
    if (!list.ok()) return lost(list.error().message);
    if (!connected_) {
        log_.log(LogLevel::info, "", "connected to the engine at " + client_.endpoint().describe());
        connected_ = true;
        said_down_ = false;
        link_state_.clear();
    }
    synced_ = true;
    if (full || !list->removed.empty() || (!list->torrents.empty() && reorders(*list))) order_dirty_ = true;
    apply(rows_, std::move(*list), full);
}

void RemoteModel::lost(const std::string& why) {
    synced_ = false;
    link_state_ = "engine at " + client_.endpoint().describe() + " not answering: " + why + "; retrying";
    if (!said_down_) log_.log(LogLevel::warning, "", link_state_);  // once per outage
    said_down_ = true;
    connected_ = false;
}

bool RemoteModel::reorders(const rpc::TorrentList& list) const {
    // Sorting by progress, rate or ratio follows every change; by name or
    // by added order only new rows and renames move anything.
    if (sorted_by_ != SortKey::name && sorted_by_ != SortKey::added) return true;
    for (const auto& t : list.torrents) {
        auto it = rows_.find(t.id);
        if (it == rows_.end() || it->second.st.name != t.st.name) return true;
    }
    return false;
}

const std::vector<const Row*>& RemoteModel::sorted_rows(SortKey k) {
    if (order_dirty_ || k != sorted_by_) {
        sorted_.clear();
        sorted_.reserve(rows_.size());
        for (const auto& [id, r] : rows_) sorted_.push_back(&r);
        sort_rows(sorted_, k);
        sorted_by_ = k;
        order_dirty_ = false;
    }
    return sorted_;
}

SessionStatus RemoteModel::session_status() const {
    SessionStatus s;
    s.listen_port = session_.peer_port;
    s.down_rate = stats_.down_rate;
    s.up_rate = stats_.up_rate;
    s.torrents = rows_.size();
    for (const auto& [id, r] : rows_) {
        s.peers += size_t(std::max(0, r.st.peers));
        s.downloaded += r.st.downloaded;
        s.uploaded += r.st.uploaded;
    }
    return s;
}

int64_t RemoteModel::id_of(const Row& r) const {
    for (const auto& [id, row] : rows_)
        if (row.st.info_hash == r.st.info_hash && row.file == r.file) return id;
    return -1;
}

bool RemoteModel::detail(const Row& r, TorrentStatus& out) {
    const int64_t id = id_of(r);
    if (id < 0) return false;
    const auto now = int64_t(uv_now(loop_));
    if (!detail_busy_ && (id != detail_id_ || now - detail_asked_ms_ >= int64_t(interval_s_ * 1000))) {
        detail_busy_ = true;
        detail_asked_ms_ = now;
        if (id != detail_id_) detail_ok_ = false;
        detail_id_ = id;
        client_.call(rpc::torrent_get_request(rpc::Which::one, id, true), [this, id](Result<std::string> a) {
            detail_busy_ = false;
            if (!a.ok() || id != detail_id_) return;
            auto list = rpc::parse_torrent_get(*a);
            if (!list.ok() || list->torrents.empty()) return;
            detail_ = std::move(list->torrents.front().st);
            detail_ok_ = true;
        });
    }
    if (!detail_ok_ || id != detail_id_) return false;
    out = detail_;
    return true;
}

void RemoteModel::command(std::string body, const std::string& what) {
    client_.call(std::move(body), [this, what](Result<std::string> a) {
        Status st = a.ok() ? rpc::parse_result(*a) : Status(a.error());
        if (!st.ok()) log_.log(LogLevel::error, "", what + " failed: " + st.error().message);
        poll();
    });
}

void RemoteModel::toggle_pause(const Row& r) {
    int64_t id = id_of(r);
    if (id < 0) return;
    const bool stopped = r.st.state == TorrentState::stopped || r.st.state == TorrentState::finished;
    command(rpc::torrent_action_request(stopped ? "torrent-start" : "torrent-stop", id),
            (stopped ? "resuming " : "pausing ") + r.st.name);
}

void RemoteModel::recheck(const Row& r) {
    int64_t id = id_of(r);
    if (id >= 0) command(rpc::torrent_action_request("torrent-verify", id), "re-checking " + r.st.name);
}

void RemoteModel::change_files(const Row& r, const rpc::FileChange& c) {
    int64_t id = id_of(r);
    if (id >= 0) command(rpc::torrent_files_request(id, c), "changing the files of " + r.st.name);
}

bool RemoteModel::remove(const Row& r, bool delete_data) {
    int64_t id = id_of(r);
    if (id < 0) return false;
    log_.log(LogLevel::info, r.st.name, delete_data ? "removing, and deleting its data" : "removing (data kept)");
    command(rpc::torrent_action_request("torrent-remove", id, delete_data), "removing " + r.st.name);
    return true;
}

void RemoteModel::set_rate_limits(RateLimits r) {
    // Shown at once; the engine's own figures come back with session-get.
    session_.down_limit = r.down;
    session_.up_limit = r.up;
    log_.log(LogLevel::info, "", "limits: down " + rate_limit_text(r.down) + ", up " + rate_limit_text(r.up));
    client_.call(rpc::session_limits_request(r.down, r.up), [this](Result<std::string> a) {
        Status st = a.ok() ? rpc::parse_result(*a) : Status(a.error());
        if (!st.ok()) log_.log(LogLevel::error, "", "changing the limits failed: " + st.error().message);
        ask_session();
    });
}

bool RemoteModel::queue_move(const Row& r, QueueMove m) {
    int64_t id = id_of(r);
    if (id < 0) return false;
    static const char* const kMethods[] = {"queue-move-top", "queue-move-up", "queue-move-down", "queue-move-bottom"};
    command(rpc::torrent_action_request(kMethods[int(m)], id), std::string(kMethods[int(m)]) + " " + r.st.name);
    return true;
}

bool RemoteModel::set_torrent_rates(const Row& r, RateLimits rl) {
    int64_t id = id_of(r);
    if (id < 0) return false;
    log_.log(LogLevel::info, r.st.name, "limits: down " + rate_limit_text(rl.down) + ", up " + rate_limit_text(rl.up));
    command(rpc::torrent_limits_request(id, rl.down, rl.up), "changing the limits of " + r.st.name);
    return true;
}

std::string RemoteModel::empty_hint() const {
    if (!connected_) return "waiting for the engine at " + client_.endpoint().describe();
    return "the engine at " + client_.endpoint().describe() + " has no torrents";
}

void RemoteModel::stop_engine(std::function<void(Status)> done) {
    client_.call(rpc::plain_request("session-close"), [done = std::move(done)](Result<std::string> a) {
        done(a.ok() ? rpc::parse_result(*a) : Status(a.error()));
    });
}

}  // namespace btl::ui
