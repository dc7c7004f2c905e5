// Transmission RPC methods; see btl/rpc/rpc_methods.hpp for the contract.
#include "btl/rpc/rpc_methods.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "btl/base/base64.hpp"
#include "btl/base/json.hpp"
#include "btl/rpc/rpc_security.hpp"
#include "btl/rpc/torrent_fields.hpp"

namespace btl::rpc {

using nlohmann::json;

namespace {

constexpr int kMaxDepth = 32;

std::string str_arg(const json& args, const char* key) {
    auto it = args.find(key);
    return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool bool_arg(const json& args, const char* key, bool dflt) {
    auto it = args.find(key);
    if (it == args.end()) return dflt;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_number_integer()) return it->get<int64_t>() != 0;
    return dflt;
}

void member(std::string& out, const char* name) {
    if (!out.empty()) out += ',';
    out += '"';
    out += name;
    out += "\":";
}

void add_stats(std::string& out, const char* name, int64_t up, int64_t down, int64_t added, int64_t sessions,
               int64_t seconds) {
    member(out, name);
    out += "{\"uploadedBytes\":" + std::to_string(up) + ",\"downloadedBytes\":" + std::to_string(down) +
           ",\"filesAdded\":" + std::to_string(added) + ",\"sessionCount\":" + std::to_string(sessions) +
           ",\"secondsActive\":" + std::to_string(seconds) + "}";
}

// The whole answer; the arguments are appended in place (megabytes for
// torrent-get of 10,000 torrents).
std::string wrap(Dispatcher::Outcome& o, const std::string& tag) {
    static constexpr std::string_view kHead = "{\"arguments\":{";
    std::string out;
    out.reserve(kHead.size() + o.arguments.size() + o.result.size() + tag.size() + 16);
    out += kHead;
    out += o.arguments;
    out += "},\"result\":";
    append_json_string(out, o.result);
    out += tag;
    out += '}';
    return out;
}

Dispatcher::Outcome fail(std::string why) {
    Dispatcher::Outcome o;
    o.result = std::move(why);
    return o;
}

}  // namespace

bool json_depth_ok(std::string_view body, int max_depth) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : body) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return false;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return true;
}

// ---- dispatch -------------------------------------------------------------

Dispatcher::Dispatcher(uv_loop_t* loop, RpcBackend& backend, DispatchOptions opt)
    : loop_(loop), b_(backend), opt_(std::move(opt)), started_ms_(int64_t(uv_now(loop))) {
    SessionFacts f = b_.facts();
    if (f.down_limit > 0) down_kbps_ = f.down_limit / 1000;
    if (f.up_limit > 0) up_kbps_ = f.up_limit / 1000;
}

void Dispatcher::handle(std::string_view body, Reply reply) {
    std::string tag;
    auto answer = [reply, &tag](Outcome o) { reply(wrap(o, tag)); };
    if (!json_depth_ok(body, kMaxDepth)) return answer(fail("request nests deeper than 32 levels"));
    json req = json::parse(body, nullptr, false);
    if (req.is_discarded() || !req.is_object()) return answer(fail("request is not a JSON object"));
    if (auto t = req.find("tag"); t != req.end() && t->is_number_integer())
        tag = ",\"tag\":" + std::to_string(t->get<int64_t>());
    Call c;
    auto m = req.find("method");
    if (m == req.end() || !m->is_string()) return answer(fail("no method name"));
    c.method = m->get<std::string>();
    if (auto a = req.find("arguments"); a != req.end()) {
        if (!a->is_object()) return answer(fail("arguments is not an object"));
        c.args = std::move(*a);
    }
    // Later answers (the pool) carry their own copy of the tag.
    Done done = [reply, tag](Outcome o) { reply(wrap(o, tag)); };
    try {
        dispatch(c, std::move(done));
    } catch (const std::exception& e) {
        // nlohmann's type errors: an argument of the wrong JSON type.
        answer(fail(c.method + ": invalid arguments (" + e.what() + ")"));
    }
}

