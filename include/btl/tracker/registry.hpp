// The tracker's swarm state, with no I/O: which peers announced which
// info-hash, and the bencoded answers to announce and scrape (BEP 3, compact
// peer lists per BEP 23, IPv6 "peers6" per BEP 7).
//
// Contract:
// - Time is passed in (unix seconds) so tests control it; nothing here reads
//   a clock, a socket or a file.  save()/load() produce/consume the bencoded
//   --dfile image; the caller does the file I/O.
// - A peer is identified by its peer_id within a swarm.  A re-announce from a
//   different address updates the entry only when it carries the same `key`
//   as the entry (BEP-less convention from the original tracker); otherwise
//   the entry is left alone, so nobody can move another peer's entry by
//   reusing its peer_id.
// - A peer may name one endpoint in the other address family (BEP 7 ipv6=
//   over IPv4, ipv4= over IPv6): it is kept with the peer's entry (never an
//   entry of its own, so it costs no slot and cannot displace anyone),
//   replaced or dropped by each re-announce, and served in "peers6" or
//   "peers" beside the primary address.
// - Answers never contain the requester itself (same peer_id or same
//   address:port); seeds are not sent to seeds.  Peers are picked from a
//   random start with a random stride coprime to the swarm size, which
//   samples without repetition in O(numwant) with no allocation.
// - Memory is bounded: at most max_torrents swarms, max_peers_per_torrent
//   per swarm and max_total_peers overall.  A peer that does not fit still
//   gets an answer, with a "warning message"; a new torrent that does not fit
//   gets a failure.
// - Hash tables are keyed with a per-registry random seed so crafted
//   peer_ids/info-hashes cannot force collisions cheaply.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"

namespace btl {

using PeerId = std::array<uint8_t, 20>;

// An IPv4 or IPv6 address in network byte order.
struct PeerAddr {
    uint8_t len = 0;  // 4 or 16; 0 = unset
    std::array<uint8_t, 16> bytes{};
    bool operator==(const PeerAddr&) const = default;

    // Numeric literals only (never DNS); IPv4-mapped IPv6 becomes IPv4.
    static bool parse(std::string_view text, PeerAddr& out);
    static PeerAddr from_v4(uint32_t host_order);
    std::string to_string() const;
    // Loopback, RFC 1918, link-local, IPv6 unique-local: networks whose
    // clients may name their own address with the `ip` parameter.
    bool is_local() const;
    // An address a peer elsewhere could dial: not unspecified (0.0.0.0,
    // ::), not multicast, not IPv4 broadcast or "this network" 0/8.
    bool is_unicast() const;
    // BEP 7's ipv6=/ipv4= values: "ADDR", "[V6ADDR]", "[V6ADDR]:PORT" or
    // "V4ADDR:PORT".  `port` is left alone when the text has none; an
    // unbracketed IPv6 address is always a bare address.
    static bool parse_endpoint(std::string_view text, PeerAddr& out, uint16_t& port);
};

enum class ClientEvent : uint8_t { none, started, completed, stopped };

struct ClientAnnounce {
    Sha1Digest info_hash{};
    PeerId peer_id{};
    PeerAddr addr;
    uint16_t port = 0;
    int64_t uploaded = 0;
    int64_t downloaded = 0;
    int64_t left = -1;      // -1 = not given (treated as a leecher)
    ClientEvent event = ClientEvent::none;
    int numwant = -1;       // -1 = not given
    bool compact = false;
    bool no_peer_id = false;
    bool has_key = false;
    uint64_t key = 0;       // hash of the `key` parameter
    // BEP 7: the peer's endpoint in the other address family (ipv6= when
    // it announced over IPv4, ipv4= over IPv6); len 0 = none.
    PeerAddr other_addr;
    uint16_t other_port = 0;
};

struct RegistryConfig {
    int64_t announce_interval = 1800;   // "interval" in answers
    int64_t min_interval = 900;         // "min interval"
    int64_t peer_timeout = 2700;        // seconds without an announce
    int response_size = 50;             // default and maximum numwant
    size_t max_torrents = 100000;
    size_t max_peers_per_torrent = 50000;
    size_t max_total_peers = 2000000;
    std::string tracker_id;             // "tracker id" in answers (empty: omitted)
};

struct SwarmCounts {
    uint32_t complete = 0;    // seeds
    uint32_t incomplete = 0;  // leechers
    uint64_t downloaded = 0;  // completions: a known leecher reaching left=0
                              // (any event, even stopped) or a new peer
                              // announcing event=completed
};

struct RegistryStats {
    size_t torrents = 0;
    size_t seeds = 0;
    size_t leechers = 0;
    uint64_t downloaded = 0;
};

// 64-bit keyed mix of arbitrary bytes (for `key` and hash tables).
uint64_t keyed_hash(uint64_t seed, const void* data, size_t len);

class TrackerRegistry {
public:
    explicit TrackerRegistry(RegistryConfig cfg = {}, uint64_t seed = 0x9e3779b97f4a7c15ull);

