#include "btl/launcher/rpc_launcher_backend.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "btl/base/atomic_file.hpp"
#include "btl/base/lock_file.hpp"
#include "btl/core/magnet.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/engine/session.hpp"

namespace btl {

struct LauncherRpcBackend::Parsed {
    std::string bytes;
    Sha1Digest ih{};
    std::string name;
    bool magnet = false;  // bytes is a magnet link (written as HEX.magnet)
};

namespace {

constexpr size_t kMaxTorrentFile = size_t(100) << 20;  // as MetainfoLimits

Result<std::string> read_small_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return make_error(path + ": " + std::strerror(errno));
    std::string data;
    char buf[65536];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        data.append(buf, size_t(f.gcount()));
        if (data.size() > kMaxTorrentFile) return make_error(path + ": larger than a .torrent can be");
    }
    return data;
}

}  // namespace

Status change_torrent_files(Session& s, const Sha1Digest& ih, const rpc::FileChange& c) {
    Torrent* t = s.find(ih);
    if (!t) return make_error("torrent " + to_hex(ih) + " is not running");
    std::vector<uint32_t> files = c.files;
    if (files.empty())  // Transmission: no index means every file
        for (uint32_t i = 0; i < t->metainfo().files.size(); ++i) files.push_back(i);
    using K = rpc::FileChange::Kind;
    switch (c.kind) {
        case K::wanted: return t->set_files_wanted(files, true);
        case K::unwanted: return t->set_files_wanted(files, false);
        case K::priority: return t->set_files_priority(files, c.priority);
        case K::sequential: t->set_sequential(c.on); return Ok{};
    }
    return Ok{};
}

void Launcher::change_files(const Sha1Digest& ih, const rpc::FileChange& c) {
    refreshed_ms_ = -1;
    if (Status st = change_torrent_files(s_, ih, c); !st.ok()) log_.log(LogLevel::error, "", st.error().message);
}

LauncherRpcBackend::LauncherRpcBackend(uv_loop_t* loop, Launcher& launcher, Session& session)
    : loop_(loop), launcher_(launcher), session_(session) {}

std::string LauncherRpcBackend::added_dir(const std::string& data_dir) { return data_dir + "/added"; }

const std::vector<const TorrentStatus*>& LauncherRpcBackend::torrents() {
    const auto& rows = launcher_.sorted_rows(SortKey::name);
    list_.clear();
    list_.reserve(rows.size());
    for (const Row* r : rows)
        if (r->loaded) list_.push_back(&r->st);
    return list_;
}

bool LauncherRpcBackend::changes(uint64_t& cursor, std::vector<rpc::TorrentChange>& out) {
    feed_buf_.clear();
    if (!launcher_.changes_since(cursor, feed_buf_)) return false;
    out.reserve(out.size() + feed_buf_.size());
    for (const auto& c : feed_buf_) out.push_back(rpc::TorrentChange{c.info_hash, c.removed});
    return true;
}

bool LauncherRpcBackend::counts(Counts& out) {
    Launcher::TorrentCounts c = launcher_.torrent_counts();
    out.torrents = c.torrents;
    out.active = c.active;
    out.paused = c.paused;
    out.up_total = c.up_total;
    out.down_total = c.down_total;
    return true;
}

bool LauncherRpcBackend::detail(const Sha1Digest& ih, TorrentStatus& out) { return launcher_.detail(ih, out); }

bool LauncherRpcBackend::paused(const Sha1Digest& ih) const { return launcher_.paused(ih); }

Status LauncherRpcBackend::running(const Sha1Digest& ih) const {
    if (!session_.find(ih)) return make_error("torrent " + to_hex(ih) + " is not running");
    return Ok{};
}

Status LauncherRpcBackend::start(const Sha1Digest& ih) {
    if (Status st = running(ih); !st.ok()) return st;
    launcher_.start_torrent(ih);  // paused or finished: runs again
    return Ok{};
}

Status LauncherRpcBackend::stop(const Sha1Digest& ih) {
    if (Status st = running(ih); !st.ok()) return st;
    if (!launcher_.paused(ih)) launcher_.toggle_pause(ih);
    return Ok{};
}

Status LauncherRpcBackend::verify(const Sha1Digest& ih) {
    if (Status st = running(ih); !st.ok()) return st;
    launcher_.recheck(ih);
    return Ok{};
}

Status LauncherRpcBackend::set_location(const Sha1Digest& ih, const std::string& dir, bool move) {
    return launcher_.set_location(ih, dir, move);
}

Status LauncherRpcBackend::set_label(const Sha1Digest& ih, const std::string& label) {
    return launcher_.set_label(ih, label);
}

Status LauncherRpcBackend::remove(const Sha1Digest& ih, bool delete_data) {
    std::string file = launcher_.file_of(ih);
    if (file.empty() || !launcher_.remove(file, delete_data)) return make_error("torrent " + to_hex(ih) + " is not here");
    return Ok{};
}

