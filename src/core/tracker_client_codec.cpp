#include "btl/core/tracker_client_codec.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "btl/core/bencode.hpp"

namespace btl {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

std::string hex8(uint32_t v) {
    static const char* h = "0123456789abcdef";
    std::string s(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) s[size_t(i)] = h[v & 15];
    return s;
}

void put16(std::string& o, uint16_t v) {
    o.push_back(char(v >> 8));
    o.push_back(char(v));
}
void put32(std::string& o, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) o.push_back(char(v >> s));
}
void put64(std::string& o, uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) o.push_back(char(v >> s));
}
uint32_t get32(std::string_view b, size_t at) {
    auto u = reinterpret_cast<const unsigned char*>(b.data() + at);
    return uint32_t(u[0]) << 24 | uint32_t(u[1]) << 16 | uint32_t(u[2]) << 8 | uint32_t(u[3]);
}
uint64_t get64(std::string_view b, size_t at) { return uint64_t(get32(b, at)) << 32 | get32(b, at + 4); }

// Separator to append query parameters to a URL that may already have some.
std::string_view query_sep(std::string_view url) {
    if (url.find('?') == std::string_view::npos) return "?";
    if (!url.empty() && (url.back() == '?' || url.back() == '&')) return "";
    return "&";
}

int64_t non_negative(int64_t v) { return v < 0 ? 0 : v; }

// Canonical text of an IPv4 or IPv6 literal; empty when it is neither.
// inet_pton/inet_ntop are pure conversions (no I/O).
std::string canonical_ip(std::string_view s) {
    if (s.empty() || s.size() > 45) return {};
    char buf[64];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    unsigned char addr[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, buf, addr) == 1) return inet_ntop(AF_INET, addr, out, sizeof out) ? out : "";
    if (inet_pton(AF_INET6, buf, addr) == 1) return inet_ntop(AF_INET6, addr, out, sizeof out) ? out : "";
    return {};
}

std::string ip_text(const unsigned char* p, bool v6) {
    char out[INET6_ADDRSTRLEN];
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, p, out, sizeof out)) return {};
    return out;
}

// Appends compact entries (4 or 16 address bytes + 2 port bytes), dropping
// port 0, up to max_peers in total.
void add_compact(std::vector<PeerEndpoint>& peers, std::string_view data, bool v6, size_t max_peers) {
    size_t step = v6 ? 18 : 6;
    for (size_t i = 0; i + step <= data.size() && peers.size() < max_peers; i += step) {
        auto u = reinterpret_cast<const unsigned char*>(data.data() + i);
        uint16_t port = uint16_t(u[step - 2] << 8 | u[step - 1]);
        if (port == 0) continue;
        std::string ip = ip_text(u, v6);
        if (!ip.empty()) peers.push_back(PeerEndpoint{std::move(ip), port});
    }
}

// Tracker text reaches the user's terminal: control bytes become '?', and
// the length is bounded.
std::string printable(std::string_view s) {
    std::string o;
    for (char c : s.substr(0, 500)) o.push_back((unsigned char)c < 0x20 || c == 0x7F ? '?' : c);
    return o;
}

int64_t clamp_interval(int64_t v) { return std::clamp(v, kMinInterval, kMaxInterval); }

// Counts from the outside world: negative means unknown.
int64_t count_or_unknown(BNode n) {
    if (!n.is_int() || n.int_value() < 0) return -1;
    return n.int_value();
}

}  // namespace

