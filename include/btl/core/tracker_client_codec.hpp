// The client half of the tracker protocol (bttrack's server half lives in
// tracker/): encoding announces and parsing answers, pure (no sockets): URLs, HTTP
// announce and scrape (BEP 3, compact peers BEP 23, IPv6 peers BEP 7,
// scrape convention BEP 48) and UDP trackers (BEP 15).
//
// Everything a tracker sends is hostile: lengths are checked, peer lists are
// capped at max_peers, entries with port 0 or unparsable addresses are
// dropped (so are dictionary peers naming a host instead of an IP literal:
// we dial addresses, not names), numbers are range-checked in 64 bit.  The
// announce interval is clamped to [kMinInterval, kMaxInterval] so a tracker
// can neither make us hammer it nor go silent for weeks; the raw value is
// kept in raw_interval.  A "failure reason" is a successful parse with
// failure_reason set: the caller reports it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"

namespace btl {

struct Url {
    std::string scheme;  // "http", "https" or "udp" (lowercase)
    std::string host;    // without brackets for IPv6 literals
    uint16_t port = 0;
    std::string path;    // path + query, at least "/"
};

// http/https (default ports 80/443), udp (port required).  Userinfo and
// fragments are rejected / dropped respectively.
Result<Url> parse_url(std::string_view url);

// Unreserved characters (A-Z a-z 0-9 - . _ ~) kept, everything else %XX.
std::string url_encode(std::string_view bytes);

struct PeerEndpoint {
    std::string ip;  // text form: "1.2.3.4" or "2001:db8::1"
    uint16_t port = 0;
    bool operator==(const PeerEndpoint& o) const { return ip == o.ip && port == o.port; }
    // "1.2.3.4:6881" or "[::1]:6881"
    std::string to_string() const;
};

enum class AnnounceEvent { none, started, completed, stopped };

struct AnnounceRequest {
    Sha1Digest info_hash{};
    std::array<uint8_t, 20> peer_id{};
    uint16_t port = 0;
    int64_t uploaded = 0, downloaded = 0, left = 0;
    AnnounceEvent event = AnnounceEvent::none;
    int numwant = 50;
    uint32_t key = 0;
    std::string tracker_id;  // echoed from a previous response
    std::string ip;          // optional "ip" parameter
    // IPv6: our IPv6 address, sent as "ipv6" (BEP 7) when not empty
    std::string ipv6;
};

// announce_url + "?" (or "&" when it already has a query) + parameters,
// including compact=1 and no_peer_id=1; key as 8 hex digits.
std::string build_announce_url(std::string_view announce_url, const AnnounceRequest& req);

// A tracker's interval is kept within [1 min, 4 h]: an interval of 0 must not
// make every client hammer it, a huge one must not silence us for weeks.
constexpr int64_t kMinInterval = 60;
constexpr int64_t kMaxInterval = 4 * 3600;

struct AnnounceResponse {
    std::string failure_reason, warning_message, tracker_id;
    int64_t interval = 1800, min_interval = 0;  // seconds, clamped
    int64_t raw_interval = -1;                  // as sent, -1 when absent
    int64_t complete = -1, incomplete = -1;     // -1 when unknown
    std::vector<PeerEndpoint> peers;
};

// Errors: "tracker response is not bencoded: ...", "tracker response is not
// a dictionary", "compact peers length N is not a multiple of 6", ...
Result<AnnounceResponse> parse_announce_response(std::string_view body, size_t max_peers = 1000);

// BEP 48: an announce URL whose last path component is "announce" maps to
// "scrape" (query kept); otherwise scraping is not supported: nullopt.
std::optional<std::string> scrape_url_for(std::string_view announce_url);
std::string build_scrape_url(std::string_view scrape_url, const std::vector<Sha1Digest>& hashes);

struct ScrapeEntry {
    int64_t complete = 0, incomplete = 0, downloaded = 0;
    bool operator==(const ScrapeEntry& o) const {
        return complete == o.complete && incomplete == o.incomplete && downloaded == o.downloaded;
    }
};
// A "failure reason" response is an error carrying that reason.
Result<std::vector<std::pair<Sha1Digest, ScrapeEntry>>> parse_scrape_response(std::string_view body);

// ---- UDP trackers (BEP 15) ----

constexpr uint64_t kUdpProtocolId = 0x41727101980ull;
enum UdpAction : uint32_t { kUdpConnect = 0, kUdpAnnounce = 1, kUdpScrape = 2, kUdpError = 3 };

std::string udp_connect_request(uint32_t transaction_id);
// 98 bytes; ip field 0 (the tracker uses the source address), key, numwant
// (-1 when req.numwant < 0), port.
std::string udp_announce_request(uint64_t connection_id, uint32_t transaction_id, const AnnounceRequest& req);
// At most 74 hashes fit a datagram; extra hashes are not sent.
std::string udp_scrape_request(uint64_t connection_id, uint32_t transaction_id,
                               const std::vector<Sha1Digest>& hashes);
constexpr size_t kUdpMaxScrapeHashes = 74;

struct UdpResponse {
    uint32_t action = 0;          // UdpAction
    uint32_t transaction_id = 0;  // the caller matches it to its request
    uint64_t connection_id = 0;   // connect
    AnnounceResponse announce;    // announce (interval, leechers, seeders, peers)
    std::vector<ScrapeEntry> scrape;
    std::string error;            // action 3: the tracker's message
};
// ipv6: the announce came over IPv6, so peers are 18-byte entries.
Result<UdpResponse> parse_udp_response(std::string_view packet, bool ipv6 = false, size_t max_peers = 1000);

}  // namespace btl
