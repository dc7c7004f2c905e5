// HTTP routes of the tracker; see btl/tracker/service.hpp.
#include "btl/tracker/service.hpp"

#include <charconv>
#include <cstring>

#include "btl/core/bencode.hpp"

namespace btl {

namespace {

// Percent-decodes a short parameter value; false if malformed or too long.
bool decode_small(std::string_view raw, char (&buf)[128], std::string_view& out) {
    size_t len = 0;
    if (!percent_decode(raw, buf, sizeof buf, len)) return false;
    out = {buf, len};
    return true;
}

bool parse_int(std::string_view raw, int64_t lo, int64_t hi, int64_t& out) {
    char buf[128];
    std::string_view s;
    if (!decode_small(raw, buf, s) || s.empty()) return false;
    int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < lo || v > hi) return false;
    out = v;
    return true;
}

bool decode_20(std::string_view raw, uint8_t* out) {
    char buf[128];
    std::string_view s;
    if (!decode_small(raw, buf, s) || s.size() != 20) return false;
    std::memcpy(out, s.data(), 20);
    return true;
}

void append_uint(std::string& out, uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

const char* status_text(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

void append_head(std::string& out, int status, const char* type, size_t length, bool keep_alive,
                 int version_minor) {
    out.append("HTTP/1.1 ");
    append_uint(out, static_cast<uint64_t>(status));
    out.push_back(' ');
    out.append(status_text(status));
    out.append("\r\nContent-Type: ");
    out.append(type);
    out.append("\r\nContent-Length: ");
    append_uint(out, length);
    if (!keep_alive) out.append("\r\nConnection: close");
    else if (version_minor == 0) out.append("\r\nConnection: keep-alive");
    out.append("\r\n\r\n");
}

}  // namespace

const char* parse_announce_query(std::string_view query, const PeerAddr& remote, bool honour_ip,
                                 ClientAnnounce& out, bool honour_other_family) {
    out = ClientAnnounce{};
    out.addr = remote;
    bool have_hash = false, have_id = false, have_port = false;
    // BEP 7 ipv6= / ipv4=: the first usable value of each (libtorrent sends
    // one ipv6= per address); port 0 = the same as `port`.
    PeerAddr other6, other4;
    uint16_t other6_port = 0, other4_port = 0;
    const char* err = nullptr;
    auto bad = [&err](const char* why) { if (!err) err = why; };
    for_each_query_param(query, [&](std::string_view k, std::string_view v) {
        int64_t n = 0;
        if (k == "info_hash") {
            if (!decode_20(v, out.info_hash.data())) bad("info_hash must be 20 bytes");
            have_hash = true;
        } else if (k == "peer_id") {
            if (!decode_20(v, out.peer_id.data())) bad("peer_id must be 20 bytes");
            have_id = true;
        } else if (k == "port") {
            if (!parse_int(v, 1, 65535, n)) bad("invalid port");
            out.port = static_cast<uint16_t>(n);
            have_port = true;
        } else if (k == "uploaded") {
            if (!parse_int(v, 0, INT64_MAX, out.uploaded)) bad("invalid uploaded");
        } else if (k == "downloaded") {
            if (!parse_int(v, 0, INT64_MAX, out.downloaded)) bad("invalid downloaded");
        } else if (k == "left") {
            if (!parse_int(v, 0, INT64_MAX, out.left)) bad("invalid left");
        } else if (k == "numwant") {
            if (!parse_int(v, -1, INT64_MAX, n)) bad("invalid numwant");
            out.numwant = n > 1000000 ? 1000000 : static_cast<int>(n);
        } else if (k == "compact") {
            out.compact = v == "1";
        } else if (k == "no_peer_id") {
            out.no_peer_id = v == "1";
        } else if (k == "event") {
            if (v == "started") out.event = ClientEvent::started;
            else if (v == "completed") out.event = ClientEvent::completed;
            else if (v == "stopped") out.event = ClientEvent::stopped;
            else if (v.empty() || v == "empty" || v == "paused") out.event = ClientEvent::none;
            else bad("invalid event");
        } else if (k == "key") {
            char buf[128];
            std::string_view s;
            if (!decode_small(v, buf, s)) bad("invalid key");
            out.has_key = !s.empty();
            out.key = keyed_hash(0x6b6579, s.data(), s.size());
        } else if (k == "ip" && honour_ip) {
            char buf[128];
            std::string_view s;
            PeerAddr a;
            // A hostname or garbage is ignored rather than fatal: the
            // connection address is still a usable answer.
            if (decode_small(v, buf, s) && PeerAddr::parse(s, a)) out.addr = a;
        } else if ((k == "ipv6" || k == "ipv4") && honour_other_family) {
            char buf[128];
            std::string_view s;
            PeerAddr a;
            uint16_t port = 0;
            // Like ip=, a bad value is ignored: the announce itself is fine.
            // Only an address others could dial, and a local-network one
            // only from a local network (a peer on the Internet cannot be
            // reached at one).
            const bool v6 = k == "ipv6";
            PeerAddr& slot = v6 ? other6 : other4;
            if (!slot.len && decode_small(v, buf, s) && PeerAddr::parse_endpoint(s, a, port) &&
                a.len == (v6 ? 16 : 4) && a.is_unicast() && (!a.is_local() || remote.is_local())) {
                slot = a;
                (v6 ? other6_port : other4_port) = port;
            }
        }
    });
    // Only the family the announce did not come over.
    const PeerAddr& other = out.addr.len == 4 ? other6 : other4;
    if (other.len) {
        out.other_addr = other;
        const uint16_t p = out.addr.len == 4 ? other6_port : other4_port;
        out.other_port = p ? p : out.port;
    }
    if (err) return err;
    if (!have_hash) return "missing info_hash";
    if (!have_id) return "missing peer_id";
    if (!have_port) return "missing port";
    return nullptr;
}

TrackerService::TrackerService(TrackerRegistry& reg, ServiceConfig cfg) : reg_(reg), cfg_(cfg) {
    body_.reserve(4096);
}

void TrackerService::error_response(int status, const char* reason, std::string& out) {
    size_t len = std::strlen(reason) + 1;
    append_head(out, status, "text/plain", len, false, 1);
    out.append(reason);
    out.push_back('\n');
}

bool TrackerService::handle(const HttpRequest& req, const PeerAddr& remote, int64_t now, std::string& out) {
    const bool head = req.method == "HEAD";
    if (req.method != "GET" && !head) {
        error_response(405, "only GET and HEAD are supported", out);
        return false;
    }
    body_.clear();
    const char* type = "text/plain";
    int status = 200;
    if (req.path == "/announce") {
        announce(req, remote, now);
    } else if (req.path == "/scrape") {
        scrape(req);
    } else if (req.path == "/" || req.path == "/index.html") {
        status_page();
    } else {
        status = 404;
        body_ = "not found\n";
    }
    append_head(out, status, type, body_.size(), req.keep_alive, req.version_minor);
    if (!head) out.append(body_);
    return req.keep_alive;
}

void TrackerService::announce(const HttpRequest& req, const PeerAddr& remote, int64_t now) {
    ++announces_;
    ClientAnnounce ar;
    const bool honour_ip = !cfg_.only_local_override_ip || remote.is_local();
    if (const char* why = parse_announce_query(req.query, remote, honour_ip, ar, cfg_.other_family_ip)) {
        encode_failure(body_, why);
        return;
    }
    if (allowed_ && !allowed_->count(ar.info_hash)) {
        if (on_unknown_torrent) on_unknown_torrent();
        encode_failure(body_, "torrent not allowed");
        return;
    }
    reg_.announce(ar, now, body_);
}

void TrackerService::scrape(const HttpRequest& req) {
    ++scrapes_;
    if (cfg_.scrape == ScrapeMode::none) {
        encode_failure(body_, "scrape is not allowed");
        return;
    }
    scrape_hashes_.clear();
    const char* err = nullptr;
    for_each_query_param(req.query, [&](std::string_view k, std::string_view v) {
        if (k != "info_hash") return;
        Sha1Digest d;
        if (!decode_20(v, d.data())) err = "info_hash must be 20 bytes";
        else scrape_hashes_.push_back(d);
    });
    if (err) {
        encode_failure(body_, err);
        return;
    }
    const bool all = scrape_hashes_.empty();
    if (all && cfg_.scrape == ScrapeMode::specific) {
        encode_failure(body_, "full scrape is not allowed; name an info_hash");
        return;
    }
    reg_.scrape(scrape_hashes_, all, body_);
}

void TrackerService::status_page() {
    RegistryStats st = reg_.stats();
    body_.append("bttrack\ntorrents: ");
    append_uint(body_, st.torrents);
    body_.append("  seeds: ");
    append_uint(body_, st.seeds);
    body_.append("  leechers: ");
    append_uint(body_, st.leechers);
    body_.append("  downloaded: ");
    append_uint(body_, st.downloaded);
    body_.push_back('\n');
    if (status_extra) status_extra(body_);
    body_.append("\ninfo_hash                                 seeds  leechers  downloaded  name\n");
    size_t rows = 0;
    reg_.for_each_swarm([&](const Sha1Digest& ih, const SwarmCounts& c) {
        if (rows++ >= cfg_.status_rows) return;
        body_.append(to_hex(ih));
        for (uint64_t v : {uint64_t{c.complete}, uint64_t{c.incomplete}, c.downloaded}) {
            body_.push_back(' ');
            body_.push_back(' ');
            append_uint(body_, v);
        }
        if (allowed_) {
            auto it = allowed_->find(ih);
            if (it != allowed_->end()) {
                body_.push_back(' ');
                body_.push_back(' ');
                for (char ch : it->second) body_.push_back(static_cast<unsigned char>(ch) < 0x20 ? '?' : ch);
            }
        }
        body_.push_back('\n');
    });
    if (rows > cfg_.status_rows) body_.append("...\n");
}

}  // namespace btl