void Dispatcher::dispatch(const Call& c, Done done) {
    using Method = void (Dispatcher::*)(const Call&, Done);
    static const std::map<std::string_view, Method> kMethods = {
        {"torrent-get", &Dispatcher::torrent_get},
        {"torrent-start", &Dispatcher::torrent_action},
        {"torrent-start-now", &Dispatcher::torrent_action},
        {"torrent-stop", &Dispatcher::torrent_action},
        {"torrent-verify", &Dispatcher::torrent_action},
        {"torrent-reannounce", &Dispatcher::torrent_action},
        {"torrent-add", &Dispatcher::torrent_add},
        {"torrent-set", &Dispatcher::torrent_set},
        {"torrent-remove", &Dispatcher::torrent_remove},
        {"session-get", &Dispatcher::session_get},
        {"session-set", &Dispatcher::session_set},
        {"session-stats", &Dispatcher::session_stats},
        {"free-space", &Dispatcher::free_space},
        {"torrent-set-location", &Dispatcher::torrent_set_location},
        {"queue-move-top", &Dispatcher::queue_move},
        {"queue-move-up", &Dispatcher::queue_move},
        {"queue-move-down", &Dispatcher::queue_move},
        {"queue-move-bottom", &Dispatcher::queue_move},
    };
    if (auto it = kMethods.find(c.method); it != kMethods.end()) return (this->*(it->second))(c, std::move(done));
    if (c.method == "port-test")
        return done(fail("port-test needs an outside service to connect back; this client contacts none"));
    if (c.method == "session-close") {
        if (!opt_.on_session_close) return done(fail("session-close is not allowed here"));
        done(Outcome{});
        return opt_.on_session_close();
    }
    static const char* const kUnsupported[] = {
        "torrent-rename-path", "blocklist-update", "group-get", "group-set"};
    for (const char* u : kUnsupported)
        if (c.method == u) return done(fail(c.method + " is not supported by this engine yet"));
    done(fail("method name not recognized"));
}

void Dispatcher::sync() {
    // With a backend that tracks changes, only what changed since the last
    // request is read (an idle engine's view polls every second); the
    // first request, or one after the feed lost track, reads them all.
    int64_t now = int64_t(uv_now(loop_));
    std::vector<TorrentChange> changes;
    bool ok = b_.changes(feed_cursor_, changes);
    if (ok && feed_ok_) return ids_.apply(changes, now);
    ids_.sync(b_.torrents(), now);
    // From here on the feed, if the backend keeps one (what changed while
    // torrents() was read is stamped too).
    changes.clear();
    feed_ok_ = b_.changes(feed_cursor_, changes);
    if (feed_ok_) ids_.apply(changes, now);
}

bool Dispatcher::select(const Call& c, std::vector<const TorrentStatus*>& out, bool& recent, std::string& why) {
    sync();
    recent = false;
    out.clear();
    auto it = c.args.find("ids");
    const json* ids_arg = it == c.args.end() ? nullptr : &*it;
    if (ids_arg && ids_arg->is_string() && ids_arg->get<std::string>() == "recently-active") {
        recent = true;
        int64_t now = int64_t(uv_now(loop_));
        if (feed_ok_) {
            // The torrents stamped in the window, not a pass over all of them.
            for (const Sha1Digest& h : ids_.recent(now))
                if (const TorrentStatus* t = b_.find(h)) out.push_back(t);
            return true;
        }
        for (const TorrentStatus* t : b_.torrents())
            if (ids_.recently_active(*t, now)) out.push_back(t);
        return true;
    }
    const auto& all = b_.torrents();
    if (!ids_arg) {
        out = all;
        return true;
    }
    const json& ids = *ids_arg;
    std::vector<Sha1Digest> want;
    auto one = [&](const json& v) {
        if (v.is_number_integer()) {
            if (const Sha1Digest* h = ids_.hash_of(int(std::clamp<int64_t>(v.get<int64_t>(), 0, INT32_MAX))))
                want.push_back(*h);
            return true;  // an id that is gone selects nothing, as in Transmission
        }
        Sha1Digest h{};
        if (v.is_string() && from_hex(v.get<std::string>(), h)) {
            want.push_back(h);
            return true;
        }
        why = "ids: " + v.dump() + " is neither a torrent id nor an info-hash";
        return false;
    };
    if (ids.is_array()) {
        for (const auto& v : ids)
            if (!one(v)) return false;
    } else if (!one(ids)) {
        return false;
    }
    std::sort(want.begin(), want.end());
    for (const TorrentStatus* t : all)
        if (std::binary_search(want.begin(), want.end(), t->info_hash)) out.push_back(t);
    return true;
}

