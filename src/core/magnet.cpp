#include "btl/core/magnet.hpp"

#include <algorithm>
#include <cctype>

#include "btl/core/metainfo.hpp"

namespace btl {

namespace {

Error bad(const std::string& what) { return make_error("magnet link: " + what); }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Result<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return bad("truncated %-escape");
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return bad("bad %-escape \"" + std::string(s.substr(i, 3)) + "\"");
            out += char(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

bool base32_decode(std::string_view in, Sha1Digest& out) {
    if (in.size() != 32) return false;
    uint64_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (char c : in) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a';
        else if (c >= '2' && c <= '7') v = c - '2' + 26;
        else return false;
        acc = (acc << 5) | uint64_t(v);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = uint8_t(acc >> bits);
            acc &= (uint64_t(1) << bits) - 1;
        }
    }
    return n == 20;
}

Status parse_btih(std::string_view v, MagnetLink& m, bool& have) {
    static constexpr std::string_view kPrefix = "urn:btih:";
    if (v.size() < kPrefix.size()) return Ok{};
    for (size_t i = 0; i < kPrefix.size(); ++i)
        if (char(std::tolower(static_cast<unsigned char>(v[i]))) != kPrefix[i]) return Ok{};  // another urn: ignored
    std::string_view h = v.substr(kPrefix.size());
    Sha1Digest d{};
    if (!(h.size() == 40 && from_hex(h, d)) && !base32_decode(h, d))
        return bad("btih info-hash \"" + std::string(h.substr(0, 64)) + "\" is neither 40 hex digits nor 32 base32 characters");
    if (have && !(d == m.info_hash)) return bad("two different btih info-hashes");
    m.info_hash = d;
    have = true;
    return Ok{};
}

bool parse_port(std::string_view s, uint16_t& port) {
    if (s.empty() || s.size() > 5) return false;
    uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint32_t(c - '0');
    }
    if (v == 0 || v > 65535) return false;
    port = uint16_t(v);
    return true;
}

bool is_ipv4(std::string_view s) {
    int dots = 0, digits = 0, value = 0;
    for (char c : s) {
        if (c == '.') {
            if (digits == 0) return false;
            ++dots;
            digits = value = 0;
        } else if (c >= '0' && c <= '9') {
            if (++digits > 3) return false;
            value = value * 10 + (c - '0');
            if (value > 255) return false;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

bool is_ipv6(std::string_view s) {
    if (s.size() < 2 || s.size() > 45) return false;
    int colons = 0;
    for (char c : s) {
        if (c == ':') ++colons;
        else if (hex_value(c) < 0 && c != '.') return false;
    }
    return colons >= 2 && colons <= 7;
}

// Letters, digits, '-' and '.', 1 to 253 characters, not all digits and dots.
bool is_host_name(std::string_view s) {
    if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
    bool letter = false;
    for (char c : s) {
        if (std::isalpha(static_cast<unsigned char>(c))) letter = true;
        else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
    }
    return letter;
}

Status parse_peer(const std::string& v, MagnetLink& m) {
    PeerEndpoint ep;
    size_t colon;
    if (!v.empty() && v[0] == '[') {
        size_t close = v.find(']');
        if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':')
            return bad("peer \"" + v + "\" is not [IPv6]:port");
        ep.ip = v.substr(1, close - 1);
        colon = close + 1;
        if (!is_ipv6(ep.ip)) return bad("peer \"" + v + "\" has a bad IPv6 address");
    } else {
        colon = v.rfind(':');
        if (colon == std::string::npos) return bad("peer \"" + v + "\" has no port");
        ep.ip = v.substr(0, colon);
    }
    if (!parse_port(std::string_view(v).substr(colon + 1), ep.port)) return bad("peer \"" + v + "\" has a bad port");
    if (m.peers.size() + m.peer_hosts.size() >= kMaxMagnetPeers)
        return bad("more than " + std::to_string(kMaxMagnetPeers) + " x.pe peers");
    if (v[0] != '[' && !is_ipv4(ep.ip)) {
        if (!is_host_name(ep.ip)) return bad("peer \"" + v + "\" is not host:port");
        std::pair<std::string, uint16_t> hp(ep.ip, ep.port);
        if (std::find(m.peer_hosts.begin(), m.peer_hosts.end(), hp) == m.peer_hosts.end()) m.peer_hosts.push_back(hp);
        return Ok{};
    }
    if (std::find(m.peers.begin(), m.peers.end(), ep) == m.peers.end()) m.peers.push_back(ep);
    return Ok{};
}

bool parse_index(std::string_view s, uint32_t& out) {
    if (s.empty() || s.size() > 7) return false;
    uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint32_t(c - '0');
    }
    if (v > kMaxMagnetFileIndex) return false;
    out = v;
    return true;
}

Status parse_select_only(std::string_view v, MagnetLink& m) {
    size_t start = 0;
    while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string_view item = v.substr(start, comma == std::string_view::npos ? v.npos : comma - start);
        uint32_t a = 0, b = 0;
        size_t dash = item.find('-');
        bool ok = dash == item.npos ? parse_index(item, a) && (b = a, true)
                                    : parse_index(item.substr(0, dash), a) && parse_index(item.substr(dash + 1), b) && a <= b;
        if (!ok) return bad("so: \"" + std::string(item.substr(0, 32)) + "\" is not a file index or range");
        if (m.select_only.size() >= kMaxMagnetRanges)
            return bad("so: more than " + std::to_string(kMaxMagnetRanges) + " ranges");
        m.select_only.emplace_back(a, b);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return Ok{};
}

// One key=value pair, already split.
Status take_param(std::string_view key, std::string_view raw, MagnetLink& m, bool& have_hash) {
    if (raw.size() > 3 * kMaxMagnetValue) return bad(std::string(key) + " is too long");
    auto val = percent_decode(raw, key == "dn");
    if (!val) return val.error();
    if (val->size() > kMaxMagnetValue) return bad(std::string(key) + " is too long");
    if (key == "xt") return parse_btih(*val, m, have_hash);
    if (key == "dn") {
        m.name = *val;
        return Ok{};
    }
    if (key == "tr") {
        if (val->empty()) return Ok{};
        if (std::find(m.trackers.begin(), m.trackers.end(), *val) != m.trackers.end()) return Ok{};
        if (m.trackers.size() >= kMaxMagnetTrackers)
            return bad("more than " + std::to_string(kMaxMagnetTrackers) + " trackers");
        m.trackers.push_back(*val);
        return Ok{};
    }
    if (key == "x.pe") return parse_peer(*val, m);
    if (key == "so") return parse_select_only(*val, m);
    return Ok{};
}

}  // namespace

