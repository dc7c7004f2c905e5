// Dispatcher: Transmission's RPC methods (docs/rpc-spec.md of Transmission)
// over an RpcBackend.  A request body {"method", "arguments", "tag"} goes in,
// the answer {"arguments", "result", "tag"} comes out.
//
// Contract: handle() calls `reply` exactly once with the whole JSON answer,
// at once or later (torrent-add and free-space wait for the thread pool);
// it never throws and never blocks.  Bodies are parsed with nlohmann-json
// after a nesting-depth check (its parser recurses); answers are written
// with base/json's escaper.  Anything the engine cannot do is an error
// result naming it ("result" is "success" or the reason), never a silent
// success.  Ids: each info-hash gets a small integer the first time a
// method sees it, kept for the life of the process; "recently-active"
// means changed in the last 60 s (or moving data), with "removed" listing
// the ids that went away in that window (bounded).  Paths: a download-dir
// must lie inside the allowed roots unless allow_any_dir.
#pragma once
#include <nlohmann/json.hpp>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/rpc/rpc_backend.hpp"

namespace btl::rpc {

struct DispatchOptions {
    std::vector<std::string> allowed_dirs;  // --save_in (and label roots)
    bool allow_any_dir = false;
    std::string session_id;                 // reported by session-get
    std::string version = "btlaunchmany";
    std::function<void()> on_session_close; // session-close; null = refused
};

// The ids Transmission's clients use: stable small integers per info-hash.
class IdTable {
public:
    static constexpr int64_t kRecentMs = 60'000;
    static constexpr size_t kMaxRemembered = 100'000;
    // Brings the table up to date with the torrents now running: new ones
    // get ids, changed ones are stamped `now_ms`, vanished ones are removed.
    void sync(const std::vector<const TorrentStatus*>& ts, int64_t now_ms);
    // The same from a change feed (RpcBackend::changes): O(changes), so an
    // idle engine's polls cost nothing per torrent.
    void apply(const std::vector<TorrentChange>& changes, int64_t now_ms);
    int id_of(const Sha1Digest& ih);  // assigns one if needed
    // The id torrent-add answers with, for a torrent the backend may list
    // only once it has loaded it: a sync does not take it back while it is
    // not listed yet, for kReservedMs.
    int reserve(const Sha1Digest& ih, int64_t now_ms);
    static constexpr int64_t kReservedMs = 600'000;
    const Sha1Digest* hash_of(int id) const;
    bool recently_active(const TorrentStatus& t, int64_t now_ms) const;
    std::vector<int> recently_removed(int64_t now_ms) const;
    // The torrents stamped in the last kRecentMs, oldest first: O(those).
    std::vector<Sha1Digest> recent(int64_t now_ms);

private:
    struct Info {
        int id = 0;
        uint64_t fingerprint = 0;
        int64_t changed_ms = -1;
        uint64_t pass = 0;
        int64_t reserved_ms = -1;  // handed out by torrent-add before it was listed
        bool listed = false;       // seen in a sync or the feed
        bool in_recent = false;
        std::list<Sha1Digest>::iterator recent_at;  // in recent_, when in_recent
    };
    // Stamped now: to the end of recent_ (the list is in stamp order).
    void stamp(const Sha1Digest& ih, Info& info, int64_t now_ms);
    void forget(const Sha1Digest& ih, int64_t now_ms);  // it went away
    void trim_removed(int64_t now_ms);
    std::list<Sha1Digest> recent_;
    struct Hash {
        size_t operator()(const Sha1Digest& d) const;
    };
    std::unordered_map<Sha1Digest, Info, Hash> by_hash_;
    std::map<int, Sha1Digest> by_id_;
    std::vector<std::pair<int, int64_t>> removed_;  // id, when
    int next_ = 1;
    uint64_t pass_ = 0;
};

// True when `body` nests arrays/objects no deeper than `max_depth`.
bool json_depth_ok(std::string_view body, int max_depth);

class Dispatcher {
public:
    using Reply = std::function<void(std::string)>;
    Dispatcher(uv_loop_t* loop, RpcBackend& backend, DispatchOptions opt);
    void handle(std::string_view body, Reply reply);

    // One method's outcome: result "success" or why not, and the members of
    // "arguments" as JSON text without braces.
    struct Outcome {
        std::string result = "success";
        std::string arguments;
    };
    using Done = std::function<void(Outcome)>;
    // The parsed request (shared by rpc_methods.cpp and rpc_methods_places.cpp).
    struct Call {
        std::string method;
        nlohmann::json args = nlohmann::json::object();
    };

private:
    void dispatch(const Call& c, Done done);
    void torrent_get(const Call& c, Done done);
    void torrent_action(const Call& c, Done done);
    void torrent_add(const Call& c, Done done);
    void torrent_set(const Call& c, Done done);
    void torrent_remove(const Call& c, Done done);
    void session_get(const Call& c, Done done);
    void session_set(const Call& c, Done done);
    void session_stats(const Call& c, Done done);
    void free_space(const Call& c, Done done);
    // ---- places and labels (rpc_methods_places.cpp)
    void torrent_set_location(const Call& c, Done done);
    // torrent-set's "location" and "labels"; false with a reason on a bad one.
    bool set_places(const Call& c, const std::vector<const TorrentStatus*>& sel, std::string& why);
    void queue_move(const Call& c, Done done);  // queue-move-top/up/down/bottom
    // Selected torrents by the request's "ids"; false with a reason on a bad id.
    bool select(const Call& c, std::vector<const TorrentStatus*>& out, bool& recent, std::string& why);
    void sync();

    uv_loop_t* loop_;
    // The backend's change feed: where this dispatcher read up to; whether
    // ids_ follows it (false: the next sync reads every torrent).
    uint64_t feed_cursor_ = 0;
    bool feed_ok_ = false;
    RpcBackend& b_;
    DispatchOptions opt_;
    IdTable ids_;
    int64_t started_ms_ = 0;
    // The global limits as Transmission models them: a value and a switch
    // (our engine holds one number, 0 = unlimited); kB/s.
    int64_t down_kbps_ = 100, up_kbps_ = 100;
    JobOwner jobs_;
};

}  // namespace btl::rpc
