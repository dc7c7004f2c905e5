#include "btl/ext/ut_pex.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "btl/core/bencode.hpp"

namespace btl {

namespace {

Error bad(const std::string& what) { return make_error("ut_pex: " + what); }

// One address family's keys and entry size.
struct Family {
    const char* added;
    const char* flags;
    const char* dropped;
    bool v6;
    size_t step() const { return v6 ? 18 : 6; }
};
constexpr Family kV4{"added", "added.f", "dropped", false};
constexpr Family kV6{"added6", "added6.f", "dropped6", true};

// A compact list under `key` ("" when absent), checked for size and bound.
Result<std::string_view> compact_field(BNode root, const char* key, size_t step) {
    BNode n = root.find(key);
    if (!n) return std::string_view();
    if (!n.is_string()) return bad(std::string(key) + " is not a string");
    std::string_view s = n.string();
    if (s.size() % step)
        return bad(std::string(key) + " length " + std::to_string(s.size()) + " is not a multiple of " +
                   std::to_string(step));
    if (s.size() / step > kMaxPexEntries)
        return bad(std::string(key) + " has " + std::to_string(s.size() / step) + " peers (limit " +
                   std::to_string(kMaxPexEntries) + ")");
    return s;
}

// The entry at the front of `p`; port 0 (or an address inet_ntop refuses) = none.
bool read_entry(const unsigned char* p, bool v6, PeerEndpoint& ep) {
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, p, text, sizeof text)) return false;
    ep.ip = text;
    ep.port = uint16_t(p[v6 ? 16 : 4] << 8 | p[v6 ? 17 : 5]);
    return ep.port != 0;
}

Status read_family(BNode root, const Family& f, PexMessage& m) {
    auto added = compact_field(root, f.added, f.step());
    if (!added) return added.error();
    auto dropped = compact_field(root, f.dropped, f.step());
    if (!dropped) return dropped.error();
    std::string_view flags;
    if (BNode fl = root.find(f.flags)) {
        if (!fl.is_string()) return bad(std::string(f.flags) + " is not a string");
        flags = fl.string();
        if (flags.size() > added->size() / f.step())
            return bad(std::string(f.flags) + " has " + std::to_string(flags.size()) + " flags for " +
                       std::to_string(added->size() / f.step()) + " peers");
    }
    auto u = reinterpret_cast<const unsigned char*>(added->data());
    for (size_t i = 0; i < added->size() / f.step(); ++i) {
        PexPeer p;
        if (!read_entry(u + i * f.step(), f.v6, p.ep)) continue;
        p.flags = i < flags.size() ? uint8_t(flags[i]) : 0;
        m.added.push_back(std::move(p));
    }
    u = reinterpret_cast<const unsigned char*>(dropped->data());
    for (size_t i = 0; i < dropped->size() / f.step(); ++i) {
        PeerEndpoint ep;
        if (read_entry(u + i * f.step(), f.v6, ep)) m.dropped.push_back(std::move(ep));
    }
    return Ok{};
}

// The compact bytes of `ep` for its family; false when it is not of that family.
bool write_entry(const PeerEndpoint& ep, bool v6, std::string& out) {
    unsigned char addr[16];
    if (ep.ip.size() > 45 || inet_pton(v6 ? AF_INET6 : AF_INET, ep.ip.c_str(), addr) != 1) return false;
    out.append(reinterpret_cast<const char*>(addr), v6 ? 16 : 4);
    out += char(ep.port >> 8);
    out += char(ep.port & 0xff);
    return true;
}

}  // namespace

Result<PexMessage> parse_pex(std::string_view payload) {
    if (payload.size() > kMaxPexPayload) return bad(std::to_string(payload.size()) + " bytes is too long");
    DecodeLimits lim;
    lim.max_size = kMaxPexPayload;
    lim.max_depth = 4;
    lim.max_tokens = 200;
    auto doc = decode(payload, lim);
    if (!doc) return bad(doc.error().message);
    BNode root = doc->root();
    if (!root.is_dict()) return bad("not a dictionary");
    PexMessage m;
    for (const Family& f : {kV4, kV6})
        if (Status s = read_family(root, f, m); !s) return s.error();
    return m;
}

std::string encode_pex(const PexMessage& m) {
    std::string a4, f4, d4, a6, f6, d6;
    for (const auto& p : m.added) {
        if (write_entry(p.ep, false, a4))
            f4 += char(p.flags);
        else if (write_entry(p.ep, true, a6))
            f6 += char(p.flags);
    }
    for (const auto& ep : m.dropped)
        if (!write_entry(ep, false, d4)) write_entry(ep, true, d6);
    // Keys in sorted order: added, added.f, added6, added6.f, dropped, dropped6.
    std::string out;
    BEncoder e(out);
    e.begin_dict();
    e.string("added").string(a4);
    if (!f4.empty()) e.string("added.f").string(f4);
    if (!a6.empty()) e.string("added6").string(a6).string("added6.f").string(f6);
    e.string("dropped").string(d4);
    if (!d6.empty()) e.string("dropped6").string(d6);
    e.end();
    return out;
}

}  // namespace btl
