// RoutingTable: the DHT nodes we know, in Kademlia buckets of K = 8 (BEP 5).
//
// Buckets are kept as libtorrent keeps them: bucket i holds the nodes whose
// id shares exactly i leading bits with ours, except the last bucket, which
// holds every node sharing at least that many; when the last bucket is full
// it splits (up to 160 buckets), so the table is finest near our own id.
//
// Contract (pure: no I/O; times are milliseconds passed in):
//  - heard_from() records a node that answered one of our queries: it enters
//    its bucket if there is room (or a bad node to replace), else waits in
//    the bucket's replacement list (at most K, newest kept).  One entry per
//    address and per id: a known id that shows up from another address is
//    ignored (it cannot take over the entry).
//  - add_unverified() adds a node we have not heard from (the saved table,
//    a peer's `port` message): only into free room, and it counts as
//    questionable until it answers.
//  - failed() counts a query to it that timed out; after kBadFails in a row
//    the node is bad: left out of closest(), replaced by the newest
//    replacement when there is one.
//  - Health: good = answered within kQuestionableMs and no failure since;
//    bad = kBadFails failures in a row; questionable otherwise.
//  - Memory is bounded: 160 buckets of K nodes plus K replacements each.
//  - One table holds one address family: the DHT keeps an IPv4 table and,
//    when it runs over IPv6 too (BEP 32), a second one; the table itself
//    does not look at the family.
#pragma once
#include <cstdint>
#include <optional>
#include <unordered_set>
#include <vector>

#include "btl/dht/krpc.hpp"

namespace btl::dht {

// XOR distance, compared as big-endian numbers: true if a is closer to t than b.
bool closer(const NodeId& t, const NodeId& a, const NodeId& b);
// Leading bits a and b share (0..160).
int common_prefix(const NodeId& a, const NodeId& b);

enum class Health { good, questionable, bad };

class RoutingTable {
public:
    static constexpr size_t K = 8;
    static constexpr int kBadFails = 2;
    static constexpr int64_t kQuestionableMs = 15 * 60'000;

    struct Node {
        NodeEntry e;
        int64_t last_reply_ms = -1;  // -1: never answered us
        int64_t last_query_ms = -1;  // our last query to it
        int fails = 0;
    };

    explicit RoutingTable(const NodeId& self) : self_(self), buckets_(1) {}
    const NodeId& self() const { return self_; }

    bool heard_from(const NodeEntry& n, int64_t now_ms);
    bool add_unverified(const NodeEntry& n, int64_t now_ms);
    void failed(const NodeAddr& a);
    void queried(const NodeAddr& a, int64_t now_ms);
    // Would a node with this id find room (or a bad node to replace)?
    bool has_room_for(const NodeId& id) const;
    bool contains(const NodeAddr& a) const { return addrs_.count(a) > 0; }

    // The n nodes closest to target, bad ones left out.
    std::vector<NodeEntry> closest(const NodeId& target, size_t n) const;
    // Questionable nodes we have not queried for a minute (to ping), at most max.
    std::vector<NodeEntry> to_ping(int64_t now_ms, size_t max) const;
    // For each bucket unchanged for kQuestionableMs: a target inside it.
    std::vector<NodeId> stale_buckets(int64_t now_ms, uint64_t random_bits);
    std::vector<NodeEntry> all() const;

    Health health(const Node& n, int64_t now_ms) const;
    size_t size() const { return addrs_.size(); }
    size_t good_count(int64_t now_ms) const;
    size_t bucket_count() const { return buckets_.size(); }

private:
    struct Bucket {
        std::vector<Node> nodes, replacements;
        int64_t changed_ms = 0;
    };
    size_t index_of(const NodeId& id) const;
    void split_last();
    bool insert(const Node& n, int64_t now_ms, bool verified);
    Node* find(const NodeAddr& a, size_t* bucket = nullptr);

    NodeId self_;
    std::vector<Bucket> buckets_;
    std::unordered_set<NodeAddr, NodeAddrHash> addrs_;  // addresses in buckets (not replacements)
};

}  // namespace btl::dht