void LauncherRpcBackend::add(rpc::AddRequest req, std::function<void(Result<rpc::AddResult>)> done) {
    if (req.metainfo.empty() && is_magnet_uri(req.filename)) {
        // Kept as DATA_DIR/added/HEX.magnet, which the launcher loads as it
        // loads a .magnet file in the watched directory.
        auto link = parse_magnet(req.filename);
        if (!link.ok()) return done(link.error());
        Parsed p;
        p.bytes = req.filename + "\n";
        p.ih = link->info_hash;
        p.name = link->display_name();
        p.magnet = true;
        req.filename.clear();
        return on_parsed(std::move(req), std::move(p), std::move(done));
    }
    auto work = [meta = std::move(req.metainfo), file = req.filename]() -> Result<Parsed> {
        Parsed p;
        if (!meta.empty()) {
            p.bytes = meta;
        } else {
            auto data = read_small_file(file);
            if (!data.ok()) return data.error();
            p.bytes = std::move(*data);
        }
        auto mi = parse_metainfo(p.bytes);
        if (!mi.ok()) return make_error("not a valid .torrent: " + mi.error().describe());
        p.ih = mi->info_hash;
        p.name = mi->name;
        return p;
    };
    req.metainfo.clear();
    auto next = [this, req, done](Result<Parsed> p) mutable {
        if (!p.ok()) return done(p.error());
        on_parsed(std::move(req), std::move(*p), std::move(done));
    };
    if (Status q = queue_job(loop_, jobs_.token(), std::move(work), next); !q.ok()) done(q.error());
}

void LauncherRpcBackend::on_parsed(rpc::AddRequest req, Parsed p, std::function<void(Result<rpc::AddResult>)> done) {
    rpc::AddResult res;
    res.info_hash = p.ih;
    res.name = p.name;
    if (!launcher_.file_of(p.ih).empty()) {
        res.duplicate = true;
        return done(res);
    }
    const std::string dir = added_dir(session_.data_dir());
    const std::string hex = to_hex(p.ih);
    const std::string path = dir + "/" + hex + (p.magnet ? ".magnet" : ".torrent");
    auto work = [dir, path, hex, bytes = std::move(p.bytes), save_in = req.download_dir]() -> Status {
        if (int e = make_directories(dir)) return make_error("cannot create " + dir + ": " + std::strerror(e));
        if (!save_in.empty())
            if (Status st = write_file_atomic(dir + "/" + hex + ".dir", save_in + "\n"); !st.ok()) return st;
        return write_file_atomic(path, bytes);
    };
    auto written = [this, res, path, magnet = p.magnet, save_in = req.download_dir, paused = req.paused,
                    done](Status st) {
        if (!st.ok()) return done(st.error());
        launcher_.add_file(magnet ? Launcher::added_magnet_name(res.info_hash) : Launcher::added_name(res.info_hash),
                           path, save_in, paused);
        done(res);
    };
    if (Status q = queue_job(loop_, jobs_.token(), std::move(work), written); !q.ok()) done(q.error());
}

rpc::SessionFacts LauncherRpcBackend::facts() const {
    rpc::SessionFacts f;
    f.download_dir = launcher_.options().save_in;
    f.data_dir = session_.data_dir();
    f.config_dir = session_.data_dir();
    f.peer_port = session_.listen_port();
    RateLimits r = launcher_.rate_limits();
    f.up_limit = r.up;
    f.down_limit = r.down;
    f.peer_limit_per_torrent = session_.options().max_peers_per_torrent;
    f.peer_limit_global = session_.options().max_connections;
    const SessionOptions& so = session_.options();
    f.dht = so.dht;
    f.pex = so.pex;
    f.utp = so.utp;
    f.lpd = so.lsd;
    f.port_forwarding = so.upnp || so.natpmp;
    f.encryption = so.encryption == Encryption::require  ? "required"
                   : so.encryption == Encryption::prefer ? "preferred"
                                                         : "tolerated";
    f.seed_ratio = so.seed_ratio;
    f.seed_idle_minutes = so.seed_idle_minutes;
    const LauncherOptions& lo = launcher_.options();
    f.incomplete_dir = lo.incomplete_dir;
    f.download_queue_size = lo.queue.max_downloads;
    f.seed_queue_size = lo.queue.max_seeds;
    f.queue_stalled_minutes = lo.queue_stalled_ms / 60'000;
    return f;
}

void LauncherRpcBackend::set_rate_limits(int64_t up, int64_t down) { launcher_.set_rate_limits({up, down}); }

SessionStatus LauncherRpcBackend::session_status() { return launcher_.session_status(); }

Status LauncherRpcBackend::set_limits(const Sha1Digest& ih, const TorrentLimits& l) {
    if (!launcher_.set_torrent_limits(ih, l)) return make_error("torrent " + to_hex(ih) + " is not running");
    return Ok{};
}

Status LauncherRpcBackend::queue_move(const Sha1Digest& ih, int how) {
    if (how < 0 || how > 3) return make_error("no such queue move");
    if (!launcher_.queue_move(ih, QueueMove(how))) return make_error("torrent " + to_hex(ih) + " is not in the queue");
    return Ok{};
}

}  // namespace btl
