// PeerBook: what a torrent remembers about the addresses it may dial.
// Remembering an address only to never dial it twice left a torrent "stalled
// 0/0" for good once a seed restarted, was briefly down when we dialled, or
// a re-check dropped every peer, although each re-announce returned it.  So
// every address has a state, and one that is not connected is dialled again
// after a backoff.
//
// Contract (pure: no I/O, the clock is passed in as milliseconds):
//  - offered() records an address a source (tracker, later PEX) gave us.  A
//    new one is eligible at once; a known idle one has its backoff reset
//    and is eligible at once (the source says it is alive); a connected,
//    dialling, held or banned one is left as it is.
//  - next_eligible(now) hands out the address that has waited longest among
//    those due, and marks it dialling; nothing else is handed out twice.
//  - connected() when the connection is up (after its handshake); closed()
//    when it ends, whether or not it ever connected.  A connection that
//    lasted kUsefulMs or more counts as a success: the next dial is
//    first_retry_ms later.  Otherwise failures add up and the wait doubles
//    from first_retry_ms to max_retry_ms.  A connection we closed for our
//    own reasons (re-check, pause) is no failure: due again at once.
//  - hold() parks an address whose peer we already reach by another
//    connection (a duplicate); release() makes it eligible again.
//  - ban() never hands an address out again (until it is forgotten).
//  - make_all_eligible(now): re-check, resume or a restart of the swarm: every
//    idle address is due at once, with its failures forgotten.
//  - An idle address not offered or connected for forget_after_ms is
//    forgotten (prune(), which the caller runs now and then); past
//    max_entries the banned and failed idle addresses go first, then those
//    seen longest ago, then, among addresses offered together, the newest:
//    a tracker answer of 50,000 addresses keeps the first ones it named
//    (not an address order that could drop the one real seed), so memory is
//    bounded however many addresses trackers hand out.  Connected,
//    dialling and held addresses are never forgotten.
//
// Cost: the idle addresses wait in a set ordered by due time, so
// offered/next_eligible/closed are O(log n); prune() is O(n log n) and is
// meant to run at most about once a minute or when the cap is passed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "btl/core/tracker_client_codec.hpp"

namespace btl {

// Where an address came from: a bit each (an address may have several);
// the first source that named it is kept too, for the peer list.
enum class PeerSource : uint8_t { tracker = 1, dht = 2, pex = 4, lsd = 8 };  // lsd: BEP 14 on the LAN
const char* peer_source_name(PeerSource s);

struct PeerBookPolicy {
    int64_t first_retry_ms = 10'000;
    int64_t max_retry_ms = 30 * 60'000;
    int64_t forget_after_ms = 60 * 60'000;
    size_t max_entries = 10'000;
};

class PeerBook {
public:
    // A connection that held this long was worth having: its end is not a failure.
    static constexpr int64_t kUsefulMs = 60'000;
    enum class State { idle, dialling, connected, held, banned };

    explicit PeerBook(PeerBookPolicy p = {}) : policy_(p) {}

    // True if the address is (now) waiting to be dialled.
    // `src` is kept from the first offer of an address; every source is remembered in sources().
    bool offered(const PeerEndpoint& ep, int64_t now_ms, PeerSource src = PeerSource::tracker);
    // The sources that offered addr (PeerSource bits; 0 if unknown).
    uint8_t sources(const std::string& addr) const;
    // The longest-waiting due address, now marked dialling; nullopt if none is due.
    std::optional<PeerEndpoint> next_eligible(int64_t now_ms);
    void connected(const std::string& addr, int64_t now_ms);
    void closed(const std::string& addr, int64_t now_ms, bool our_choice = false);
    void hold(const std::string& addr, int64_t now_ms);
    void release(const std::string& addr, int64_t now_ms);
    void ban(const std::string& addr);
    void make_all_eligible(int64_t now_ms);
    // Forgets stale idle addresses, then the oldest ones past the cap.
    void prune(int64_t now_ms);

    // ---- queries
    size_t size() const { return entries_.size(); }
    // Addresses waiting for a dial (due now or later).
    size_t waiting() const { return queue_.size(); }
    // When the next waiting address is due (nullopt: none waits).
    std::optional<int64_t> next_due() const;
    std::optional<State> state(const std::string& addr) const;
    int failures(const std::string& addr) const;
    // Where the address was first heard of (tracker for an unknown one).
    PeerSource source(const std::string& addr) const;
    // Our last dial of it (-1: never dialled, or unknown address).
    int64_t last_attempt(const std::string& addr) const;
    // The wait after `failures` failed attempts: 0, then first_retry doubling to max_retry.
    int64_t backoff(int failures) const;

private:
    struct Entry {
        PeerEndpoint ep;
        State state = State::idle;
        int failures = 0;
        int64_t due_ms = 0;            // when idle: when it may be dialled
        int64_t last_attempt_ms = -1;  // our last dial
        int64_t last_seen_ms = 0;      // last offered, connected or closed
        int64_t connected_ms = -1;     // when the current connection came up
        PeerSource source = PeerSource::tracker;  // the first source
        uint8_t sources = 0;                       // PeerSource bits
        uint64_t seq = 0;                          // order of first offer
    };
    void enqueue(const std::string& addr, Entry& e, int64_t due_ms);
    void dequeue(const std::string& addr, Entry& e);
    void erase(const std::string& addr);

    PeerBookPolicy policy_;
    std::unordered_map<std::string, Entry> entries_;
    uint64_t next_seq_ = 0;
    std::set<std::pair<int64_t, std::string>> queue_;  // idle entries by due time
};

}  // namespace btl
