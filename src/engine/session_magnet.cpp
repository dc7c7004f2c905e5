// Session's magnet links: the metadata fetches it runs before a torrent
// exists, and the hand-over to add_torrent once the metadata is verified.
#include <sys/stat.h>

#include "btl/base/atomic_file.hpp"
#include "btl/core/bencode.hpp"
#include "btl/engine/metadata_fetch.hpp"
#include "btl/engine/session.hpp"

namespace btl {

struct Session::Fetch {
    std::unique_ptr<MetadataFetch> fetch;
    MetadataDone done;
    // The DHT's get_peers for this info-hash (0: none running), and when the
    // next one may start: soon after one that found nobody (the DHT may
    // still be joining), a minute after one that found peers.
    uint64_t dht_lookup = 0;
    int64_t dht_next_ms = 0;
};

namespace {

// A torrent file around a verified info dictionary (its raw bytes, so the
// info-hash stays what the link named), with the link's trackers.
std::string torrent_file_bytes(const std::string& info, const std::vector<std::string>& trackers) {
    std::string out;
    BEncoder e(out);
    e.begin_dict();
    if (!trackers.empty()) {
        e.string("announce").string(trackers[0]);
        if (trackers.size() > 1) {
            e.string("announce-list").begin_list();
            for (const auto& t : trackers) e.begin_list().string(t).end();
            e.end();
        }
    }
    e.string("info").raw(info);
    e.end();
    return out;
}

}  // namespace

std::string Session::saved_torrent_path(const std::string& data_dir, const Sha1Digest& ih) {
    return data_dir + "/torrents/" + to_hex(ih) + ".torrent";
}

Status Session::fetch_metadata(const MagnetLink& link, MetadataDone done) {
    if (shutting_down_) return make_error("shutting down");
    const Sha1Digest ih = link.info_hash;
    if (torrents_.count(ih)) return make_error("torrent " + to_hex(ih) + " is already running");
    if (fetches_.count(ih)) return make_error("metadata of " + to_hex(ih) + " is already being fetched");
    auto f = std::make_shared<Fetch>();
    f->done = std::move(done);
    f->fetch = std::make_unique<MetadataFetch>(*this, link, [this, ih](std::string info, std::vector<PeerEndpoint> peers) {
        on_metadata(ih, std::move(info), std::move(peers));
    });
    fetches_.emplace(ih, f);
    f->fetch->start();
    return Ok{};
}

void Session::cancel_fetch(const Sha1Digest& ih) {
    auto it = fetches_.find(ih);
    if (it == fetches_.end()) return;
    if (dht_ && it->second->dht_lookup) dht_->cancel(it->second->dht_lookup);
    it->second->fetch->stop();
    dead_fetches_.push_back(std::move(it->second));
    fetches_.erase(it);
}

bool Session::add_fetch_peers(const Sha1Digest& ih, const std::vector<PeerEndpoint>& peers) {
    MetadataFetch* f = find_fetch(ih);
    if (!f) return false;
    f->add_peers(peers);
    return true;
}

void Session::forget_fetch_lookups() {
    for (auto& [ih, f] : fetches_) {
        if (dht_ && f->dht_lookup) dht_->cancel(f->dht_lookup);
        f->dht_lookup = 0;
        f->dht_next_ms = 0;
    }
}

void Session::fetch_dht_tick(int64_t now) {
    if (!dht_) return;
    for (auto& [ih, f] : fetches_) {
        if (f->dht_lookup || now < f->dht_next_ms || f->fetch->finished()) continue;
        const Sha1Digest key = ih;
        auto found = std::make_shared<size_t>(0);
        f->dht_lookup = dht_->get_peers(
            key,
            [this, key, found](const std::vector<PeerEndpoint>& peers) {
                *found += peers.size();
                add_fetch_peers(key, peers);
            },
            [this, key, found](size_t) {
                auto it = fetches_.find(key);
                if (it == fetches_.end()) return;
                it->second->dht_lookup = 0;
                it->second->dht_next_ms = now_ms() + (*found ? 60'000 : 5'000);
            });
    }
}

MetadataFetch* Session::find_fetch(const Sha1Digest& ih) {
    auto it = fetches_.find(ih);
    return it == fetches_.end() || it->second->fetch->finished() ? nullptr : it->second->fetch.get();
}

bool Session::fetch_status(const Sha1Digest& ih, FetchStatus& out) const {
    auto it = fetches_.find(ih);
    if (it == fetches_.end()) return false;
    const MetadataFetch& f = *it->second->fetch;
    out = FetchStatus{};
    out.info_hash = ih;
    out.name = f.link().display_name();
    out.peers = f.connected_peers();
    out.known = f.known_peers();
    out.metadata_size = f.metadata_size();
    out.pieces = f.pieces_received();
    out.tracker_message = f.tracker_message();
    return true;
}

std::vector<FetchStatus> Session::fetches() const {
    std::vector<FetchStatus> out;
    for (const auto& [ih, f] : fetches_) {
        FetchStatus s;
        if (fetch_status(ih, s)) out.push_back(std::move(s));
    }
    return out;
}

void Session::on_metadata(const Sha1Digest& ih, std::string info, std::vector<PeerEndpoint> peers) {
    auto it = fetches_.find(ih);
    if (it == fetches_.end()) return;
    const MagnetLink& link = it->second->fetch->link();
    std::string bytes = torrent_file_bytes(info, link.trackers);
    auto mi = std::make_shared<Result<Metainfo>>(parse_metainfo(bytes));
    if (!mi->ok()) {
        *mi = make_error("fetched metadata is not a valid info dictionary: " + mi->error().message);
        return finish_fetch(ih, mi, {});
    }
    // Kept so that a restart (or btshowmetainfo) needs no peer; written on
    // the pool, atomically, before the torrent starts.
    const std::string path = saved_torrent_path(data_dir_, ih), dir = data_dir_ + "/torrents";
    auto work = [path, dir, bytes = std::move(bytes)]() -> Status {
        ::mkdir(dir.c_str(), 0755);
        return write_file_atomic(path, bytes, true);
    };
    auto saved = [this, ih, mi, peers, path, name = link.display_name()](Status st) {
        if (st.ok()) log(LogLevel::info, name, "metadata saved as " + path);
        else log(LogLevel::warning, name, "cannot save metadata as " + path + ": " + st.error().message);
        finish_fetch(ih, mi, peers);
    };
    if (Status q = queue_job(loop_, fetch_jobs_.token(), std::move(work), saved); !q.ok()) saved(q);
}

void Session::finish_fetch(const Sha1Digest& ih, std::shared_ptr<Result<Metainfo>> mi, std::vector<PeerEndpoint> peers) {
    auto it = fetches_.find(ih);
    if (it == fetches_.end()) return;  // cancelled while the file was written
    auto f = std::move(it->second);
    fetches_.erase(it);
    dead_fetches_.push_back(f);  // not freed inside its own callback
    auto done = std::move(f->done);
    if (done) done(std::move(*mi));
    if (Torrent* t = find(ih); t && !peers.empty()) t->add_peers(peers);
}

}  // namespace btl
