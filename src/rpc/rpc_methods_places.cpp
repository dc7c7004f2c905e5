// RPC for places and labels: torrent-set-location, and torrent-set's
// "location" and "labels".  A destination must lie inside the configured
// roots (--save_in, --incomplete_dir, --move_completed_to, the labels'
// directories) unless --rpc_allow_any_dir.
#include "btl/rpc/rpc_methods.hpp"
#include "btl/rpc/rpc_security.hpp"

namespace btl::rpc {

namespace {

// Applies one place change to every selected torrent; errors joined.
std::string each(const std::vector<const TorrentStatus*>& sel, const std::function<Status(const Sha1Digest&)>& f) {
    std::string errors;
    for (const TorrentStatus* t : sel)
        if (Status st = f(t->info_hash); !st.ok()) errors += (errors.empty() ? "" : "; ") + t->name + ": " + st.error().message;
    return errors;
}

}  // namespace

bool Dispatcher::set_places(const Call& c, const std::vector<const TorrentStatus*>& sel, std::string& why) {
    if (auto loc = c.args.find("location"); loc != c.args.end()) {
        std::string norm = loc->is_string() ? normal_path(loc->get<std::string>()) : std::string();
        if (norm.empty()) return why = "torrent-set: location must be an absolute path", false;
        if (!opt_.allow_any_dir && !path_inside(norm, opt_.allowed_dirs))
            return why = "torrent-set: location " + norm + " is outside the configured save directories (see --rpc_allow_any_dir)", false;
        // Transmission's torrent-set location only changes where the data
        // is looked for.
        why = each(sel, [&](const Sha1Digest& ih) { return b_.set_location(ih, norm, false); });
        if (!why.empty()) return false;
    }
    if (auto labels = c.args.find("labels"); labels != c.args.end()) {
        if (!labels->is_array() || labels->size() > 1 || (labels->size() == 1 && !(*labels)[0].is_string()))
            return why = "torrent-set: labels must be a list of at most one label (one label per torrent here)", false;
        std::string label = labels->empty() ? std::string() : (*labels)[0].get<std::string>();
        why = each(sel, [&](const Sha1Digest& ih) { return b_.set_label(ih, label); });
        if (!why.empty()) return false;
    }
    return true;
}

void Dispatcher::torrent_set_location(const Call& c, Done done) {
    auto fail = [&](std::string why) {
        Outcome o;
        o.result = std::move(why);
        done(std::move(o));
    };
    std::vector<const TorrentStatus*> sel;
    bool recent = false;
    std::string why;
    if (!select(c, sel, recent, why)) return fail(why);
    auto loc = c.args.find("location");
    std::string norm = loc != c.args.end() && loc->is_string() ? normal_path(loc->get<std::string>()) : std::string();
    if (norm.empty()) return fail("torrent-set-location: location must be an absolute path");
    if (!opt_.allow_any_dir && !path_inside(norm, opt_.allowed_dirs))
        return fail("torrent-set-location: " + norm + " is outside the configured save directories (see --rpc_allow_any_dir)");
    bool move = false;
    if (auto m = c.args.find("move"); m != c.args.end()) move = m->is_boolean() ? m->get<bool>() : (m->is_number() && m->get<double>() != 0);
    why = each(sel, [&](const Sha1Digest& ih) { return b_.set_location(ih, norm, move); });
    if (!why.empty()) return fail("torrent-set-location: " + why);
    done(Outcome{});
}

}  // namespace btl::rpc
