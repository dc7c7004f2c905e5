// torrent-set's per-torrent limits and seeding goals, and the order in which
// queue-move-* moves a selection; Transmission's names and units (limits in
// kB/s of 1000 bytes, idle limits in minutes, modes 0 global / 1 this
// torrent's / 2 unlimited, bandwidthPriority -1..1).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "btl/engine/engine_types.hpp"

namespace btl::rpc {

// A torrent-set argument this file applies.
bool is_limits_key(std::string_view key);
// Applies the limit and goal arguments of `args` to `l`; "" or the reason
// one is invalid (nothing is applied then).
std::string apply_limits_args(const nlohmann::json& args, TorrentLimits& l);
// 0 top, 1 up, 2 down, 3 bottom for "queue-move-top" ... "queue-move-bottom".
int queue_move_kind(std::string_view method);
// The selection in the order its torrents must be moved one by one so that
// they keep their own order (Transmission moves a selection as a block).
std::vector<Sha1Digest> queue_move_order(const std::vector<const TorrentStatus*>& sel, int how);

}  // namespace btl::rpc
