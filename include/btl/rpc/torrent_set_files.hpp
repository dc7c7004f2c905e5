// torrent-set's per-file keys and sequentialDownload: one row per key in a table (torrent_set_files.cpp), each
// turning its value into an action on one torrent through the RpcBackend.
// Every key of a request is parsed before anything changes, so a request
// with a malformed value changes nothing and the error names the key.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "btl/rpc/rpc_backend.hpp"

namespace btl::rpc {

using TorrentSetAction = std::function<Status(RpcBackend&, const Sha1Digest&)>;

// Appends the actions of `args` (an object; "ids" is skipped) in order.
// Returns "" or what is wrong with a value; keys not in the table are
// listed in `unsupported` (comma-separated).
std::string parse_file_keys(const nlohmann::json& args, std::vector<TorrentSetAction>& out, std::string& unsupported);

}  // namespace btl::rpc
