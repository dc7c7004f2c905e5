// Metrics: GET /metrics in Prometheus' text exposition format (version
// 0.0.4), so a Prometheus server scrapes the client without an exporter.
//
// Contract: pure; one HELP and one TYPE line per family, every sample of a
// family together, label values escaped (backslash, quote, newline), names
// valid UTF-8 as the engine gives them.  Session-wide series always; per
// torrent series (labelled info_hash and name) only for the first
// max_torrents torrents by transfer rate, then by name, so a scrape of
// 10,000 torrents stays small; btl_torrent_series_omitted says how many
// were left out.  btl_loop_handles / btl_loop_timers count the event
// loop's handles when known (a soak checks they stay flat).  Counters are the server's own, monotonic for the life of
// the process; byte totals of the torrents present are gauges (removing a
// torrent lowers them).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "btl/engine/engine_types.hpp"

namespace btl::rpc {

struct MetricsInput {
    std::vector<const TorrentStatus*> torrents;
    std::vector<bool> paused;  // parallel to torrents
    SessionStatus session;
    std::string disk_path;
    int64_t disk_free = -1, disk_total = -1;  // -1: unknown
    uint64_t rpc_requests = 0, auth_failures = 0;
    size_t max_torrents = 100;
    // Event loop: handles (sockets, timers, ...) alive, and timers among
    // them; -1 when not known.  Flat over a long run, or something leaks.
    int64_t loop_handles = -1, loop_timers = -1;
};

std::string prometheus_text(const MetricsInput& in);
// A label value with \ " and newline escaped as the format requires.
void append_label_value(std::string& out, const std::string& v);

}  // namespace btl::rpc
