// ReadyQueue: decides when a file dropped into the watched directory is
// complete enough to load.  A .torrent copied in slowly (scp, a browser) is
// seen many times while it grows; loading it early gives a parse error for a
// file that is merely unfinished.  So, as in rtorrent's watch_ready_queue, a
// file is "ready" only once its size and mtime (its FileStamp) have stayed
// the same for a quiet interval, confirmed by a fresh look after that
// interval has passed.
//
// Contract (pure: no I/O, time passed in as milliseconds):
//  - observe() records what a directory scan, an fs event or a stat saw.  A
//    new or changed stamp (re)starts the quiet interval, less the time the
//    file is already known to have been unchanged (its mtime's age): a file
//    that sat in the directory before we started needs no extra wait,
//    only the confirming look.
//  - due(now) lists files whose quiet interval has passed and that have not
//    been delivered with that stamp; the caller stats them once more and
//    calls confirm(), which returns true exactly once per (file, stamp).
//  - A delivered file is delivered again only when its stamp changes: a file
//    that failed to parse is retried only after it is rewritten.
//  - forget() drops a file that disappeared and says whether it had been
//    delivered (so the caller knows a running torrent must stop).
// wanted_watch_name() is the name filter: "*.torrent" but never dotfiles or
// temporary names ("*.tmp", "*.part", "*~").
//
// Cost: a directory of 10,000 files is observed 10,000 times per scan and the
// caller asks next_deadline() after each look, so the files still waiting
// are kept ordered by deadline: observe/confirm/forget are O(log n),
// next_deadline() O(1), due() O(k log k) for the k files it returns.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace btl {

struct FileStamp {
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
};

bool wanted_watch_name(const std::string& name);

class ReadyQueue {
public:
    explicit ReadyQueue(int64_t quiet_ms) : quiet_ms_(quiet_ms) {}

    // unchanged_for_ms: how long the file has provably not been written
    // (now - mtime by the wall clock; 0 when unknown or in the future).
    void observe(const std::string& name, FileStamp st, int64_t now_ms, int64_t unchanged_for_ms = 0);
    std::vector<std::string> due(int64_t now_ms) const;
    // True when `st` is what was observed a full quiet interval ago: the file
    // is ready and is marked delivered with this stamp.  Otherwise the new
    // stamp is observed (restarting the interval) and false is returned.
    bool confirm(const std::string& name, FileStamp st, int64_t now_ms);
    // Returns true if the file had been delivered.
    bool forget(const std::string& name);

    // The earliest time due() may return something, or -1 if nothing waits.
    int64_t next_deadline() const;
    bool known(const std::string& name) const { return files_.count(name) > 0; }
    bool delivered(const std::string& name) const;
    std::vector<std::string> names() const;
    // Up to `max` names after `after` in name order ("" = from the first):
    // a walk over every file in slices, O(log n + max) each.
    std::vector<std::string> names_after(const std::string& after, size_t max) const;
    size_t size() const { return files_.size(); }

private:
    struct Entry {
        FileStamp seen;          // last observed stamp
        int64_t since_ms = 0;    // when `seen` was first observed
        FileStamp delivered;     // stamp handed to the caller (size -1: never)
    };
    using Files = std::map<std::string, Entry>;
    // (since_ms, name) of every entry whose seen stamp is not delivered.
    void unindex(const Files::value_type& f);
    void index(const Files::value_type& f);
    int64_t quiet_ms_;
    Files files_;
    std::set<std::pair<int64_t, std::string>> waiting_;
};

}  // namespace btl
