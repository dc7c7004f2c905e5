#include "btl/engine/status_json.hpp"

#include <cstdio>

#include "btl/base/format.hpp"

namespace btl {

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