std::string MagnetLink::display_name() const { return name.empty() ? to_hex(info_hash) : name; }

Result<MagnetLink> parse_magnet(std::string_view uri) {
    if (uri.size() > kMaxMagnetLength) return bad("longer than " + std::to_string(kMaxMagnetLength) + " bytes");
    if (!is_magnet_uri(uri)) return bad("does not start with magnet:");
    std::string_view q = uri.substr(7);
    if (q.empty() || q[0] != '?') return bad("no ? after magnet:");
    q.remove_prefix(1);
    MagnetLink m;
    bool have_hash = false;
    size_t start = 0;
    while (start < q.size()) {
        size_t amp = q.find('&', start);
        std::string_view pair = q.substr(start, amp == q.npos ? q.npos : amp - start);
        start = amp == q.npos ? q.size() : amp + 1;
        if (pair.empty()) continue;
        size_t eq = pair.find('=');
        if (eq == pair.npos) continue;  // a bare key carries nothing we use
        std::string_view key = pair.substr(0, eq);
        // Numbered forms (tr.1=, xt.1=) are the same parameter repeated.
        if (size_t dot = key.find('.'); dot != key.npos && key != "x.pe") {
            bool numbered = dot + 1 < key.size();
            for (size_t i = dot + 1; i < key.size(); ++i) numbered = numbered && key[i] >= '0' && key[i] <= '9';
            if (numbered) key = key.substr(0, dot);
        }
        if (Status s = take_param(key, pair.substr(eq + 1), m, have_hash); !s) return s.error();
    }
    if (!have_hash) return make_error("magnet link has no btih info-hash");
    return m;
}

namespace {
std::string encode_component(std::string_view s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '/') {
            out += char(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}
}  // namespace

std::string make_magnet_uri(const MagnetLink& m) {
    std::string out = "magnet:?xt=urn:btih:" + to_hex(m.info_hash);
    if (!m.name.empty()) out += "&dn=" + encode_component(m.name);
    for (const auto& t : m.trackers) out += "&tr=" + encode_component(t);
    for (const auto& p : m.peers) out += "&x.pe=" + encode_component(p.to_string());
    for (const auto& [host, port] : m.peer_hosts) out += "&x.pe=" + encode_component(host + ":" + std::to_string(port));
    if (!m.select_only.empty()) {
        out += "&so=";
        for (size_t i = 0; i < m.select_only.size(); ++i) {
            if (i) out += ',';
            out += std::to_string(m.select_only[i].first);
            if (m.select_only[i].second != m.select_only[i].first)
                out += "-" + std::to_string(m.select_only[i].second);
        }
    }
    return out;
}

Result<MagnetLink> parse_magnet_file_text(std::string_view text) {
    if (text.size() > kMaxMagnetLength + 1024) return bad("the file is too large for one magnet link");
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        std::string_view line = text.substr(start, nl == text.npos ? text.npos : nl - start);
        start = nl == text.npos ? text.size() : nl + 1;
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
        if (!line.empty()) return parse_magnet(line);
    }
    return bad("the file is empty");
}

}  // namespace btl
