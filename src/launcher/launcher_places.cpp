#include "btl/launcher/launcher.hpp"

#include <unistd.h>

#include <climits>

#include "btl/disk/move_storage.hpp"
#include "btl/engine/session.hpp"
#include "btl/engine/torrent.hpp"

namespace btl {

namespace {

std::string absolute(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.empty() || p[0] == '/') return p;
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return p;
    return std::string(cwd) + "/" + p;
}

}  // namespace

Status read_places(const Options& o, const LabelTable& labels, LauncherOptions& lo) {
    lo.incomplete_dir = absolute(o.get("incomplete_dir"));
    lo.move_completed_to = absolute(o.get("move_completed_to"));
    lo.labels = labels;
    const std::string watched = absolute(lo.dir);
    for (const auto& [opt, dir] : {std::pair<const char*, const std::string&>{"incomplete_dir", lo.incomplete_dir},
                                   {"move_completed_to", lo.move_completed_to}}) {
        if (dir.empty()) continue;
        if (dir == watched || (dir.size() > watched.size() && dir.compare(0, watched.size() + 1, watched + "/") == 0))
            return make_error(std::string("--") + opt + " " + dir + " lies inside the watched directory");
    }
    return Ok{};
}

std::vector<std::string> place_roots(const LauncherOptions& lo) {
    std::vector<std::string> roots{lo.save_in};
    for (const auto* d : {&lo.incomplete_dir, &lo.move_completed_to})
        if (!d->empty()) roots.push_back(*d);
    for (const auto& [name, cfg] : lo.labels)
        for (const auto* d : {&cfg.save_in, &cfg.move_completed_to})
            if (!d->empty()) roots.push_back(*d);
    return roots;
}

Placement place_torrent(const LauncherOptions& opt, const std::string& save_in_override, const std::string& name,
                        const std::string& torrent_name, const TakenPaths& taken) {
    Placement pl;
    pl.label = label_of_watch_name(name);
    pl.seed_ratio = label_seed_ratio(opt.labels, pl.label);
    const std::string base = !save_in_override.empty() ? save_in_override : label_save_in(opt.labels, pl.label, opt.save_in);
    pl.save_path = choose_save_path(opt.saveas_style, base, watch_leaf_name(name), torrent_name, taken);
    const std::string move_to = label_move_completed_to(opt.labels, pl.label, opt.move_completed_to);
    if (!move_to.empty()) pl.final_path = relocated_save_path(pl.save_path, move_to);
    if (!opt.incomplete_dir.empty()) {
        std::string inc = relocated_save_path(pl.save_path, opt.incomplete_dir);
        if (!inc.empty() && inc != pl.save_path) {
            if (pl.final_path.empty()) pl.final_path = pl.save_path;
            pl.save_path = inc;
        }
    }
    if (pl.final_path == pl.save_path) pl.final_path.clear();
    return pl;
}

Status Launcher::set_location(const Sha1Digest& ih, const std::string& dir, bool move) {
    Torrent* t = s_.find(ih);
    if (!t) return make_error("torrent " + to_hex(ih) + " is not running");
    refreshed_ms_ = -1;
    const std::string name = t->metainfo().name;
    if (!move) {
        Status st = t->relocate_to_dir(dir);
        if (st.ok()) log_.log(LogLevel::info, name, "save path set to " + t->save_path());
        return st;
    }
    return t->move_to_dir(dir, [this, alive = jobs_.token(), name, ih](Status st) {
        if (alive.expired()) return;
        refreshed_ms_ = -1;
        if (!st.ok()) log_.log(LogLevel::error, name, "move failed: " + st.error().message);
        if (Torrent* t2 = s_.find(ih); t2 && st.ok()) {
            // The launcher's record of taken paths follows the data.
            for (auto& [file, e] : files_)
                if (e.loaded && e.ih == ih) {
                    taken_.remove(e.save_path);
                    e.save_path = t2->save_path();
                    taken_.add(e.save_path);
                }
        }
    });
}

Status Launcher::set_label(const Sha1Digest& ih, const std::string& label) {
    Torrent* t = s_.find(ih);
    if (!t) return make_error("torrent " + to_hex(ih) + " is not running");
    if (!label.empty() && !valid_label(label))
        return make_error("'" + label + "' is not a valid label (1-64 bytes, no '/', not starting with '.')");
    t->set_label(label);
    refreshed_ms_ = -1;
    log_.log(LogLevel::info, t->metainfo().name, label.empty() ? std::string("label removed") : "label set to " + label);
    return Ok{};
}

}  // namespace btl