    // Appends a complete bencoded announce answer (or failure) to out.
    void announce(const ClientAnnounce& req, int64_t now, std::string& out);
    // Appends a bencoded scrape answer for `hashes` (sorted, deduplicated
    // here; unknown ones omitted), or for every torrent when `all`.
    void scrape(std::span<const Sha1Digest> hashes, bool all, std::string& out);
    // Drops peers not seen for peer_timeout seconds and swarms left with no
    // peers and no downloads; returns the number of peers dropped.
    size_t expire(int64_t now);

    const SwarmCounts* counts(const Sha1Digest& ih) const;
    RegistryStats stats() const;
    size_t total_peers() const { return total_peers_; }
    const RegistryConfig& config() const { return cfg_; }
    // Visit every swarm: fn(info_hash, counts); order unspecified.
    template <class Fn>
    void for_each_swarm(Fn&& fn) const {
        for (const auto& [ih, s] : swarms_) fn(ih, s.counts);
    }

    // The --dfile image (bencoded, keys sorted).
    std::string save() const;
    // Replaces the state with a saved image; peers already expired at `now`
    // are dropped.  On error the state is unchanged.
    Status load(std::string_view image, int64_t now);

private:
    // Ordered so the second endpoint fills padding: 80 bytes, not 88.
    struct Peer {
        PeerId id;
        PeerAddr addr;
        PeerAddr other;  // BEP 7: the same peer's endpoint in the other family (len 0 = none)
        uint16_t port;
        uint16_t other_port;
        bool seed;
        bool has_key;
        uint64_t key;
        int64_t last_seen;
    };
    struct IdHash {
        uint64_t seed;
        size_t operator()(const PeerId& id) const { return keyed_hash(seed, id.data(), id.size()); }
    };
    struct DigestHash {
        uint64_t seed;
        size_t operator()(const Sha1Digest& d) const { return keyed_hash(seed, d.data(), d.size()); }
    };
    struct Swarm {
        explicit Swarm(uint64_t seed) : index(0, IdHash{seed}) {}
        std::vector<Peer> peers;
        std::unordered_map<PeerId, uint32_t, IdHash> index;
        SwarmCounts counts;
    };
    using SwarmMap = std::unordered_map<Sha1Digest, Swarm, DigestHash>;

    void remove_peer(Swarm& s, uint32_t i);
    void add_peer(Swarm& s, const Peer& p);
    void select_peers(const Swarm& s, const ClientAnnounce& req, bool requester_seed, size_t want);
    void encode_answer(const Swarm* s, const ClientAnnounce& req, const char* warning, std::string& out);
    uint64_t next_random();

    RegistryConfig cfg_;
    uint64_t seed_;
    uint64_t rng_;
    SwarmMap swarms_;
    size_t total_peers_ = 0;
    std::vector<uint32_t> picked_;  // scratch, reused between announces
};

// Appends d14:failure reason<len>:<reason>e to out.
void encode_failure(std::string& out, std::string_view reason);

}  // namespace btl
