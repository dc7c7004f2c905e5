// The client side of Transmission's RPC protocol, pure: the requests a view
// sends (JSON text) and the answers it reads (torrent-get, session-get,
// session-stats), parsed with nlohmann-json into the engine's snapshot types
// (TorrentStatus), so the curses view shows a transmission-daemon or our own
// engine with the same code it uses for the Launcher of its own process.
//
// Meanings follow Transmission's docs/rpc-spec.md: rates in bytes/s, eta -1
// (unknown) or -2 (never, shown as unknown), status 0 stopped (our
// "paused"), 1-2 checking, 3-4 downloading, 5-6 seeding; error 3 (local)
// makes the row an error row, errors 1-2 (tracker warning, tracker error)
// show as the tracker message.  Limits in session-get are in kB/s of
// `units.speed-bytes` bytes (1000 unless the engine says otherwise).
//
// Hostile or broken answers give one error line, never a crash: the body is
// parsed without exceptions, nesting deeper than kMaxDepth is refused
// before parsing (the parser recurses), a value of the wrong type counts as
// absent, strings are cut at kMaxText bytes, lists at kMaxItems.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/rpc/rpc_backend.hpp"

namespace btl::rpc {

inline constexpr int kMaxDepth = 32;
inline constexpr size_t kMaxText = 4096;
inline constexpr size_t kMaxItems = 1'000'000;

struct RemoteTorrent {
    int64_t id = 0;
    TorrentStatus st;
};

// A torrent-get answer: the torrents listed and, for ids
// "recently-active", the ids removed since the last such call.
struct TorrentList {
    std::vector<RemoteTorrent> torrents;
    std::vector<int64_t> removed;
};

struct RemoteSession {
    int64_t down_limit = 0, up_limit = 0;  // bytes/s, 0 = unlimited
    uint16_t peer_port = 0;
    std::string download_dir, version;
    int64_t free_space = -1;  // bytes free in download_dir, -1 = not said
    int rpc_version = 0;
};

struct RemoteStats {
    double down_rate = 0, up_rate = 0;  // bytes/s
    int64_t torrents = 0;
};

// Which torrents a torrent-get asks for.
enum class Which { all, recently_active, one };

// Requests.  `tag` comes back in the answer.
std::string torrent_get_request(Which which, int64_t id = 0, bool detail = false);
std::string torrent_action_request(const char* method, int64_t id, bool delete_local_data = false);
std::string session_limits_request(int64_t down_bytes_s, int64_t up_bytes_s);
// torrent-set of one torrent's own rate caps (bytes/s, 0 = none).
std::string torrent_limits_request(int64_t id, int64_t down_bytes_s, int64_t up_bytes_s);
// torrent-set of per-file choices or sequential download for one torrent.
std::string torrent_files_request(int64_t id, const FileChange& c);
std::string plain_request(const char* method);  // session-get, session-stats, session-close
std::string free_space_request(const std::string& path);

// Answers.  An answer whose "result" is not "success" is an error carrying
// the engine's words.
Result<TorrentList> parse_torrent_get(std::string_view body);
Result<RemoteSession> parse_session_get(std::string_view body);
Result<RemoteStats> parse_session_stats(std::string_view body);
Result<int64_t> parse_free_space(std::string_view body);  // "size-bytes"
Status parse_result(std::string_view body);

// Transmission's status code as our state (error and stall aside).
TorrentState state_from_status(int64_t status, bool stalled);

}  // namespace btl::rpc
