// The tracker's HTTP semantics, with no sockets: one parsed request in, one
// complete HTTP response out.  Routes: /announce, /scrape, / (status page).
//
// Contract:
// - Protocol errors a BitTorrent client can act on (missing info_hash,
//   info_hash not 20 bytes, invalid port, torrent not allowed, ...) are
//   answered "200 OK" with a bencoded "failure reason", as trackers do.
//   HTTP-level errors (unknown path, method other than GET/HEAD, malformed
//   request) get a 4xx status; error_response() builds them for the server.
// - The peer address is the connection's address.  The `ip` parameter is
//   honoured only when it is a numeric address and the connection comes
//   from a local network (loopback, RFC 1918, link-local, ULA) — a proxy or
//   LAN setup — unless only_local_override_ip is off.  That stops a remote
//   client from pointing a swarm at a third party's address.
// - BEP 7's `ipv6=` (on an announce over IPv4) and `ipv4=` (over IPv6), as
//   ADDR, [ADDR]:PORT or V4ADDR:PORT, give the peer a second endpoint in the
//   other family, served in "peers6"/"peers" (other_family_ip, default on).
//   A value that does not parse, names the family the announce came over,
//   is not unicast, or is a local-network address sent from outside one, is
//   ignored.  BEP 7 now discourages these parameters (a peer can name a
//   victim's address); the damage is bounded by one extra endpoint per peer
//   entry, and --other_family_ip 0 turns them off.
// - Every response carries Content-Length; keep-alive follows the request.
// - Buffers are reused between requests, so steady-state announces do not
//   allocate.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "btl/tracker/allowed_dir.hpp"
#include "btl/net/http_request.hpp"
#include "btl/tracker/registry.hpp"

namespace btl {

enum class ScrapeMode : uint8_t { full, specific, none };

struct ServiceConfig {
    bool only_local_override_ip = true;
    ScrapeMode scrape = ScrapeMode::full;
    size_t status_rows = 1000;  // torrents listed on the status page
    bool other_family_ip = true;  // BEP 7: honour ipv6= over IPv4, ipv4= over IPv6
};

// Parses an announce query.  Returns nullptr on success or the failure
// reason to send.
// honour_other_family: take BEP 7's ipv6= (announce over IPv4) and ipv4=
// (over IPv6) as the peer's endpoint in the other family.
const char* parse_announce_query(std::string_view query, const PeerAddr& remote, bool honour_ip,
                                 ClientAnnounce& out, bool honour_other_family = true);

class TrackerService {
public:
    TrackerService(TrackerRegistry& reg, ServiceConfig cfg = {});

    // nullptr: every torrent is allowed.
    void set_allowed(std::shared_ptr<const AllowedMap> allowed) { allowed_ = std::move(allowed); }
    const AllowedMap* allowed() const { return allowed_.get(); }
    // Called (synchronously) when an announce names a torrent not in the
    // allowed set, so the owner can rescan the directory (rate-limited).
    std::function<void()> on_unknown_torrent;
    // Appends extra lines (e.g. connection counts) to the status page.
    std::function<void(std::string&)> status_extra;

    // Appends one complete response; returns whether the connection may
    // stay open for another request.
    bool handle(const HttpRequest& req, const PeerAddr& remote, int64_t now, std::string& out);

    // A response with `status`, a one-line text body, and Connection: close.
    static void error_response(int status, const char* reason, std::string& out);

    uint64_t announces() const { return announces_; }
    uint64_t scrapes() const { return scrapes_; }

private:
    void announce(const HttpRequest& req, const PeerAddr& remote, int64_t now);
    void scrape(const HttpRequest& req);
    void status_page();

    TrackerRegistry& reg_;
    ServiceConfig cfg_;
    std::shared_ptr<const AllowedMap> allowed_;
    std::string body_;  // reused
    std::vector<Sha1Digest> scrape_hashes_;
    uint64_t announces_ = 0;
    uint64_t scrapes_ = 0;
};

}  // namespace btl
