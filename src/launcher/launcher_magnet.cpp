// The launcher's .magnet files: a file holding one magnet link runs a
// metadata fetch (its row shows "fetching metadata (peers N)"), then the
// torrent is added exactly as if a .torrent had been dropped.  The fetched
// metadata is kept in DATA_DIR/torrents, so a restart loads that instead.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "btl/engine/session.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl {

struct Launcher::MagnetLoad {
    MagnetLink link;
    std::optional<Metainfo> saved;  // metadata fetched by an earlier run
};

namespace {

Result<std::string> read_small_file(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return make_error(std::strerror(errno));
    std::string text(kMaxMagnetLength + 1024 + 1, '\0');
    size_t n = std::fread(text.data(), 1, text.size(), f);
    std::fclose(f);
    text.resize(n);
    return text;
}

}  // namespace

void Launcher::load_magnet(const std::string& name) {
    Entry& e = files_[name];
    e.busy = true;
    const uint64_t gen = e.gen;
    // Read, parsed and the saved metadata looked for on the pool.
    auto work = [path = e.path, data_dir = s_.data_dir()]() -> Result<MagnetLoad> {
        auto text = read_small_file(path);
        if (!text.ok()) return text.error();
        auto link = parse_magnet_file_text(*text);
        if (!link.ok()) return link.error();
        MagnetLoad out{std::move(*link), std::nullopt};
        const std::string saved = Session::saved_torrent_path(data_dir, out.link.info_hash);
        struct stat st {};
        if (::stat(saved.c_str(), &st) == 0) {
            auto mi = load_metainfo_file(saved);
            if (mi.ok() && mi->info_hash == out.link.info_hash) out.saved = std::move(*mi);
        }
        return out;
    };
    Status queued = queue_job(loop_, jobs_.token(), std::move(work),
                              [this, name, gen](Result<MagnetLoad> r) { on_magnet_loaded(name, gen, std::move(r)); });
    if (!queued.ok()) on_magnet_loaded(name, gen, queued.error());
}

void Launcher::on_magnet_loaded(const std::string& name, uint64_t gen, Result<MagnetLoad> r) {
    auto it = files_.find(name);
    if (it == files_.end() || it->second.gen != gen) return;
    if (!r.ok()) return on_parsed(name, gen, r.error());
    it->second.select_only = r->link.select_only;
    if (r->saved) {
        log_.log(LogLevel::info, r->saved->name, name + ": metadata from " +
                                                    Session::saved_torrent_path(s_.data_dir(), r->link.info_hash));
        return on_parsed(name, gen, std::move(*r->saved));
    }
    Entry& e = it->second;
    if (e.loaded) {
        // The link changed under a running torrent: stop that one first.
        Sha1Digest old = e.ih;
        queue_forget(e, false);
        e.loaded = false;
        e.torrent = nullptr;
        taken_.remove(e.save_path);
        owner_.erase(old);
        s_.remove_torrent(old, [this, alive = jobs_.token(), name, gen, link = r->link] {
            if (alive.expired()) return;
            auto it2 = files_.find(name);
            if (it2 != files_.end() && it2->second.gen == gen)
                on_magnet_loaded(name, gen, MagnetLoad{link, std::nullopt});
        });
        return;
    }
    const MagnetLink& link = r->link;
    for (const auto& w : link.warnings) log_.log(LogLevel::warning, link.display_name(), name + ": " + w);
    e.busy = false;
    e.error.clear();
    e.ih = link.info_hash;
    e.has_ih = true;
    e.torrent_name = link.display_name();
    e.duplicate_of.clear();
    if (auto o = owner_.find(link.info_hash); o != owner_.end() && o->second != name) {
        // The same torrent runs from another file: as for a duplicate .torrent.
        e.duplicate_of = o->second;
        e.error = "duplicate of " + o->second;
        log_.log(LogLevel::warning, e.torrent_name, name + ": " + e.error);
        rows_changed();
        return;
    }
    Status st = s_.fetch_metadata(link, [this, alive = jobs_.token(), name, gen](Result<Metainfo> mi) {
        if (alive.expired()) return;
        auto it2 = files_.find(name);
        if (it2 == files_.end() || it2->second.gen != gen) return;
        it2->second.fetching = false;
        order_dirty_ = true;  // the name may change from dn to the torrent's
        on_parsed(name, gen, std::move(mi));
    });
    if (!st.ok()) {
        e.error = st.error().message;
        log_.log(LogLevel::error, e.torrent_name, name + ": " + e.error);
        rows_changed();
        return;
    }
    e.fetching = true;
    order_dirty_ = true;
    log_.log(LogLevel::info, e.torrent_name, "added " + name + ", fetching metadata");
    rows_changed();
}

void Launcher::stop_fetch(Entry& e) {
    if (!e.fetching) return;
    e.fetching = false;
    s_.cancel_fetch(e.ih);
}

bool Launcher::magnet_row(const Entry& e, Row& r) const {
    FetchStatus fs;
    if (!s_.fetch_status(e.ih, fs)) return false;
    r.loaded = true;
    r.st.name = e.torrent_name;
    r.st.info_hash = e.ih;
    r.st.state = TorrentState::fetching;
    r.st.peers = fs.peers;
    r.st.tracker_message = "fetching metadata (peers " + std::to_string(fs.peers) + ")";
    return true;
}

}  // namespace btl
