#include "btl/rpc/rpc_client_codec.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace btl::rpc {

using json = nlohmann::json;

namespace {

const char* const kRowFields[] = {
    "id", "hashString", "name", "status", "error", "errorString", "percentDone", "recheckProgress",
    "totalSize", "haveValid", "rateDownload", "rateUpload", "downloadedEver", "uploadedEver",
    "peersConnected", "peersSendingToUs", "eta", "addedDate", "downloadDir", "isStalled", "pieceCount",
    "pieceSize", "btlNeedsRecheck", "labels", "isFinished", "queuePosition", "downloadLimit", "downloadLimited",
    "uploadLimit", "uploadLimited",
    "sequentialDownload", "sizeWhenDone", "leftUntilDone"};
const char* const kDetailFields[] = {"files", "fileStats", "peers", "trackerStats"};

// Nesting deeper than kMaxDepth, counted outside strings: refused before
// the recursive parser sees it.
bool too_deep(std::string_view s) {
    int depth = 0;
    bool in_str = false, esc = false;
    for (char c : s) {
        if (in_str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') in_str = true;
        else if (c == '[' || c == '{') {
            if (++depth > kMaxDepth) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

// Typed look-ups: a missing key or a value of the wrong type is `def`.
const json* member(const json& o, const char* k) {
    if (!o.is_object()) return nullptr;
    auto it = o.find(k);
    return it == o.end() ? nullptr : &*it;
}
double num(const json& o, const char* k, double def = 0) {
    const json* v = member(o, k);
    if (!v || !v->is_number()) return def;
    double d = v->get<double>();
    return std::isfinite(d) ? d : def;
}
// Integers clamped into int64 (a double past 2^63 would be undefined).
int64_t inum(const json& o, const char* k, int64_t def = 0) {
    double d = num(o, k, double(def));
    if (d >= 9.2e18) return int64_t(9'200'000'000'000'000'000LL);
    if (d <= -9.2e18) return -int64_t(9'200'000'000'000'000'000LL);
    return int64_t(d);
}
std::string text(const json& o, const char* k) {
    const json* v = member(o, k);
    if (!v || !v->is_string()) return {};
    const auto& s = v->get_ref<const std::string&>();
    return s.size() > kMaxText ? s.substr(0, kMaxText) : s;
}
bool flag(const json& o, const char* k) {
    const json* v = member(o, k);
    return v && ((v->is_boolean() && v->get<bool>()) || (v->is_number() && v->get<double>() != 0));
}
const json& array_of(const json& o, const char* k) {
    static const json empty = json::array();
    const json* v = member(o, k);
    return v && v->is_array() ? *v : empty;
}

Result<json> parse_answer(std::string_view body) {
    if (too_deep(body)) return make_error("RPC answer nested deeper than " + std::to_string(kMaxDepth));
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error("RPC answer is not a JSON object");
    std::string result = text(j, "result");
    if (result != "success")
        return make_error(result.empty() ? std::string("RPC answer without a result") : "engine says: " + result);
    auto args = j.find("arguments");
    if (args == j.end() || !args->is_object()) return json::object();
    return std::move(*args);  // not a copy: 10,000 rows are parsed once, not twice
}

std::string request_text(const char* method, json args) {
    json r = {{"method", method}};
    if (!args.is_null()) r["arguments"] = std::move(args);
    // Bytes that are not UTF-8 (a path) become U+FFFD rather than throw.
    return r.dump(-1, ' ', false, json::error_handler_t::replace);
}

void read_detail(const json& t, TorrentStatus& st) {
    const json& files = array_of(t, "files");
    const json& stats = array_of(t, "fileStats");
    for (size_t i = 0; i < files.size() && i < kMaxItems; ++i) {
        FileStatus f;
        f.path = text(files[i], "name");
        f.length = std::max<int64_t>(0, inum(files[i], "length"));
        int64_t done = inum(i < stats.size() ? stats[i] : files[i], "bytesCompleted");
        f.progress = f.length > 0 ? std::clamp(double(done) / double(f.length), 0.0, 1.0) : 1.0;
        f.bytes_completed = std::clamp<int64_t>(done, 0, f.length);
        if (i < stats.size() && stats[i].is_object()) {
            auto w = stats[i].find("wanted");
            if (w != stats[i].end()) f.wanted = w->is_boolean() ? w->get<bool>() : inum(stats[i], "wanted") != 0;
            f.priority = int(std::clamp<int64_t>(inum(stats[i], "priority"), -1, 1));
        }
        st.files.push_back(std::move(f));
    }
    for (const json& p : array_of(t, "peers")) {
        if (st.peer_list.size() >= kMaxItems) break;
        PeerStatus ps;
        const std::string ip = text(p, "address");  // "[v6]:port" as the engine writes it
        ps.address = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(inum(p, "port"));
        ps.client = text(p, "clientName");
        ps.down_rate = num(p, "rateToClient");
        ps.up_rate = num(p, "rateToPeer");
        ps.progress = std::clamp(num(p, "progress"), 0.0, 1.0);
        ps.flags = text(p, "flagStr");
        ps.incoming = flag(p, "isIncoming");
        st.peer_list.push_back(std::move(ps));
    }
    const auto now = int64_t(std::time(nullptr));
    for (const json& tr : array_of(t, "trackerStats")) {
        if (st.trackers.size() >= kMaxItems) break;
        TrackerStatus ts;
        ts.url = text(tr, "announce");
        std::string last = text(tr, "lastAnnounceResult");
        // Transmission's result is bare ("Could not connect to tracker"); an
        // engine that already says "error: ..." keeps its own words.
        if (!flag(tr, "hasAnnounced") || flag(tr, "lastAnnounceSucceeded")) ts.status = "ok";
        else ts.status = last.rfind("error", 0) == 0 || last.rfind("warning", 0) == 0 ? last : "error: " + last;
        ts.seeds = inum(tr, "seederCount", -1);
        ts.leechers = inum(tr, "leecherCount", -1);
        int64_t next = inum(tr, "nextAnnounceTime", 0);
        ts.next_announce_at = next > 0 ? next : -1;
        ts.next_announce_s = next > now ? next - now : -1;
        st.trackers.push_back(std::move(ts));
    }
}

TorrentStatus read_torrent(const json& t) {
    TorrentStatus st;
    if (!from_hex(text(t, "hashString"), st.info_hash)) st.info_hash = Sha1Digest{};
    st.name = text(t, "name");
    std::string dir = text(t, "downloadDir");
    st.save_path = dir.empty() ? st.name : dir + "/" + st.name;
    st.state = state_from_status(inum(t, "status"), flag(t, "isStalled"));
    if (st.state == TorrentState::stopped && flag(t, "isFinished")) st.state = TorrentState::finished;
    st.queue_position = inum(t, "queuePosition", -1);
    st.limits.down_limit = std::max<int64_t>(0, inum(t, "downloadLimit")) * 1000;
    st.limits.up_limit = std::max<int64_t>(0, inum(t, "uploadLimit")) * 1000;
    st.limits.down_limited = flag(t, "downloadLimited");
    st.limits.up_limited = flag(t, "uploadLimited");
    st.progress = std::clamp(num(t, "percentDone"), 0.0, 1.0);
    st.check_progress = std::clamp(num(t, "recheckProgress"), 0.0, 1.0);
    st.total_size = std::max<int64_t>(0, inum(t, "totalSize"));
    st.have_bytes = std::max<int64_t>(0, inum(t, "haveValid"));
    st.down_rate = std::max(0.0, num(t, "rateDownload"));
    st.up_rate = std::max(0.0, num(t, "rateUpload"));
    st.downloaded = st.total_downloaded = std::max<int64_t>(0, inum(t, "downloadedEver"));
    st.uploaded = st.total_uploaded = std::max<int64_t>(0, inum(t, "uploadedEver"));
    st.peers = int(std::clamp<int64_t>(inum(t, "peersConnected"), 0, 1 << 30));
    st.seeds = int(std::clamp<int64_t>(inum(t, "peersSendingToUs"), 0, 1 << 30));
    int64_t eta = inum(t, "eta", -1);
    st.eta_s = eta >= 0 ? eta : -1;
    st.added_time = inum(t, "addedDate");
    // Our one label: the first of Transmission's list (bounded like every text).
    if (auto l = t.find("labels"); l != t.end() && l->is_array() && !l->empty() && (*l)[0].is_string())
        st.label = (*l)[0].get<std::string>().substr(0, 64);
    int64_t pieces = std::clamp<int64_t>(inum(t, "pieceCount"), 0, UINT32_MAX);
    int64_t piece_size = inum(t, "pieceSize");
    st.num_pieces = uint32_t(pieces);
    // From the verified bytes when the engine says both, else from the share.
    st.pieces_have = piece_size > 0 && st.have_bytes > 0
                         ? uint32_t(std::min(pieces, st.have_bytes / piece_size))
                         : uint32_t(std::llround(st.progress * double(pieces)));
    st.sequential = flag(t, "sequentialDownload");
    st.wanted_bytes = t.contains("sizeWhenDone") ? std::max<int64_t>(0, inum(t, "sizeWhenDone")) : st.total_size;
    st.have_wanted_bytes = std::clamp<int64_t>(st.wanted_bytes - inum(t, "leftUntilDone"), 0, st.wanted_bytes);
    int64_t err = inum(t, "error");
    std::string why = text(t, "errorString");
    if (err == 3) {
        st.state = TorrentState::error;
        st.error = why.empty() ? "error" : why;
        st.needs_recheck = flag(t, "btlNeedsRecheck");  // our engine's own field; Transmission has none
    } else if (err == 1 || err == 2) {
        st.tracker_message = (err == 1 ? "warning: " : "error: ") + why;
    }
    read_detail(t, st);
    return st;
}

}  // namespace

TorrentState state_from_status(int64_t status, bool stalled) {
    switch (status) {
        case 0: return TorrentState::stopped;
        case 1: case 2: return TorrentState::checking;
        case 3: case 5: return TorrentState::queued;  // download-wait, seed-wait
        case 6: return TorrentState::seeding;
        default: return stalled ? TorrentState::stalled : TorrentState::downloading;
    }
}

std::string torrent_get_request(Which which, int64_t id, bool detail) {
    json fields = json::array();
    for (const char* f : kRowFields) fields.push_back(f);
    if (detail)
        for (const char* f : kDetailFields) fields.push_back(f);
    json args = {{"fields", std::move(fields)}};
    if (which == Which::recently_active) args["ids"] = "recently-active";
    else if (which == Which::one) args["ids"] = json::array({id});
    return request_text("torrent-get", std::move(args));
}

std::string torrent_action_request(const char* method, int64_t id, bool delete_local_data) {
    json args = {{"ids", json::array({id})}};
    if (std::string_view(method) == "torrent-remove") args["delete-local-data"] = delete_local_data;
    return request_text(method, std::move(args));
}

std::string torrent_limits_request(int64_t id, int64_t down_bytes_s, int64_t up_bytes_s) {
    auto kb = [](int64_t b) { return std::max<int64_t>(1, (b + 999) / 1000); };
    json args = {{"ids", json::array({id})}, {"downloadLimited", down_bytes_s > 0}, {"uploadLimited", up_bytes_s > 0}};
    if (down_bytes_s > 0) args["downloadLimit"] = kb(down_bytes_s);
    if (up_bytes_s > 0) args["uploadLimit"] = kb(up_bytes_s);
    return request_text("torrent-set", std::move(args));
}

std::string torrent_files_request(int64_t id, const FileChange& c) {
    json args = {{"ids", json::array({id})}};
    using K = FileChange::Kind;
    const char* key = c.kind == K::wanted     ? "files-wanted"
                      : c.kind == K::unwanted ? "files-unwanted"
                      : c.priority == FilePriority::high ? "priority-high"
                      : c.priority == FilePriority::low  ? "priority-low"
                                                         : "priority-normal";
    if (c.kind == K::sequential)
        args["sequentialDownload"] = c.on;
    else
        args[key] = c.files;
    return request_text("torrent-set", std::move(args));
}

std::string session_limits_request(int64_t down_bytes_s, int64_t up_bytes_s) {
    // Transmission's limits are whole kB/s with an on/off switch each.
    auto kb = [](int64_t b) { return std::max<int64_t>(1, (b + 999) / 1000); };
    json args = {{"speed-limit-down-enabled", down_bytes_s > 0}, {"speed-limit-up-enabled", up_bytes_s > 0}};
    if (down_bytes_s > 0) args["speed-limit-down"] = kb(down_bytes_s);
    if (up_bytes_s > 0) args["speed-limit-up"] = kb(up_bytes_s);
    return request_text("session-set", std::move(args));
}

std::string plain_request(const char* method) { return request_text(method, nullptr); }

std::string free_space_request(const std::string& path) {
    return request_text("free-space", json{{"path", path}});
}

Result<TorrentList> parse_torrent_get(std::string_view body) {
    auto args = parse_answer(body);
    if (!args.ok()) return args.error();
    TorrentList out;
    for (const json& t : array_of(*args, "torrents")) {
        if (out.torrents.size() >= kMaxItems) break;
        if (!t.is_object()) continue;  // "format": "table" is not asked for
        const json* id = member(t, "id");
        if (!id || !id->is_number_integer()) continue;  // a row nobody could address
        out.torrents.push_back({id->get<int64_t>(), read_torrent(t)});
    }
    for (const json& id : array_of(*args, "removed")) {
        if (out.removed.size() >= kMaxItems) break;
        if (id.is_number_integer()) out.removed.push_back(id.get<int64_t>());
    }
    return out;
}

Result<RemoteSession> parse_session_get(std::string_view body) {
    auto args = parse_answer(body);
    if (!args.ok()) return args.error();
    const json& a = *args;
    RemoteSession s;
    int64_t unit = 1000;
    if (const json* u = member(a, "units")) unit = std::clamp<int64_t>(inum(*u, "speed-bytes", 1000), 1, 1 << 20);
    auto limit = [&](const char* on, const char* value) {
        return flag(a, on) ? std::clamp<int64_t>(inum(a, value), 0, int64_t(1) << 40) * unit : 0;
    };
    s.down_limit = limit("speed-limit-down-enabled", "speed-limit-down");
    s.up_limit = limit("speed-limit-up-enabled", "speed-limit-up");
    s.peer_port = uint16_t(std::clamp<int64_t>(inum(a, "peer-port"), 0, 65535));
    s.download_dir = text(a, "download-dir");
    s.version = text(a, "version");
    s.free_space = inum(a, "download-dir-free-space", -1);
    s.rpc_version = int(std::clamp<int64_t>(inum(a, "rpc-version"), 0, 1 << 20));
    return s;
}

Result<RemoteStats> parse_session_stats(std::string_view body) {
    auto args = parse_answer(body);
    if (!args.ok()) return args.error();
    RemoteStats s;
    s.down_rate = std::max(0.0, num(*args, "downloadSpeed"));
    s.up_rate = std::max(0.0, num(*args, "uploadSpeed"));
    s.torrents = std::max<int64_t>(0, inum(*args, "torrentCount"));
    return s;
}

Result<int64_t> parse_free_space(std::string_view body) {
    auto args = parse_answer(body);
    if (!args.ok()) return args.error();
    int64_t n = inum(*args, "size-bytes", -1);
    if (n < 0) return make_error("free-space answer without size-bytes");
    return n;
}

Status parse_result(std::string_view body) {
    auto args = parse_answer(body);
    if (!args.ok()) return args.error();
    return Ok{};
}

}  // namespace btl::rpc
