// Formatting shared by the front ends (plain, curses, headless, JSON):
// human-readable sizes, rates and durations, JSON string escaping, and the
// --status_json document (written with write_file_atomic from atomic_file.hpp).  No engine state here: it formats copies.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "btl/engine_types.hpp"
#include "btl/result.hpp"

namespace btl {

std::string format_size(int64_t bytes);        // "1.5 GiB", "312 KiB", "17 B"
std::string format_rate(double bytes_per_s);   // "12.3 MB/s" (decimal, as links are sold)
std::string format_eta(int64_t seconds);       // "1:02:03", "4:05", "-" when unknown
std::string json_escape(const std::string& s); // with the quotes
std::string status_json(const std::vector<TorrentStatus>& torrents, const SessionStatus& session);
// The "trackers" array of a torrent's status object: [{"url", "status",
// "seeds", "leechers", "fails", "interval", "next_announce_at" (unix time)}, ...].
std::string trackers_json(const std::vector<TrackerStatus>& trackers);
}  // namespace btl
