#include "btl/format.hpp"

#include "btl/json.hpp"

#include <cstdio>

namespace btl {

std::string format_size(int64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

std::string format_rate(double r) {
    char buf[32];
    if (r < 1000)
        std::snprintf(buf, sizeof buf, "%.0f B/s", r);
    else if (r < 1e6)
        std::snprintf(buf, sizeof buf, "%.1f kB/s", r / 1e3);
    else if (r < 1e9)
        std::snprintf(buf, sizeof buf, "%.1f MB/s", r / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2f GB/s", r / 1e9);
    return buf;
}

std::string format_eta(int64_t s) {
    if (s < 0) return "-";
    if (s >= 100 * 3600) return ">4d";
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    return buf;
}

std::string json_escape(const std::string& s) { return json_string(s); }

static std::string num(double v) {
    char b[48];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

std::string trackers_json(const std::vector<TrackerStatus>& trackers) {
    std::string o = "[";
    for (const auto& tr : trackers) {
        if (o.size() > 1) o += ",";
        o += "{\"url\":" + json_escape(tr.url) + ",\"status\":" + json_escape(tr.status) +
             ",\"seeds\":" + std::to_string(tr.seeds) + ",\"leechers\":" + std::to_string(tr.leechers) +
             ",\"fails\":" + std::to_string(tr.fails) + ",\"interval\":" + std::to_string(tr.interval_s) +
             ",\"next_announce_at\":" + std::to_string(tr.next_announce_at) + "}";
    }
    return o + "]";
}

std::string status_json(const std::vector<TorrentStatus>& ts, const SessionStatus& s) {
    std::string o = "{\"torrents\":[";
    bool first = true;
    for (const auto& t : ts) {
        if (!first) o += ",";
        first = false;
        o += "{\"info_hash\":\"" + to_hex(t.info_hash) + "\",\"name\":" + json_escape(t.name) +
             ",\"state\":\"" + state_name(t.state) + "\",\"progress\":" + num(t.progress) +
             ",\"check_progress\":" + num(t.check_progress) + ",\"total_size\":" + std::to_string(t.total_size) +
             ",\"have_bytes\":" + std::to_string(t.have_bytes) + ",\"down_rate\":" + num(t.down_rate) +
             ",\"up_rate\":" + num(t.up_rate) + ",\"downloaded\":" + std::to_string(t.downloaded) +
             ",\"uploaded\":" + std::to_string(t.uploaded) + ",\"total_downloaded\":" +
             std::to_string(t.total_downloaded) + ",\"total_uploaded\":" + std::to_string(t.total_uploaded) +
             ",\"peers\":" + std::to_string(t.peers) + ",\"seeds\":" + std::to_string(t.seeds) +
             ",\"eta\":" + std::to_string(t.eta_s) + ",\"error\":" + json_escape(t.error) +
             ",\"tracker\":" + json_escape(t.tracker_message) + ",\"save_path\":" + json_escape(t.save_path);
        o += ",\"trackers\":" + trackers_json(t.trackers) + "}";
    }
    o += "],\"totals\":{\"torrents\":" + std::to_string(s.torrents) + ",\"peers\":" + std::to_string(s.peers) +
         ",\"down_rate\":" + num(s.down_rate) + ",\"up_rate\":" + num(s.up_rate) +
         ",\"downloaded\":" + std::to_string(s.downloaded) + ",\"uploaded\":" + std::to_string(s.uploaded) +
         ",\"listen_port\":" + std::to_string(s.listen_port) + "}}\n";
    return o;
}

}  // namespace btl
