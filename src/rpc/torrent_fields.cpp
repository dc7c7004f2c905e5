#include "btl/rpc/torrent_fields.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "btl/base/json.hpp"

namespace btl::rpc {

namespace {

// Our one label as Transmission's list of labels.
void write_labels(std::string& out, const std::string& label) {
    out += '[';
    if (!label.empty()) append_json_string(out, label);
    out += ']';
}


void num(std::string& out, int64_t v) { out += std::to_string(v); }
void boolean(std::string& out, bool v) { out += v ? "true" : "false"; }

double ratio(const TorrentStatus& t) {
    int64_t base = std::max(t.total_downloaded, t.have_bytes);
    if (base <= 0) return t.total_uploaded > 0 ? -2 : -1;  // TR_RATIO_INF, TR_RATIO_NA
    return double(t.total_uploaded) / double(base);
}

int64_t eta(const TorrentStatus& t, bool paused) {
    if (paused) return -1;
    if (t.state != TorrentState::downloading && t.state != TorrentState::stalled) return -1;
    return t.eta_s >= 0 ? t.eta_s : -2;
}

void percent_encode(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += char(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
}

std::string host_of(const std::string& url) {
    size_t s = url.find("://");
    size_t b = s == std::string::npos ? 0 : s + 3;
    size_t e = url.find_first_of("/?", b);
    return url.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

int peers_where(const FieldCtx& c, bool sending_to_us) {
    if (!c.detail) return 0;
    int n = 0;
    for (const auto& p : c.detail->peer_list) n += (sending_to_us ? p.down_rate : p.up_rate) > 0;
    return n;
}

int64_t bytes_completed(const FileStatus& f) {
    if (f.bytes_completed > 0) return f.bytes_completed;
    return int64_t(std::llround(double(f.length) * std::clamp(f.progress, 0.0, 1.0)));
}

void write_files(std::string& out, const FieldCtx& c) {
    out += '[';
    if (c.detail)
        for (size_t i = 0; i < c.detail->files.size(); ++i) {
            const auto& f = c.detail->files[i];
            if (i) out += ',';
            out += "{\"bytesCompleted\":";
            num(out, bytes_completed(f));
            out += ",\"length\":";
            num(out, f.length);
            out += ",\"name\":";
            append_json_string(out, f.path);
            out += '}';
        }
    out += ']';
}

void write_file_stats(std::string& out, const FieldCtx& c) {
    out += '[';
    if (c.detail)
        for (size_t i = 0; i < c.detail->files.size(); ++i) {
            const auto& f = c.detail->files[i];
            if (i) out += ',';
            out += "{\"bytesCompleted\":";
            num(out, bytes_completed(f));
            out += f.wanted ? ",\"wanted\":true,\"priority\":" : ",\"wanted\":false,\"priority\":";
            num(out, int64_t(f.priority));
            out += '}';
        }
    out += ']';
}

// "wanted" (1/0) or "priorities" (-1/0/1), one per file.
void write_per_file(std::string& out, const FieldCtx& c, bool wanted) {
    out += '[';
    size_t n = c.detail ? c.detail->files.size() : 0;
    for (size_t i = 0; i < n; ++i) {
        if (i) out += ',';
        const FileStatus& f = c.detail->files[i];
        num(out, wanted ? int64_t(f.wanted ? 1 : 0) : int64_t(f.priority));
    }
    out += ']';
}

void write_peers(std::string& out, const FieldCtx& c) {
    out += '[';
    if (c.detail)
        for (size_t i = 0; i < c.detail->peer_list.size(); ++i) {
            const auto& p = c.detail->peer_list[i];
            if (i) out += ',';
            size_t colon = p.address.rfind(':');
            std::string addr = p.address.substr(0, colon);
            if (addr.size() > 1 && addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
            int64_t port = colon == std::string::npos ? 0 : std::atoll(p.address.c_str() + colon + 1);
            out += "{\"address\":";
            append_json_string(out, addr);
            out += ",\"port\":";
            num(out, port);
            out += ",\"clientName\":";
            append_json_string(out, p.client);
            out += ",\"flagStr\":";
            append_json_string(out, p.flags);
            out += ",\"isIncoming\":";
            boolean(out, p.incoming);
            out += ",\"progress\":";
            append_number(out, p.progress);
            out += ",\"rateToClient\":";
            num(out, int64_t(p.down_rate));
            out += ",\"rateToPeer\":";
            num(out, int64_t(p.up_rate));
            out += ",\"isEncrypted\":false,\"isUTP\":false}";
        }
    out += ']';
}

void write_trackers(std::string& out, const FieldCtx& c, bool stats) {
    out += '[';
    const auto& ts = c.detail ? c.detail->trackers : c.st.trackers;
    for (size_t i = 0; i < ts.size(); ++i) {
        const auto& t = ts[i];
        if (i) out += ',';
        out += "{\"id\":";
        num(out, int64_t(i));
        out += ",\"tier\":";
        num(out, int64_t(i));
        out += ",\"announce\":";
        append_json_string(out, t.url);
        if (stats) {
            out += ",\"host\":";
            append_json_string(out, host_of(t.url));
            out += ",\"lastAnnounceResult\":";
            append_json_string(out, t.status);
            out += ",\"lastAnnounceSucceeded\":";
            boolean(out, t.status == "ok");
            out += ",\"hasAnnounced\":";
            boolean(out, t.interval_s >= 0 || t.fails > 0);
            out += ",\"seederCount\":";
            num(out, t.seeds);
            out += ",\"leecherCount\":";
            num(out, t.leechers);
            out += ",\"nextAnnounceTime\":";
            num(out, t.next_announce_at > 0 ? t.next_announce_at : 0);
            out += ",\"announceState\":";
            num(out, t.status == "announcing" ? 3 : 1);  // TR_TRACKER_ACTIVE : TR_TRACKER_WAITING
        } else {
            out += ",\"scrape\":\"\"";
        }
        out += '}';
    }
    out += ']';
}

void write_magnet(std::string& out, const FieldCtx& c) {
    std::string m = "magnet:?xt=urn:btih:" + to_hex(c.st.info_hash) + "&dn=";
    percent_encode(m, c.st.name);
    for (const auto& t : c.st.trackers) {
        m += "&tr=";
        percent_encode(m, t.url);
    }
    append_json_string(out, m);
}

#define BTL_F(NAME, DETAIL, BODY) \
    Field { NAME, [](std::string& out, [[maybe_unused]] const FieldCtx& c) { BODY; }, DETAIL }

const std::vector<Field>& all_fields() {
    static const std::vector<Field> kFields = {
        BTL_F("id", Detail::no, num(out, c.id)),
        BTL_F("hashString", Detail::no, append_json_string(out, to_hex(c.st.info_hash))),
        BTL_F("name", Detail::no, append_json_string(out, c.st.name)),
        BTL_F("status", Detail::no, num(out, transmission_status(c.st, c.paused))),
        BTL_F("error", Detail::no, num(out, c.st.error.empty() ? 0 : 3)),
        BTL_F("errorString", Detail::no, append_json_string(out, c.st.error)),
        BTL_F("eta", Detail::no, num(out, eta(c.st, c.paused))),
        BTL_F("etaIdle", Detail::no, num(out, -1)),
        BTL_F("percentDone", Detail::no, append_number(out, std::clamp(c.st.progress, 0.0, 1.0))),
        BTL_F("percentComplete", Detail::no, append_number(out, std::clamp(c.st.progress, 0.0, 1.0))),
        BTL_F("metadataPercentComplete", Detail::no, num(out, 1)),
        BTL_F("recheckProgress", Detail::no,
              append_number(out, c.st.state == TorrentState::checking ? c.st.check_progress : 0.0)),
        BTL_F("isFinished", Detail::no, boolean(out, c.st.state == TorrentState::finished)),
        BTL_F("isStalled", Detail::no, boolean(out, c.st.state == TorrentState::stalled)),
        // Not Transmission's: the data on disk changed and a re-check repairs
        // it (the attached view says "press r to re-check").
        BTL_F("btlNeedsRecheck", Detail::no, boolean(out, c.st.needs_recheck)),
        BTL_F("isPrivate", Detail::no, boolean(out, false)),
        BTL_F("leftUntilDone", Detail::no, num(out, std::max<int64_t>(0, c.st.wanted_bytes - c.st.have_wanted_bytes))),
        BTL_F("sizeWhenDone", Detail::no, num(out, c.st.wanted_bytes)),
        BTL_F("totalSize", Detail::no, num(out, c.st.total_size)),
        BTL_F("haveValid", Detail::no, num(out, c.st.have_bytes)),
        BTL_F("haveUnchecked", Detail::no, num(out, 0)),
        BTL_F("desiredAvailable", Detail::no, num(out, 0)),
        BTL_F("corruptEver", Detail::no, num(out, 0)),
        BTL_F("rateDownload", Detail::no, num(out, int64_t(c.st.down_rate))),
        BTL_F("rateUpload", Detail::no, num(out, int64_t(c.st.up_rate))),
        BTL_F("downloadedEver", Detail::no, num(out, c.st.total_downloaded)),
        BTL_F("uploadedEver", Detail::no, num(out, c.st.total_uploaded)),
        BTL_F("uploadRatio", Detail::no, append_number(out, ratio(c.st))),
        BTL_F("peersConnected", Detail::no, num(out, c.st.peers)),
        BTL_F("peersGettingFromUs", Detail::with_peers, num(out, peers_where(c, false))),
        BTL_F("peersSendingToUs", Detail::with_peers, num(out, peers_where(c, true))),
        BTL_F("webseedsSendingToUs", Detail::no, num(out, 0)),
        BTL_F("peer-limit", Detail::no, num(out, c.peer_limit)),
        BTL_F("downloadDir", Detail::no, append_json_string(out, download_dir_of(c.st.save_path))),
        BTL_F("addedDate", Detail::no, num(out, c.st.added_time)),
        BTL_F("activityDate", Detail::no, num(out, c.st.down_rate > 0 || c.st.up_rate > 0 ? c.now : c.st.added_time)),
        BTL_F("doneDate", Detail::no, num(out, c.st.completed_time)),
        BTL_F("queuePosition", Detail::no, num(out, c.st.queue_position >= 0 ? c.st.queue_position : c.id - 1)),
        BTL_F("pieceCount", Detail::no, num(out, c.st.num_pieces)),
        // Queue, seeding goals, per-torrent limits (limits in kB/s, as Transmission).
        BTL_F("bandwidthPriority", Detail::no, num(out, c.st.limits.priority)),
        BTL_F("honorsSessionLimits", Detail::no, boolean(out, true)),
        BTL_F("downloadLimited", Detail::no, boolean(out, c.st.limits.down_limited)),
        BTL_F("uploadLimited", Detail::no, boolean(out, c.st.limits.up_limited)),
        BTL_F("downloadLimit", Detail::no, num(out, c.st.limits.down_limit / 1000)),
        BTL_F("uploadLimit", Detail::no, num(out, c.st.limits.up_limit / 1000)),
        BTL_F("seedRatioMode", Detail::no, num(out, c.st.limits.seed_ratio_mode)),
        BTL_F("seedRatioLimit", Detail::no, append_number(out, c.st.limits.seed_ratio)),
        BTL_F("seedIdleMode", Detail::no, num(out, c.st.limits.seed_idle_mode)),
        BTL_F("seedIdleLimit", Detail::no, num(out, c.st.limits.seed_idle_minutes)),
        BTL_F("sequentialDownload", Detail::no, boolean(out, c.st.sequential)),
        BTL_F("labels", Detail::no, write_labels(out, c.st.label)),
        BTL_F("magnetLink", Detail::no, write_magnet(out, c)),
        BTL_F("files", Detail::yes, write_files(out, c)),
        BTL_F("fileStats", Detail::yes, write_file_stats(out, c)),
        BTL_F("fileCount", Detail::yes, num(out, c.detail ? int64_t(c.detail->files.size()) : 0)),
        BTL_F("wanted", Detail::yes, write_per_file(out, c, true)),
        BTL_F("priorities", Detail::yes, write_per_file(out, c, false)),
        BTL_F("peers", Detail::yes, write_peers(out, c)),
        BTL_F("trackers", Detail::no, write_trackers(out, c, false)),
        BTL_F("trackerStats", Detail::no, write_trackers(out, c, true)),
        BTL_F("webseeds", Detail::no, out += "[]"),
    };
    return kFields;
}

#undef BTL_F

}  // namespace

bool needs_detail(const std::vector<const Field*>& fields, const TorrentStatus& st) {
    for (const Field* f : fields)
        if (f->detail == Detail::yes || (f->detail == Detail::with_peers && st.peers > 0)) return true;
    return false;
}

int transmission_status(const TorrentStatus& st, bool paused) {
    if (paused) return 0;  // TR_STATUS_STOPPED
    switch (st.state) {
        case TorrentState::checking: return 2;     // TR_STATUS_CHECK
        case TorrentState::fetching:               // a magnet's metadata: Transmission says downloading
        case TorrentState::downloading:
        case TorrentState::stalled: return 4;      // TR_STATUS_DOWNLOAD
        case TorrentState::seeding: return 6;      // TR_STATUS_SEED
        case TorrentState::queued: return st.progress >= 1 ? 5 : 3;  // TR_STATUS_SEED_WAIT : DOWNLOAD_WAIT
        case TorrentState::finished:                 // a seeding goal was reached (isFinished)
        case TorrentState::stopped:
        case TorrentState::error: return 0;
    }
    return 0;
}

void append_number(std::string& out, double v) {
    if (!std::isfinite(v)) v = 0;
    char buf[32];
    int n = std::snprintf(buf, sizeof buf, "%.10g", v);
    out.append(buf, size_t(n));
}

std::string download_dir_of(const std::string& save_path) {
    size_t slash = save_path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : save_path.substr(0, slash);
}

std::vector<const Field*> resolve_fields(const std::vector<std::string>& names) {
    static const std::unordered_map<std::string_view, const Field*> by_name = [] {
        std::unordered_map<std::string_view, const Field*> m;
        for (const auto& f : all_fields()) m.emplace(f.name, &f);
        return m;
    }();
    std::vector<const Field*> out;
    for (const auto& n : names) {
        auto it = by_name.find(n);
        if (it != by_name.end() && std::find(out.begin(), out.end(), it->second) == out.end())
            out.push_back(it->second);
    }
    return out;
}

}  // namespace btl::rpc
