// DhtNode: one mainline DHT node (BEP 5), client and server, with no socket
// and no clock of its own: the owner feeds it datagrams (on_packet) and time
// (tick), and it sends through the SendFn it was given.  So the whole node
// runs in unit tests with a fake network, and the engine binds it to the
// shared UDP socket.
//
// Contract:
//  - Lookups (get_peers, announce, find_node) ask the closest nodes they know
//    about the target, at most kAlpha queries in flight each, and end when
//    the kK closest nodes that did not time out have all answered.  Peers
//    are reported as they arrive (each address once per lookup); `done`
//    gets the number of nodes that answered.  An announce then sends
//    announce_peer, with the token each got, to the kK closest that answered.
//    At most max_active lookups run at once; the rest wait in order.
//  - Every query we send takes a token of a global budget (queries_per_s,
//    burst); a lookup with no token waits for the next tick.  The
//    announce_peer queries that end an announce go out at once but put the
//    budget in debt.  So 10,000 torrents cost a bounded number of packets
//    per second.
//  - Queries to us are answered unless their source exceeds its rate
//    (per_source_per_s, burst; sources tracked in a bounded map).  Replies
//    stay small: at most 8 nodes or kMaxValues peers, so a reply is never
//    more than kMaxReply bytes (amplification bound).
//  - get_peers tokens are derived from the querier's IP and a secret that
//    rotates every 5 minutes; the previous secret is still accepted.
//  - Peers announced to us are kept kPeerTtlMs, at most max_peers per info
//    hash and max_torrents info hashes (the oldest go first).
//  - Malformed packets, unexpected responses (unknown transaction id or a
//    source that is not the node we asked) and rate-limited queries are
//    counted and dropped; nothing that arrives is fatal.
//  - save()/load_saved(): our id and the table's nodes, bencoded.
//  - BEP 32 (IPv6): a node speaks one address family (DhtConfig::ipv6); a
//    dual-stack DHT is two nodes sharing one id, each with its own table,
//    lookups, budget and store, joined by set_other().  Then each sends
//    want ["n4","n6"] in its find_node/get_peers (once the other node has
//    had an answer from its family: proof that family's network works),
//    answers `want` from both tables (nodes, nodes6), and hands the nodes
//    of the other family it learns in replies to the other node (pinged if
//    their bucket has room and that node has had an answer).
//    Packets from, and nodes or bootstrap addresses of, the wrong family
//    are dropped; peers (values) of either family go to the lookup's
//    callback.  Peers announced over IPv6 are stored as IPv6 peers and
//    handed out as 18-byte values.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "btl/dht/krpc.hpp"
#include "btl/dht/routing_table.hpp"

namespace btl::dht {

struct DhtConfig {
    int64_t query_timeout_ms = 3'000;
    double queries_per_s = 100, query_burst = 50;
    double per_source_per_s = 10, per_source_burst = 20;
    size_t max_sources = 4'096;      // rate-limit records
    size_t max_active = 8;           // lookups running at once
    size_t max_waiting = 10'000;     // lookups waiting for a slot
    size_t max_outstanding = 256;    // queries in flight
    size_t max_torrents = 2'000;     // info hashes announced to us
    size_t max_peers = 100;          // peers kept per info hash
    bool read_only = false;
    // ---- BEP 32: the family this node speaks (false: IPv4)
    bool ipv6 = false;
};

// The saved state (dht.dat): our id and the nodes of each family.
struct SavedState {
    NodeId id{};
    std::vector<NodeEntry> nodes, nodes6;
};
std::string encode_saved(const SavedState& st);
// false if the data is not a saved state; a damaged nodes6 only empties it.
bool decode_saved(std::string_view data, SavedState& st);

struct DhtStats {
    uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
    uint64_t malformed = 0, unexpected = 0, rate_limited = 0;
    uint64_t queries_in = 0, timeouts = 0, lookups_done = 0, announces_stored = 0;
};

class DhtNode {
public:
    static constexpr size_t kK = 8, kAlpha = 4;
    static constexpr size_t kMaxValues = 32;
    // Both families' nodes (8 + 8) or 32 IPv6 values fit; the IPv6 minimum
    // MTU (1280) is never passed.
    static constexpr size_t kMaxReply = 1024;
    static constexpr size_t kMaxCandidates = 64;
    static constexpr int64_t kSecretRotateMs = 5 * 60'000;
    static constexpr int64_t kPeerTtlMs = 30 * 60'000;

    using SendFn = std::function<void(const NodeAddr& to, std::string_view packet)>;
    using PeersFn = std::function<void(const std::vector<NodeAddr>& peers)>;
    using DoneFn = std::function<void(size_t responded)>;

    DhtNode(const NodeId& id, DhtConfig cfg, SendFn send, uint64_t seed);
    ~DhtNode();
    DhtNode(const DhtNode&) = delete;
    DhtNode& operator=(const DhtNode&) = delete;

