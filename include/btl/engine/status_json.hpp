// The --status_json document: every torrent's TorrentStatus and the session
// totals as one JSON object.  Pure: formats copies, never engine objects.
#pragma once
#include <string>
#include <vector>

#include "btl/engine/engine_types.hpp"

namespace btl {

std::string status_json(const std::vector<TorrentStatus>& torrents, const SessionStatus& session);
// The "trackers" array of a torrent's status object: [{"url", "status",
// "seeds", "leechers", "fails", "interval", "next_announce_at" (unix time)}, ...].
std::string trackers_json(const std::vector<TrackerStatus>& trackers);

}  // namespace btl