void Dispatcher::torrent_get(const Call& c, Done done) {
    std::vector<std::string> names;
    if (auto f = c.args.find("fields"); f != c.args.end() && f->is_array())
        for (const auto& n : *f)
            if (n.is_string()) names.push_back(n.get<std::string>());
    std::vector<const Field*> fields = resolve_fields(names);
    bool table = str_arg(c.args, "format") == "table", recent = false;
    std::vector<const TorrentStatus*> sel;
    std::string why;
    if (!select(c, sel, recent, why)) return done(fail(why));
    std::vector<std::pair<int, const TorrentStatus*>> rows;
    rows.reserve(sel.size());
    for (const TorrentStatus* t : sel) rows.emplace_back(ids_.id_of(t->info_hash), t);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    const int peer_limit = b_.facts().peer_limit_per_torrent;
    const int64_t now = int64_t(std::time(nullptr));
    Outcome o;
    std::string& out = o.arguments;
    out.reserve(64 + rows.size() * (16 + fields.size() * 24));
    out += "\"torrents\":[";
    if (table) {
        out += '[';
        for (size_t i = 0; i < fields.size(); ++i) {
            if (i) out += ',';
            append_json_string(out, fields[i]->name);
        }
        out += ']';
    }
    TorrentStatus d;
    for (const auto& [id, t] : rows) {
        if (out.back() != '[') out += ',';
        const TorrentStatus* detail = nullptr;
        if (needs_detail(fields, *t) && b_.detail(t->info_hash, d)) detail = &d;
        // The engine shows a paused torrent as stopped (unless it is still
        // checking or in error, which Transmission would show too); asking
        // the flag of each of 10,000 torrents was a third of this call.
        FieldCtx ctx{*t, detail, id, t->state == TorrentState::stopped, peer_limit, now};
        out += table ? '[' : '{';
        for (size_t i = 0; i < fields.size(); ++i) {
            if (i) out += ',';
            if (!table) {
                append_json_string(out, fields[i]->name);
                out += ':';
            }
            fields[i]->write(out, ctx);
        }
        out += table ? ']' : '}';
    }
    out += ']';
    if (recent) {
        out += ",\"removed\":[";
        bool first = true;
        for (int id : ids_.recently_removed(int64_t(uv_now(loop_)))) {
            if (!first) out += ',';
            first = false;
            out += std::to_string(id);
        }
        out += ']';
    }
    done(std::move(o));
}

void Dispatcher::torrent_action(const Call& c, Done done) {
    std::vector<const TorrentStatus*> sel;
    bool recent = false;
    std::string why;
    if (!select(c, sel, recent, why)) return done(fail(why));
    if (c.method == "torrent-reannounce") return done(fail("torrent-reannounce is not supported by this engine yet"));
    std::vector<Sha1Digest> hashes;
    for (const TorrentStatus* t : sel) hashes.push_back(t->info_hash);
    std::string errors;
    for (const auto& ih : hashes) {
        Status st = c.method == "torrent-stop"     ? b_.stop(ih)
                    : c.method == "torrent-verify" ? b_.verify(ih)
                                                   : b_.start(ih);
        if (!st.ok()) errors += (errors.empty() ? "" : "; ") + st.error().message;
    }
    done(errors.empty() ? Outcome{} : fail(errors));
}

void Dispatcher::torrent_remove(const Call& c, Done done) {
    std::vector<const TorrentStatus*> sel;
    bool recent = false;
    std::string why;
    if (!select(c, sel, recent, why)) return done(fail(why));
    const bool delete_data = bool_arg(c.args, "delete-local-data", false);
    std::vector<Sha1Digest> hashes;
    for (const TorrentStatus* t : sel) hashes.push_back(t->info_hash);
    std::string errors;
    for (const auto& ih : hashes)
        if (Status st = b_.remove(ih, delete_data); !st.ok()) errors += (errors.empty() ? "" : "; ") + st.error().message;
    done(errors.empty() ? Outcome{} : fail(errors));
}

void Dispatcher::torrent_add(const Call& c, Done done) {
    AddRequest req;
    req.paused = bool_arg(c.args, "paused", false);
    std::string meta = str_arg(c.args, "metainfo");
    req.filename = str_arg(c.args, "filename");
    req.download_dir = str_arg(c.args, "download-dir");
    if (!meta.empty()) {
        auto raw = base64_decode(meta);
        if (!raw) return done(fail("torrent-add: metainfo is not valid base64"));
        req.metainfo = std::move(*raw);
    } else if (req.filename.empty()) {
        return done(fail("torrent-add: no filename or metainfo given"));
    } else if (req.filename.rfind("magnet:", 0) != 0 && req.filename.front() != '/') {
        return done(fail("torrent-add: filename must be an absolute path or a magnet link"));
    }
    if (!req.download_dir.empty()) {
        std::string norm = normal_path(req.download_dir);
        if (norm.empty()) return done(fail("torrent-add: download-dir must be an absolute path"));
        if (!opt_.allow_any_dir && !path_inside(norm, opt_.allowed_dirs))
            return done(fail("torrent-add: download-dir " + req.download_dir +
                             " is outside the configured save directory (see --rpc_allow_any_dir)"));
        req.download_dir = norm;
    }
    b_.add(std::move(req), [this, alive = jobs_.token(), done](Result<AddResult> r) {
        if (alive.expired()) return;
        if (!r.ok()) return done(fail(r.error().message));
        Outcome o;
        o.arguments = r->duplicate ? "\"torrent-duplicate\":{" : "\"torrent-added\":{";
        o.arguments += "\"id\":" + std::to_string(ids_.reserve(r->info_hash, int64_t(uv_now(loop_)))) + ",\"name\":";
        append_json_string(o.arguments, r->name);
        o.arguments += ",\"hashString\":\"" + to_hex(r->info_hash) + "\"}";
        done(std::move(o));
    });
}