Result<Url> parse_url(std::string_view s) {
    size_t colon = s.find("://");
    if (colon == std::string_view::npos) return make_error("URL has no scheme: " + std::string(s.substr(0, 100)));
    Url u;
    for (char c : s.substr(0, colon)) u.scheme.push_back(lower(c));
    if (u.scheme != "http" && u.scheme != "https" && u.scheme != "udp") {
        return make_error("unsupported URL scheme \"" + u.scheme.substr(0, 20) + "\"");
    }
    std::string_view rest = s.substr(colon + 3);
    size_t hash = rest.find('#');
    if (hash != std::string_view::npos) rest = rest.substr(0, hash);
    size_t auth_end = rest.find_first_of("/?");
    std::string_view auth = rest.substr(0, auth_end);
    std::string_view path = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
    for (unsigned char c : s) {
        if (c <= 0x20 || c == 0x7F) return make_error("URL contains a space or control character");
    }
    if (auth.find('@') != std::string_view::npos) return make_error("URL with user info is not supported");
    std::string_view host, port;
    bool has_port = false;
    if (!auth.empty() && auth[0] == '[') {
        size_t close = auth.find(']');
        if (close == std::string_view::npos) return make_error("URL has an unterminated IPv6 address");
        host = auth.substr(1, close - 1);
        std::string_view after = auth.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return make_error("URL has junk after the IPv6 address");
            port = after.substr(1);
            has_port = true;
        }
        if (canonical_ip(host).empty() || host.find(':') == std::string_view::npos) {
            return make_error("URL has an invalid IPv6 address");
        }
    } else {
        size_t c = auth.rfind(':');
        if (c != std::string_view::npos) {
            host = auth.substr(0, c);
            port = auth.substr(c + 1);
            has_port = true;
        } else {
            host = auth;
        }
        if (host.find(':') != std::string_view::npos) return make_error("URL has an IPv6 address without brackets");
    }
    if (host.empty()) return make_error("URL has no host");
    if (has_port) {
        if (port.empty() || port.size() > 5) return make_error("URL has an invalid port");
        uint32_t v = 0;
        for (char c : port) {
            if (c < '0' || c > '9') return make_error("URL has an invalid port");
            v = v * 10 + uint32_t(c - '0');
        }
        if (v == 0 || v > 65535) return make_error("URL port " + std::string(port) + " is out of range");
        u.port = uint16_t(v);
    } else if (u.scheme == "udp") {
        return make_error("udp tracker URL needs a port");
    } else {
        u.port = u.scheme == "https" ? 443 : 80;
    }
    u.host = std::string(host);
    if (path.empty()) {
        u.path = "/";
    } else if (path[0] == '?') {
        u.path = "/" + std::string(path);
    } else {
        u.path = std::string(path);
    }
    return u;
}

std::string url_encode(std::string_view bytes) {
    static const char* h = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 3);
    for (unsigned char c : bytes) {
        if (is_unreserved(c)) {
            out.push_back(char(c));
        } else {
            out.push_back('%');
            out.push_back(h[c >> 4]);
            out.push_back(h[c & 15]);
        }
    }
    return out;
}

std::string PeerEndpoint::to_string() const {
    if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + std::to_string(port);
    return ip + ":" + std::to_string(port);
}

std::string build_announce_url(std::string_view announce_url, const AnnounceRequest& r) {
    std::string u(announce_url);
    u += query_sep(announce_url);
    u += "info_hash=";
    u += url_encode(std::string_view(reinterpret_cast<const char*>(r.info_hash.data()), r.info_hash.size()));
    u += "&peer_id=";
    u += url_encode(std::string_view(reinterpret_cast<const char*>(r.peer_id.data()), r.peer_id.size()));
    u += "&port=" + std::to_string(r.port);
    u += "&uploaded=" + std::to_string(non_negative(r.uploaded));
    u += "&downloaded=" + std::to_string(non_negative(r.downloaded));
    u += "&left=" + std::to_string(non_negative(r.left));
    u += "&compact=1&no_peer_id=1";
    switch (r.event) {
        case AnnounceEvent::started: u += "&event=started"; break;
        case AnnounceEvent::completed: u += "&event=completed"; break;
        case AnnounceEvent::stopped: u += "&event=stopped"; break;
        case AnnounceEvent::none: break;
    }
    if (r.numwant >= 0) u += "&numwant=" + std::to_string(r.numwant);
    u += "&key=" + hex8(r.key);
    if (!r.tracker_id.empty()) u += "&trackerid=" + url_encode(r.tracker_id);
    if (!r.ip.empty()) u += "&ip=" + url_encode(r.ip);
    if (!r.ipv6.empty()) u += "&ipv6=" + url_encode(r.ipv6);
    return u;
}

