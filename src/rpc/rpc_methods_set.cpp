// torrent-set (per-torrent limits and goals, per-file choices and
// sequential download, location and labels) and queue-move-*.  Every key of
// a torrent-set is parsed before anything changes, so a request with a bad
// value or a key this engine lacks changes nothing and the error names it.
#include <utility>
#include <vector>

#include "btl/rpc/rpc_methods.hpp"
#include "btl/rpc/torrent_set.hpp"
#include "btl/rpc/torrent_set_files.hpp"

namespace btl::rpc {

namespace {

Dispatcher::Outcome fail(std::string why) {
    Dispatcher::Outcome o;
    o.result = std::move(why);
    return o;
}

}  // namespace

void Dispatcher::torrent_set(const Call& c, Done done) {
    std::vector<const TorrentStatus*> sel;
    bool recent = false;
    std::string why;
    if (!select(c, sel, recent, why)) return done(fail(why));
    // Every key must be one this engine applies: accepting one silently
    // would be a lie to the user.  Each key is parsed before anything
    // changes.
    std::string unsupported, keys;
    nlohmann::json file_args = nlohmann::json::object();
    for (const auto& [key, value] : c.args.items()) {
        if (key == "ids" || key == "location" || key == "labels") continue;
        if (is_limits_key(key)) keys += (keys.empty() ? "" : ", ") + key;
        else file_args[key] = value;
    }
    std::vector<TorrentSetAction> actions;
    if (std::string bad = parse_file_keys(file_args, actions, unsupported); !bad.empty())
        return done(fail("torrent-set: " + bad));
    if (!unsupported.empty()) return done(fail("torrent-set: not supported by this engine yet: " + unsupported));
    std::vector<std::pair<Sha1Digest, TorrentLimits>> limits;
    for (const TorrentStatus* t : keys.empty() ? std::vector<const TorrentStatus*>{} : sel) {
        TorrentLimits l = t->limits;
        if (std::string bad = apply_limits_args(c.args, l); !bad.empty()) return done(fail("torrent-set: " + bad));
        limits.emplace_back(t->info_hash, l);
    }
    std::vector<Sha1Digest> hashes;
    for (const TorrentStatus* t : sel) hashes.push_back(t->info_hash);
    if (!set_places(c, sel, why)) return done(fail(why));  // "location", "labels"
    std::string errors;
    for (const auto& [ih, l] : limits)
        if (Status st = b_.set_limits(ih, l); !st.ok())
            errors += (errors.empty() ? "torrent-set " + keys + ": " : "; ") + st.error().message;
    for (const auto& ih : hashes)
        for (const auto& act : actions)
            if (Status st = act(b_, ih); !st.ok()) errors += (errors.empty() ? "torrent-set: " : "; ") + st.error().message;
    done(errors.empty() ? Outcome{} : fail(errors));
}

void Dispatcher::queue_move(const Call& c, Done done) {
    std::vector<const TorrentStatus*> sel;
    bool recent = false;
    std::string why;
    if (!select(c, sel, recent, why)) return done(fail(why));
    const int how = queue_move_kind(c.method);
    std::string errors;
    for (const auto& ih : queue_move_order(sel, how))
        if (Status st = b_.queue_move(ih, how); !st.ok()) errors += (errors.empty() ? "" : "; ") + st.error().message;
    done(errors.empty() ? Outcome{} : fail(errors));
}

}  // namespace btl::rpc