    const NodeId& id() const { return table_.self(); }
    bool ipv6() const { return cfg_.ipv6; }
    // BEP 32: the node of the other family (same id), or nullptr.  Both
    // must outlive the link (set it back to nullptr before destroying one).
    void set_other(DhtNode* other) { other_ = other; }
    // A node of this family that another node's reply named: pinged if it
    // is not known, its bucket has room and some node of our family has
    // answered us before (else our family may not reach anywhere).
    void offer(const NodeEntry& n, int64_t now_ms);
    void on_packet(const NodeAddr& from, std::string_view packet, int64_t now_ms);
    // Timeouts, waiting lookups, bucket refresh, pings, secret rotation.
    // Cheap: meant to run a few times a second.
    void tick(int64_t now_ms);

    // A find_node for our own id from the table's closest nodes plus
    // `extra` addresses (ids unknown: bootstrap routers).
    uint64_t bootstrap(const std::vector<NodeAddr>& extra, int64_t now_ms, DoneFn done = nullptr);
    // Pings an address a peer told us about (BEP 5 `port`): it joins the
    // table if it answers.
    void add_contact(const NodeAddr& a, int64_t now_ms);
    uint64_t get_peers(const NodeId& info_hash, PeersFn peers, DoneFn done, int64_t now_ms);
    // port 0: implied_port (the packet's source port).
    uint64_t announce(const NodeId& info_hash, uint16_t port, PeersFn peers, DoneFn done, int64_t now_ms);
    // Ends a lookup; its callbacks are never called again.
    void cancel(uint64_t lookup);

    size_t active_lookups() const { return active_; }
    size_t lookups() const { return lookups_.size(); }
    size_t outstanding() const { return outstanding_.size(); }
    size_t stored_torrents() const { return store_.size(); }
    size_t tracked_sources() const { return sources_.size(); }
    const RoutingTable& table() const { return table_; }
    const DhtStats& stats() const { return stats_; }

    std::string save() const;
    // Parses what save() wrote; false if it is not that.
    static bool parse_saved(std::string_view data, NodeId& id, std::vector<NodeEntry>& nodes);
    void add_saved(const std::vector<NodeEntry>& nodes, int64_t now_ms);

    // The token a node at `ip` gets from us now (for tests).
    std::string token_for(uint32_t ip) const;
    std::string token_for(const NodeAddr& a) const;

private:
    struct Lookup;
    struct Outstanding {
        NodeAddr to;
        uint64_t lookup = 0;
        Method method = Method::none;
        int64_t sent_ms = 0;
    };
    struct Source {
        double tokens = 0;
        int64_t last_ms = 0;
    };
    struct StoredPeer {
        NodeAddr addr;
        int64_t expires_ms;
    };
    struct Stored {
        std::vector<StoredPeer> peers;
        int64_t touched_ms = 0;
    };

    uint64_t start_lookup(Method m, const NodeId& target, uint16_t port, const std::vector<NodeAddr>& extra,
                          PeersFn peers, DoneFn done, int64_t now);
    void step(Lookup& l, int64_t now);
    void finish(uint64_t id, int64_t now);
    bool send_query(const NodeAddr& to, KrpcMessage& q, uint64_t lookup, int64_t now, bool budgeted = true);
    bool take_budget(int64_t now, bool force = false);
    void handle_query(const NodeAddr& from, KrpcMessage& m, int64_t now);
    void handle_reply(const NodeAddr& from, const KrpcMessage& m, int64_t now);
    void on_lookup_reply(Lookup& l, const NodeAddr& from, const KrpcMessage* m, int64_t now);
    bool allow_source(uint64_t source, int64_t now, bool& first);
    static uint64_t source_key(const NodeAddr& a);
    void add_nodes(KrpcMessage& r, const NodeId& target, uint8_t want) const;
    void reply(const NodeAddr& to, const KrpcMessage& m);
    void send_error(const NodeAddr& to, const std::string& tid, int code, const std::string& msg);
    void store_peer(const NodeId& ih, const NodeAddr& peer, int64_t now);
    std::vector<NodeAddr> stored_peers(const NodeId& ih, int64_t now);
    void expire(int64_t now);
    std::string make_token(const NodeAddr& a, const std::string& secret) const;
    std::string next_tid();

    RoutingTable table_;
    DhtConfig cfg_;
    SendFn send_;
    std::mt19937_64 rng_;
    DhtStats stats_;
    std::map<uint64_t, std::unique_ptr<Lookup>> lookups_;
    std::deque<uint64_t> waiting_;
    size_t active_ = 0;
    uint64_t next_lookup_ = 1;
    uint16_t next_tid_ = 0;
    std::unordered_map<std::string, Outstanding> outstanding_;
    double budget_ = 0;
    int64_t budget_ms_ = -1;
    std::unordered_map<uint64_t, Source> sources_;
    std::map<NodeId, Stored> store_;
    std::string secret_, prev_secret_;
    int64_t secret_ms_ = -1, last_refresh_ms_ = 0;
    DhtNode* other_ = nullptr;  // BEP 32: the other family's node
    bool heard_any_ = false;    // a node of our family has answered us
};

}  // namespace btl::dht