Result<AnnounceResponse> parse_announce_response(std::string_view body, size_t max_peers) {
    auto doc = decode(body);
    if (!doc) return make_error("tracker response is not bencoded: " + doc.error().describe());
    BNode root = doc->root();
    if (!root.is_dict()) return make_error("tracker response is not a dictionary");
    AnnounceResponse r;
    if (BNode f = root.find("failure reason")) {
        r.failure_reason = f.is_string() ? printable(f.string()) : "(failure reason is not a string)";
        if (r.failure_reason.empty()) r.failure_reason = "(empty failure reason)";
        return r;
    }
    if (BNode w = root.find_string("warning message")) r.warning_message = printable(w.string());
    if (BNode t = root.find_string("tracker id")) r.tracker_id = std::string(t.string());
    if (BNode i = root.find_int("interval")) {
        r.raw_interval = i.int_value();
        r.interval = clamp_interval(i.int_value());
    }
    if (BNode m = root.find_int("min interval")) r.min_interval = std::clamp<int64_t>(m.int_value(), 0, kMaxInterval);
    r.complete = count_or_unknown(root.find("complete"));
    r.incomplete = count_or_unknown(root.find("incomplete"));

    BNode peers = root.find("peers");
    if (peers.is_string()) {
        std::string_view d = peers.string();
        if (d.size() % 6 != 0) {
            return make_error("compact peers length " + std::to_string(d.size()) + " is not a multiple of 6");
        }
        add_compact(r.peers, d, false, max_peers);
    } else if (peers.is_list()) {
        for (BNode e : peers.list_items()) {
            if (r.peers.size() >= max_peers) break;
            if (!e.is_dict()) continue;
            BNode ip = e.find_string("ip");
            BNode port = e.find_int("port");
            if (!ip || !port || port.int_value() <= 0 || port.int_value() > 65535) continue;
            std::string text = canonical_ip(ip.string());
            if (text.empty()) continue;
            r.peers.push_back(PeerEndpoint{std::move(text), uint16_t(port.int_value())});
        }
    } else if (peers) {
        return make_error("tracker response \"peers\" is neither a string nor a list");
    }
    if (BNode p6 = root.find("peers6")) {
        if (!p6.is_string()) return make_error("tracker response \"peers6\" is not a string");
        std::string_view d = p6.string();
        if (d.size() % 18 != 0) {
            return make_error("compact peers6 length " + std::to_string(d.size()) + " is not a multiple of 18");
        }
        add_compact(r.peers, d, true, max_peers);
    }
    return r;
}

std::optional<std::string> scrape_url_for(std::string_view announce_url) {
    size_t q = announce_url.find('?');
    std::string_view before = announce_url.substr(0, q);
    size_t slash = before.rfind('/');
    size_t scheme = before.find("://");
    if (slash == std::string_view::npos || (scheme != std::string_view::npos && slash < scheme + 3)) return std::nullopt;
    if (before.substr(slash + 1, 8) != "announce") return std::nullopt;
    std::string out(announce_url.substr(0, slash + 1));
    out += "scrape";
    out += announce_url.substr(slash + 9);
    return out;
}