void Dispatcher::free_space(const Call& c, Done done) {
    std::string path = str_arg(c.args, "path");
    if (path.empty() || path.front() != '/') return done(fail("free-space: path must be an absolute path"));
    struct Space {
        int err = 0;
        int64_t free = 0, total = 0;
    };
    auto work = [path] {
        struct statvfs v {};
        Space s;
        if (statvfs(path.c_str(), &v) != 0) s.err = errno;
        else {
            s.free = int64_t(v.f_bavail) * int64_t(v.f_frsize);
            s.total = int64_t(v.f_blocks) * int64_t(v.f_frsize);
        }
        return s;
    };
    auto finish = [path, done](Result<Space> r) {
        if (!r.ok()) return done(fail("free-space: " + r.error().message));
        if (r->err) return done(fail("free-space: " + path + ": " + std::strerror(r->err)));
        Outcome o;
        o.arguments = "\"path\":";
        append_json_string(o.arguments, path);
        o.arguments += ",\"size-bytes\":" + std::to_string(r->free) + ",\"total_size\":" + std::to_string(r->total);
        done(std::move(o));
    };
    if (Status q = queue_job(loop_, jobs_.token(), std::move(work), finish); !q.ok()) finish(q.error());
}

void Dispatcher::session_get(const Call& c, Done done) {
    SessionFacts f = b_.facts();
    std::vector<std::string> only;
    if (auto it = c.args.find("fields"); it != c.args.end() && it->is_array())
        for (const auto& n : *it)
            if (n.is_string()) only.push_back(n.get<std::string>());
    Outcome o;
    std::string& out = o.arguments;
    auto put = [&](const char* name, const std::string& json_value) {
        if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) return;
        member(out, name);
        out += json_value;
    };
    auto s = [](const std::string& v) { return json_string(v); };
    auto b = [](bool v) { return std::string(v ? "true" : "false"); };
    auto n = [](int64_t v) { return std::to_string(v); };
    put("rpc-version", n(17));
    put("rpc-version-minimum", n(14));
    put("rpc-version-semver", s("5.3.0"));
    put("version", s(opt_.version));
    put("session-id", s(opt_.session_id));
    put("download-dir", s(f.download_dir));
    put("config-dir", s(f.config_dir));
    put("peer-port", n(f.peer_port));
    put("peer-port-random-on-start", b(false));
    put("peer-limit-global", n(f.peer_limit_global));
    put("peer-limit-per-torrent", n(f.peer_limit_per_torrent));
    put("speed-limit-down", n(f.down_limit > 0 ? f.down_limit / 1000 : down_kbps_));
    put("speed-limit-down-enabled", b(f.down_limit > 0));
    put("speed-limit-up", n(f.up_limit > 0 ? f.up_limit / 1000 : up_kbps_));
    put("speed-limit-up-enabled", b(f.up_limit > 0));
    for (const char* off : {"alt-speed-enabled", "alt-speed-time-enabled", "blocklist-enabled",
                            "rename-partial-files", "script-torrent-done-enabled", "trash-original-torrent-files"})
        put(off, b(false));
    put("dht-enabled", b(f.dht));
    put("pex-enabled", b(f.pex));
    put("utp-enabled", b(f.utp));
    put("lpd-enabled", b(f.lpd));
    put("port-forwarding-enabled", b(f.port_forwarding));
    put("encryption", s(f.encryption));
    put("incomplete-dir-enabled", b(!f.incomplete_dir.empty()));
    put("incomplete-dir", s(f.incomplete_dir));
    put("seedRatioLimited", b(f.seed_ratio > 0));
    {
        std::string ratio;
        append_number(ratio, f.seed_ratio > 0 ? f.seed_ratio : 2.0);  // a real, as clients read it
        put("seedRatioLimit", ratio);
    }
    put("idle-seeding-limit-enabled", b(f.seed_idle_minutes > 0));
    put("idle-seeding-limit", n(f.seed_idle_minutes > 0 ? f.seed_idle_minutes : 30));
    put("download-queue-enabled", b(f.download_queue_size > 0));
    put("download-queue-size", n(f.download_queue_size > 0 ? f.download_queue_size : 5));
    put("seed-queue-enabled", b(f.seed_queue_size > 0));
    put("seed-queue-size", n(f.seed_queue_size > 0 ? f.seed_queue_size : 10));
    put("queue-stalled-enabled", b(f.queue_stalled_minutes > 0));
    put("queue-stalled-minutes", n(f.queue_stalled_minutes));
    put("alt-speed-down", n(0));
    put("alt-speed-up", n(0));
    put("alt-speed-time-begin", n(540));
    put("alt-speed-time-end", n(1020));
    put("alt-speed-time-day", n(127));
    put("start-added-torrents", b(true));
    put("cache-size-mb", n(0));
    put("units", "{\"speed-units\":[\"kB/s\",\"MB/s\",\"GB/s\",\"TB/s\"],\"speed-bytes\":1000,"
                 "\"size-units\":[\"kB\",\"MB\",\"GB\",\"TB\"],\"size-bytes\":1000,"
                 "\"memory-units\":[\"KiB\",\"MiB\",\"GiB\",\"TiB\"],\"memory-bytes\":1024}");
    done(std::move(o));
}

