// KRPC (BEP 5): the bencoded messages of the mainline DHT, decoded and
// encoded.  Pure: no sockets, no clock.
//
// Contract:
//  - decode_krpc() is strict and bounded: a packet is at most kMaxPacket
//    bytes, nesting at most 4 levels, at most 512 bencode items; ids, info
//    hashes and targets are exactly 20 bytes; transaction ids at most 16
//    bytes, tokens at most 64; `nodes` a multiple of 26 bytes (at most 64
//    nodes), `values` 6-byte (IPv4) or 18-byte (IPv6) strings (at most
//    200).  Anything else is an error naming what was wrong, and the packet
//    is dropped.
//  - BEP 32 (IPv6): `nodes6` holds 38-byte entries (at most 64).  A nodes6
//    whose length is not a multiple of 38 is ignored (the rest of the
//    message stands); entries with an IPv4-mapped, unspecified or zero-port
//    address are left out, and so are such values.  `want` (a list of "n4",
//    "n6") is read into want bits; other strings in it are ignored.
//  - A query that is well formed KRPC but lacks an argument its method needs
//    decodes with method = invalid (the server answers error 203); an
//    unknown method decodes with method = unknown (error 204).  Both keep
//    the transaction id so the error can be answered.
//  - encode_krpc() writes the canonical form (sorted keys); decoding what it
//    wrote gives back the same message.
//
// Addresses are IPv4 (host order) or IPv6 (network byte order), BEP 32.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"

namespace btl::dht {

constexpr size_t kMaxPacket = 1500;
constexpr size_t kIdLen = 20;
using NodeId = std::array<uint8_t, kIdLen>;

using Ip6 = std::array<uint8_t, 16>;

struct NodeAddr {
    uint32_t ip = 0;  // host order (IPv4)
    uint16_t port = 0;
    // ---- IPv6 (BEP 32): when v6, ip6 is the address and ip is 0
    bool v6 = false;
    Ip6 ip6{};

    static NodeAddr make6(const Ip6& a, uint16_t port) { return NodeAddr{0, port, true, a}; }
    bool operator==(const NodeAddr& o) const { return ip == o.ip && port == o.port && v6 == o.v6 && ip6 == o.ip6; }
    bool operator!=(const NodeAddr& o) const { return !(*this == o); }
    bool operator<(const NodeAddr& o) const;
    // A 64-bit digest of the address: exact for IPv4 (ip and port), a hash
    // for IPv6 (for hash tables: equality still compares the whole address).
    uint64_t key() const;
    // A nonzero port and an address a node can have: not 0.0.0.0, not ::,
    // not an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
    bool usable() const;
    std::string ip_string() const;  // "1.2.3.4", "2001:db8::1"
    std::string to_string() const;  // "1.2.3.4:6881", "[2001:db8::1]:6881"
};
struct NodeAddrHash {
    size_t operator()(const NodeAddr& a) const { return size_t(a.key()); }
};
// Parses "1.2.3.4" (no names); false otherwise.
bool parse_ipv4(std::string_view s, uint32_t& ip);
// Parses "2001:db8::1" (no brackets, no names); false otherwise.
bool parse_ipv6(std::string_view s, Ip6& ip);
// Either family: an IPv4 or IPv6 literal plus a port.
bool parse_node_ip(std::string_view s, uint16_t port, NodeAddr& out);

struct NodeEntry {
    NodeId id{};
    NodeAddr addr;
};

enum class MsgKind : uint8_t { query, response, error };
enum class Method : uint8_t { none, ping, find_node, get_peers, announce_peer, unknown, invalid };
const char* method_name(Method m);

// KRPC error codes (BEP 5).
enum : int { kErrGeneric = 201, kErrServer = 202, kErrProtocol = 203, kErrMethod = 204 };

struct KrpcMessage {
    MsgKind kind = MsgKind::query;
    std::string tid;            // transaction id, 1-16 bytes
    // ---- queries
    Method method = Method::none;
    NodeId id{};                // the sender's id (queries and responses)
    NodeId target{};            // find_node target, get_peers/announce_peer info_hash
    uint16_t port = 0;          // announce_peer
    bool implied_port = false;  // announce_peer: use the packet's source port
    bool read_only = false;     // BEP 43: the sender does not answer queries
    std::string token;          // announce_peer query, get_peers response
    // ---- responses
    std::vector<NodeEntry> nodes;
    std::vector<NodeAddr> values;
    // ---- errors, and why a query is invalid
    int error_code = 0;
    std::string error_msg;
    // ---- BEP 32 (IPv6)
    std::vector<NodeEntry> nodes6;  // responses: IPv6 nodes (38-byte entries)
    uint8_t want = 0;               // queries: kWantN4 | kWantN6; 0 = not sent
};
enum : uint8_t { kWantN4 = 1, kWantN6 = 2 };

Result<KrpcMessage> decode_krpc(std::string_view packet);
std::string encode_krpc(const KrpcMessage& m);

// Compact forms: node info (26 bytes; 38 for IPv6) and peer info (6 bytes;
// 18 for IPv6), the family the address's own.
void append_compact(std::string& out, const NodeAddr& a);
void append_compact(std::string& out, const NodeEntry& n);
NodeAddr read_compact_addr(const char* p);   // 6 bytes
NodeAddr read_compact_addr6(const char* p);  // 18 bytes

}  // namespace btl::dht
