// TurnQueue: bounds how many requests run at once against one server.  With
// 10,000 torrents on one tracker, every torrent announcing the moment it
// starts would open 10,000 sockets at once (past any fd limit, each bind()
// slower than the last, the tracker timing most of them out).  Instead each
// announce asks for a turn under its tracker's key; at most `limit` turns per
// key run at once and the rest wait, first come first served.
//
// Contract (pure: no I/O, no callbacks; the owner runs what grant() returns):
//  - request(key) queues a turn and returns its id (never 0).
//  - grant() hands out waiting turns while their key is under its limit, in
//    request order per key, and marks them running.
//  - release(id) ends a turn, running or still waiting; unknown ids are
//    ignored, so releasing twice is harmless.
//  - tracker_key(url) is "scheme://host:port" of a tracker URL: turns are
//    counted per server, not per announce path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace btl {

class TurnQueue {
public:
    explicit TurnQueue(size_t limit_per_key) : limit_(limit_per_key ? limit_per_key : 1) {}

    uint64_t request(const std::string& key);
    void release(uint64_t id);
    std::vector<uint64_t> grant();

    size_t running(const std::string& key) const;
    size_t waiting() const { return waiting_total_; }

private:
    struct Key {
        size_t running = 0;
        size_t live = 0;               // turns in `waiting` not yet released
        std::deque<uint64_t> waiting;  // may hold released ids (skipped)
    };
    struct Turn {
        std::string key;
        bool running = false;
    };
    size_t limit_;
    uint64_t next_id_ = 1;
    size_t waiting_total_ = 0;
    std::map<std::string, Key> keys_;
    std::map<uint64_t, Turn> turns_;
    std::vector<std::string> ready_keys_;  // keys that may have a turn to grant
};

std::string tracker_key(const std::string& url);

}  // namespace btl
