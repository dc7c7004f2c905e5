// NodeAddr: a DHT node's or peer's address, IPv4 or IPv6 (BEP 32), and its
// compact forms.
#include <arpa/inet.h>

#include <cstring>

#include "btl/dht/krpc.hpp"

namespace btl::dht {

namespace {

bool is_v4_mapped(const Ip6& a) {
    for (int i = 0; i < 10; ++i)
        if (a[size_t(i)]) return false;
    return a[10] == 0xff && a[11] == 0xff;
}

}  // namespace

bool NodeAddr::operator<(const NodeAddr& o) const {
    if (v6 != o.v6) return !v6;
    if (v6 && ip6 != o.ip6) return ip6 < o.ip6;
    return ip != o.ip ? ip < o.ip : port < o.port;
}

uint64_t NodeAddr::key() const {
    if (!v6) return uint64_t(ip) << 16 | port;
    // FNV-1a over the 16 address bytes and the port, top bit set so it
    // never equals an IPv4 key.
    uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](uint8_t b) { h = (h ^ b) * 0x100000001b3ULL; };
    for (uint8_t b : ip6) mix(b);
    mix(uint8_t(port >> 8));
    mix(uint8_t(port));
    return h | 1ULL << 63;
}

bool NodeAddr::usable() const {
    if (port == 0) return false;
    if (!v6) return ip != 0;
    if (is_v4_mapped(ip6)) return false;
    for (uint8_t b : ip6)
        if (b) return true;
    return false;
}

std::string NodeAddr::ip_string() const {
    if (v6) {
        char buf[INET6_ADDRSTRLEN] = {};
        inet_ntop(AF_INET6, ip6.data(), buf, sizeof buf);
        return buf;
    }
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) +
           "." + std::to_string(ip & 255);
}

std::string NodeAddr::to_string() const {
    return (v6 ? "[" + ip_string() + "]" : ip_string()) + ":" + std::to_string(port);
}

bool parse_ipv4(std::string_view s, uint32_t& ip) {
    uint32_t v = 0;
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
        uint32_t octet = 0;
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 4) octet = octet * 10 + uint32_t(s[i++] - '0');
        if (octet > 255 || i - start > 3) return false;
        v = v << 8 | octet;
        ++parts;
        if (parts < 4) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
    }
    if (i != s.size()) return false;
    ip = v;
    return true;
}

bool parse_ipv6(std::string_view s, Ip6& ip) {
    if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return false;
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, s.data(), s.size());
    return inet_pton(AF_INET6, buf, ip.data()) == 1;
}

bool parse_node_ip(std::string_view s, uint16_t port, NodeAddr& out) {
    uint32_t v4 = 0;
    Ip6 v6{};
    if (parse_ipv4(s, v4)) {
        out = NodeAddr{v4, port};
        return true;
    }
    if (!parse_ipv6(s, v6)) return false;
    out = NodeAddr::make6(v6, port);
    return true;
}

void append_compact(std::string& out, const NodeAddr& a) {
    if (a.v6) {
        out.append(reinterpret_cast<const char*>(a.ip6.data()), a.ip6.size());
    } else {
        char b[4] = {char(a.ip >> 24), char(a.ip >> 16), char(a.ip >> 8), char(a.ip)};
        out.append(b, 4);
    }
    char p[2] = {char(a.port >> 8), char(a.port)};
    out.append(p, 2);
}

void append_compact(std::string& out, const NodeEntry& n) {
    out.append(reinterpret_cast<const char*>(n.id.data()), kIdLen);
    append_compact(out, n.addr);
}

NodeAddr read_compact_addr(const char* p) {
    auto u = [p](int i) { return uint32_t(uint8_t(p[i])); };
    NodeAddr a;
    a.ip = u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
    a.port = uint16_t(u(4) << 8 | u(5));
    return a;
}

NodeAddr read_compact_addr6(const char* p) {
    NodeAddr a;
    a.v6 = true;
    std::memcpy(a.ip6.data(), p, 16);
    a.port = uint16_t(uint32_t(uint8_t(p[16])) << 8 | uint8_t(p[17]));
    return a;
}

}  // namespace btl::dht