void Dispatcher::session_set(const Call& c, Done done) {
    SessionFacts f = b_.facts();
    bool down_on = f.down_limit > 0, up_on = f.up_limit > 0;
    std::string unsupported;
    for (const auto& [key, v] : c.args.items()) {
        if (key == "speed-limit-down") down_kbps_ = std::clamp<int64_t>(v.get<int64_t>(), 0, 10'000'000);
        else if (key == "speed-limit-up") up_kbps_ = std::clamp<int64_t>(v.get<int64_t>(), 0, 10'000'000);
        else if (key == "speed-limit-down-enabled") down_on = v.get<bool>();
        else if (key == "speed-limit-up-enabled") up_on = v.get<bool>();
        else unsupported += (unsupported.empty() ? "" : ", ") + key;
    }
    // Our engine has one number per direction, 0 = unlimited: a limit of 0
    // kB/s, which Transmission would take as "stop", is unlimited here.
    int64_t down = down_on ? down_kbps_ * 1000 : 0, up = up_on ? up_kbps_ * 1000 : 0;
    if (down != f.down_limit || up != f.up_limit) b_.set_rate_limits(up, down);
    if (!unsupported.empty()) return done(fail("session-set: cannot be changed by this engine: " + unsupported));
    done(Outcome{});
}

void Dispatcher::session_stats(const Call&, Done done) {
    sync();
    // The backend's running counts when it keeps them: an idle view asks
    // every interval, and counting 10,000 torrents each time was the poll's cost.
    RpcBackend::Counts c;
    if (!b_.counts(c)) {
        const auto& all = b_.torrents();
        c.torrents = int64_t(all.size());
        for (const TorrentStatus* t : all) {
            bool p = t->state == TorrentState::stopped;
            c.paused += p;
            c.active += !p && (t->down_rate > 0 || t->up_rate > 0 || t->state == TorrentState::checking);
            c.up_total += t->total_uploaded;
            c.down_total += t->total_downloaded;
        }
    }
    const int64_t active = c.active, paused = c.paused, up_total = c.up_total, down_total = c.down_total;
    SessionStatus s = b_.session_status();
    int64_t secs = (int64_t(uv_now(loop_)) - started_ms_) / 1000;
    Outcome o;
    std::string& out = o.arguments;
    member(out, "activeTorrentCount");
    out += std::to_string(active);
    member(out, "pausedTorrentCount");
    out += std::to_string(paused);
    member(out, "torrentCount");
    out += std::to_string(c.torrents);
    member(out, "downloadSpeed");
    out += std::to_string(int64_t(s.down_rate));
    member(out, "uploadSpeed");
    out += std::to_string(int64_t(s.up_rate));
    // Totals over the torrents here now (earlier sessions included); the
    // engine keeps no record of torrents removed or of past sessions.
    add_stats(out, "cumulative-stats", up_total, down_total, c.torrents, 1, secs);
    add_stats(out, "current-stats", s.uploaded, s.downloaded, 0, 1, secs);
    done(std::move(o));
}

}  // namespace btl::rpc