std::string build_scrape_url(std::string_view scrape_url, const std::vector<Sha1Digest>& hashes) {
    std::string u(scrape_url);
    std::string_view sep = query_sep(scrape_url);
    for (const auto& h : hashes) {
        u += sep;
        u += "info_hash=";
        u += url_encode(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
        sep = "&";
    }
    return u;
}

Result<std::vector<std::pair<Sha1Digest, ScrapeEntry>>> parse_scrape_response(std::string_view body) {
    auto doc = decode(body);
    if (!doc) return make_error("scrape response is not bencoded: " + doc.error().describe());
    BNode root = doc->root();
    if (!root.is_dict()) return make_error("scrape response is not a dictionary");
    if (BNode f = root.find_string("failure reason")) return make_error("tracker failure: " + printable(f.string()));
    BNode files = root.find_dict("files");
    if (!files) return make_error("scrape response has no \"files\" dictionary");
    std::vector<std::pair<Sha1Digest, ScrapeEntry>> out;
    for (auto [key, val] : files.dict_items()) {
        if (key.size() != 20 || !val.is_dict()) continue;
        Sha1Digest h;
        std::memcpy(h.data(), key.data(), 20);
        ScrapeEntry e;
        e.complete = non_negative(val.find_int("complete").int_value());
        e.incomplete = non_negative(val.find_int("incomplete").int_value());
        e.downloaded = non_negative(val.find_int("downloaded").int_value());
        out.emplace_back(h, e);
    }
    return out;
}

// ---- UDP ----

std::string udp_connect_request(uint32_t transaction_id) {
    std::string o;
    put64(o, kUdpProtocolId);
    put32(o, kUdpConnect);
    put32(o, transaction_id);
    return o;
}

std::string udp_announce_request(uint64_t connection_id, uint32_t transaction_id, const AnnounceRequest& r) {
    std::string o;
    o.reserve(98);
    put64(o, connection_id);
    put32(o, kUdpAnnounce);
    put32(o, transaction_id);
    o.append(reinterpret_cast<const char*>(r.info_hash.data()), 20);
    o.append(reinterpret_cast<const char*>(r.peer_id.data()), 20);
    put64(o, uint64_t(non_negative(r.downloaded)));
    put64(o, uint64_t(non_negative(r.left)));
    put64(o, uint64_t(non_negative(r.uploaded)));
    uint32_t ev = 0;
    switch (r.event) {
        case AnnounceEvent::none: ev = 0; break;
        case AnnounceEvent::completed: ev = 1; break;
        case AnnounceEvent::started: ev = 2; break;
        case AnnounceEvent::stopped: ev = 3; break;
    }
    put32(o, ev);
    put32(o, 0);  // ip: the tracker takes the source address
    put32(o, r.key);
    put32(o, r.numwant < 0 ? 0xFFFFFFFFu : uint32_t(r.numwant));
    put16(o, r.port);
    return o;
}

std::string udp_scrape_request(uint64_t connection_id, uint32_t transaction_id, const std::vector<Sha1Digest>& hashes) {
    std::string o;
    put64(o, connection_id);
    put32(o, kUdpScrape);
    put32(o, transaction_id);
    size_t n = std::min(hashes.size(), kUdpMaxScrapeHashes);
    for (size_t i = 0; i < n; ++i) o.append(reinterpret_cast<const char*>(hashes[i].data()), 20);
    return o;
}

Result<UdpResponse> parse_udp_response(std::string_view p, bool ipv6, size_t max_peers) {
    if (p.size() < 8) return make_error("UDP tracker packet of " + std::to_string(p.size()) + " bytes is too short");
    UdpResponse r;
    r.action = get32(p, 0);
    r.transaction_id = get32(p, 4);
    switch (r.action) {
        case kUdpConnect:
            if (p.size() < 16) return make_error("UDP connect response of " + std::to_string(p.size()) + " bytes");
            r.connection_id = get64(p, 8);
            return r;
        case kUdpAnnounce: {
            if (p.size() < 20) return make_error("UDP announce response of " + std::to_string(p.size()) + " bytes");
            int64_t interval = get32(p, 8);
            r.announce.raw_interval = interval;
            r.announce.interval = clamp_interval(interval);
            r.announce.incomplete = get32(p, 12);
            r.announce.complete = get32(p, 16);
            std::string_view peers = p.substr(20);
            size_t step = ipv6 ? 18 : 6;
            if (peers.size() % step != 0) {
                return make_error("UDP announce peer list of " + std::to_string(peers.size()) +
                                  " bytes is not a multiple of " + std::to_string(step));
            }
            add_compact(r.announce.peers, peers, ipv6, max_peers);
            return r;
        }
        case kUdpScrape: {
            std::string_view d = p.substr(8);
            if (d.size() % 12 != 0) {
                return make_error("UDP scrape response of " + std::to_string(p.size()) + " bytes");
            }
            for (size_t i = 0; i < d.size(); i += 12) {
                ScrapeEntry e;
                e.complete = get32(d, i);
                e.downloaded = get32(d, i + 4);
                e.incomplete = get32(d, i + 8);
                r.scrape.push_back(e);
            }
            return r;
        }
        case kUdpError: {
            // Printable text only: it ends up on the user's terminal.
            r.error = printable(p.substr(8, 300));
            if (r.error.empty()) r.error = "(no message)";
            return r;
        }
        default: return make_error("unknown UDP tracker action " + std::to_string(r.action));
    }
}

}  // namespace btl
