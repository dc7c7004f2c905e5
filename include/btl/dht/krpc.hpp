// KRPC (BEP 5): the bencoded messages of the mainline DHT, decoded and
// encoded.  Pure: no sockets, no clock.
//
// Contract:
//  - decode_krpc() is strict and bounded: a packet is at most kMaxPacket
//    bytes, nesting at most 4 levels, at most 512 bencode items; ids, info
//    hashes and targets are exactly 20 bytes; transaction ids at most 16
//    bytes, tokens at most 64; `nodes` a multiple of 26 bytes (at most 64
//    nodes), `values` 6-byte strings (at most 200).  Anything else is an
//    error naming what was wrong, and the packet is dropped.
//  - A query that is well formed KRPC but lacks an argument its method needs
//    decodes with method = invalid (the server answers error 203); an
//    unknown method decodes with method = unknown (error 204).  Both keep
//    the transaction id so the error can be answered.
//  - encode_krpc() writes the canonical form (sorted keys); decoding what it
//    wrote gives back the same message.
//
// Addresses are IPv4 (BEP 32, IPv6, is not implemented), kept in host order.
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

struct NodeAddr {
    uint32_t ip = 0;  // host order
    uint16_t port = 0;
    bool operator==(const NodeAddr& o) const { return ip == o.ip && port == o.port; }
    bool operator!=(const NodeAddr& o) const { return !(*this == o); }
    bool operator<(const NodeAddr& o) const { return ip != o.ip ? ip < o.ip : port < o.port; }
    uint64_t key() const { return uint64_t(ip) << 16 | port; }
    std::string ip_string() const;  // "1.2.3.4"
    std::string to_string() const;  // "1.2.3.4:6881"
};
// Parses "1.2.3.4" (no names); false otherwise.
bool parse_ipv4(std::string_view s, uint32_t& ip);

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
};

Result<KrpcMessage> decode_krpc(std::string_view packet);
std::string encode_krpc(const KrpcMessage& m);

// Compact forms: node info (26 bytes) and peer info (6 bytes).
void append_compact(std::string& out, const NodeAddr& a);
void append_compact(std::string& out, const NodeEntry& n);
NodeAddr read_compact_addr(const char* p);  // 6 bytes

}  // namespace btl::dht
