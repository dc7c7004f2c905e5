// Swarm state and announce/scrape answers; see btl/tracker/registry.hpp.
#include "btl/tracker/registry.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <numeric>

#include "btl/core/bencode.hpp"

namespace btl {

// ---- addresses -------------------------------------------------------------

bool PeerAddr::parse(std::string_view text, PeerAddr& out) {
    char buf[64];
    if (text.empty() || text.size() >= sizeof buf) return false;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = 0;
    PeerAddr a;
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return false;
        a.len = 4;
    } else {
        if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return false;
        a.len = 16;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a.bytes.data(), mapped, 12) == 0) {
            std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
            std::memset(a.bytes.data() + 4, 0, 12);
            a.len = 4;
        }
    }
    out = a;
    return true;
}

PeerAddr PeerAddr::from_v4(uint32_t host_order) {
    PeerAddr a;
    a.len = 4;
    a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes[3] = static_cast<uint8_t>(host_order);
    return a;
}

std::string PeerAddr::to_string() const {
    char buf[INET6_ADDRSTRLEN] = "";
    if (len == 4) inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    else if (len == 16) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

bool PeerAddr::is_local() const {
    const uint8_t* b = bytes.data();
    if (len == 4) {
        return b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
               (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    }
    if (len == 16) {
        static const uint8_t loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return std::memcmp(b, loop, 16) == 0 || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
               (b[0] & 0xfe) == 0xfc;
    }
    return false;
}

bool PeerAddr::is_unicast() const {
    const uint8_t* b = bytes.data();
    if (len == 4) return b[0] != 0 && b[0] < 224;  // not 0/8, multicast, reserved or broadcast
    if (len != 16) return false;
    if (b[0] == 0xff) return false;  // multicast
    for (int i = 0; i < 16; ++i)
        if (b[i] != 0) return true;
    return false;  // ::
}

bool PeerAddr::parse_endpoint(std::string_view text, PeerAddr& out, uint16_t& port) {
    std::string_view host = text, port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) return false;
        host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return false;
            port_text = rest.substr(1);
            if (port_text.empty()) return false;
        }
        if (host.find(':') == std::string_view::npos) return false;  // brackets hold IPv6 only
    } else if (const size_t colon = text.find(':');
               colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        host = text.substr(0, colon);  // one colon: IPv4 with a port
        port_text = text.substr(colon + 1);
        if (port_text.empty()) return false;
    }
    uint16_t p = port;
    if (!port_text.empty()) {
        uint32_t v = 0;
        auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
        if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || v == 0 || v > 65535)
            return false;
        p = static_cast<uint16_t>(v);
    }
    PeerAddr a;
    if (!parse(host, a)) return false;
    out = a;
    port = p;
    return true;
}

// ---- hashing ---------------------------------------------------------------

uint64_t keyed_hash(uint64_t seed, const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull);
    auto mix = [](uint64_t x) {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebull;
        return x ^ (x >> 31);
    };
    while (len >= 8) {
        uint64_t k;
        std::memcpy(&k, p, 8);
        h = mix(h ^ k) + seed;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    if (len) std::memcpy(&tail, p, len);  // p may be null when len is 0
    return mix(h ^ tail ^ (uint64_t{len} << 56));
}

// ---- registry --------------------------------------------------------------

namespace {

void append_uint(std::string& out, uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::string_view bytes_view(const uint8_t* p, size_t n) {
    return {reinterpret_cast<const char*>(p), n};
}

}  // namespace

void encode_failure(std::string& out, std::string_view reason) {
    BEncoder(out).begin_dict().string("failure reason").string(reason).end();
}

TrackerRegistry::TrackerRegistry(RegistryConfig cfg, uint64_t seed)
    : cfg_(std::move(cfg)), seed_(seed), rng_(seed ^ 0x2545f4914f6cdd1dull),
      swarms_(0, DigestHash{seed}) {
    if (cfg_.response_size < 0) cfg_.response_size = 0;
}

uint64_t TrackerRegistry::next_random() {
    // splitmix64: fast, and good enough to spread peer selection.
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void TrackerRegistry::add_peer(Swarm& s, const Peer& p) {
    s.peers.push_back(p);
    s.index.emplace(p.id, static_cast<uint32_t>(s.peers.size() - 1));
    if (p.seed) ++s.counts.complete;
    else ++s.counts.incomplete;
    ++total_peers_;
}

void TrackerRegistry::remove_peer(Swarm& s, uint32_t i) {
    Peer& p = s.peers[i];
    if (p.seed) --s.counts.complete;
    else --s.counts.incomplete;
    s.index.erase(p.id);
    if (i + 1 != s.peers.size()) {
        p = s.peers.back();
        s.index[p.id] = i;
    }
    s.peers.pop_back();
    --total_peers_;
}

void TrackerRegistry::announce(const ClientAnnounce& req, int64_t now, std::string& out) {
    auto it = swarms_.find(req.info_hash);
    const bool seed = req.left == 0;
    picked_.clear();

    if (req.event == ClientEvent::stopped) {
        Swarm* s = nullptr;
        if (it != swarms_.end()) {
            s = &it->second;
            auto pi = s->index.find(req.peer_id);
            if (pi != s->index.end()) {
                const Peer& p = s->peers[pi->second];
                if (p.addr == req.addr || (req.has_key && p.has_key && p.key == req.key)) {
                    // aria2 --seed-time=0 never sends "completed": it stops with left=0.
                    if (!p.seed && seed) ++s->counts.downloaded;
                    remove_peer(*s, pi->second);
                }
            }
        }
        encode_answer(s, req, nullptr, out);
        return;
    }

    if (it == swarms_.end()) {
        if (swarms_.size() >= cfg_.max_torrents) {
            encode_failure(out, "tracker is full (too many torrents)");
            return;
        }
        it = swarms_.try_emplace(req.info_hash, seed_).first;
    }
    Swarm& s = it->second;
    const char* warning = nullptr;
    auto pi = s.index.find(req.peer_id);
    if (pi != s.index.end()) {
        Peer& p = s.peers[pi->second];
        const bool same_addr = p.addr == req.addr;
        if (same_addr || (req.has_key && p.has_key && p.key == req.key)) {
            // A known leecher reaching left=0 has completed, whether or not
            // it says so with event=completed (counted once either way).
            if (!p.seed && seed) ++s.counts.downloaded;
            if (p.seed != seed) {
                if (seed) { ++s.counts.complete; --s.counts.incomplete; }
                else { --s.counts.complete; ++s.counts.incomplete; }
            }
            p.seed = seed;
            p.addr = req.addr;
            p.port = req.port;
            p.other = req.other_addr;
            p.other_port = req.other_port;
            if (same_addr) {  // from its own address a peer may change its key
                p.has_key = req.has_key;
                p.key = req.key;
            }
            p.last_seen = now;
        } else {
            warning = "peer id in use from another address; not updated";
        }
    } else if (s.peers.size() >= cfg_.max_peers_per_torrent || total_peers_ >= cfg_.max_total_peers) {
        warning = "swarm is full; you were not added";
    } else {
        add_peer(s, Peer{.id = req.peer_id, .addr = req.addr, .other = req.other_addr, .port = req.port,
                         .other_port = req.other_port, .seed = seed, .has_key = req.has_key, .key = req.key,
                         .last_seen = now});
        if (req.event == ClientEvent::completed) ++s.counts.downloaded;
    }

    size_t want = static_cast<size_t>(cfg_.response_size);
    if (req.numwant >= 0 && static_cast<size_t>(req.numwant) < want) want = static_cast<size_t>(req.numwant);
    select_peers(s, req, seed, want);
    encode_answer(&s, req, warning, out);
}

void TrackerRegistry::select_peers(const Swarm& s, const ClientAnnounce& req, bool requester_seed,
                                   size_t want) {
    const size_t n = s.peers.size();
    if (want == 0 || n == 0) return;
    size_t idx = next_random() % n;
    size_t stride = 1;
    if (n > 2) {
        stride = 1 + next_random() % (n - 1);
        while (std::gcd(stride, n) != 1) stride = stride + 1 < n ? stride + 1 : 1;
    }
    for (size_t visited = 0; visited < n && picked_.size() < want; ++visited) {
        const Peer& p = s.peers[idx];
        const bool self = p.id == req.peer_id || (p.port == req.port && p.addr == req.addr);
        if (!self && !(requester_seed && p.seed)) picked_.push_back(static_cast<uint32_t>(idx));
        idx += stride;
        if (idx >= n) idx -= n;
    }
}

void TrackerRegistry::encode_answer(const Swarm* s, const ClientAnnounce& req, const char* warning,
                                    std::string& out) {
    SwarmCounts c = s ? s->counts : SwarmCounts{};
    BEncoder e(out);
    e.begin_dict();
    e.string("complete").integer(c.complete);
    e.string("downloaded").integer(static_cast<int64_t>(c.downloaded));
    e.string("incomplete").integer(c.incomplete);
    e.string("interval").integer(cfg_.announce_interval);
    e.string("min interval").integer(cfg_.min_interval);
    if (req.compact) {
        // A peer with an endpoint in each family is in both lists.
        size_t v4 = 0, v6 = 0;
        for (uint32_t i : picked_) {
            const Peer& p = s->peers[i];
            for (uint8_t len : {p.addr.len, p.other.len}) {
                if (len == 4) ++v4;
                else if (len == 16) ++v6;
            }
        }
        out.append("5:peers");
        append_uint(out, v4 * 6);
        out.push_back(':');
        for (int pass = 0; pass < 2; ++pass) {
            if (pass == 1) {
                if (v6 == 0) break;
                out.append("6:peers6");
                append_uint(out, v6 * 18);
                out.push_back(':');
            }
            const uint8_t want_len = pass == 0 ? 4 : 16;
            auto put = [&](const PeerAddr& a, uint16_t port) {
                if (a.len != want_len) return;
                out.append(bytes_view(a.bytes.data(), want_len));
                out.push_back(static_cast<char>(port >> 8));
                out.push_back(static_cast<char>(port & 0xff));
            };
            for (uint32_t i : picked_) {
                const Peer& p = s->peers[i];
                put(p.addr, p.port);
                put(p.other, p.other_port);
            }
        }
    } else {
        e.string("peers").begin_list();
        auto put = [&](const Peer& p, const PeerAddr& a, uint16_t port) {
            e.begin_dict().string("ip").string(a.to_string());
            if (!req.no_peer_id) e.string("peer id").string(bytes_view(p.id.data(), p.id.size()));
            e.string("port").integer(port).end();
        };
        for (uint32_t i : picked_) {
            const Peer& p = s->peers[i];
            put(p, p.addr, p.port);
            if (p.other.len) put(p, p.other, p.other_port);
        }
        e.end();
    }
    if (!cfg_.tracker_id.empty()) e.string("tracker id").string(cfg_.tracker_id);
    if (warning) e.string("warning message").string(warning);
    e.end();
}

void TrackerRegistry::scrape(std::span<const Sha1Digest> hashes, bool all, std::string& out) {
    std::vector<const SwarmMap::value_type*> rows;
    if (all) {
        rows.reserve(swarms_.size());
        for (const auto& kv : swarms_) rows.push_back(&kv);
    } else {
        rows.reserve(hashes.size());
        for (const auto& h : hashes) {
            auto it = swarms_.find(h);
            if (it != swarms_.end()) rows.push_back(&*it);
        }
    }
    std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->first < b->first; });
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    BEncoder e(out);
    e.begin_dict().string("files").begin_dict();
    for (const auto* kv : rows) {
        const SwarmCounts& c = kv->second.counts;
        e.string(bytes_view(kv->first.data(), kv->first.size()));
        e.begin_dict()
            .string("complete").integer(c.complete)
            .string("downloaded").integer(static_cast<int64_t>(c.downloaded))
            .string("incomplete").integer(c.incomplete)
            .end();
    }
    e.end().end();
}

size_t TrackerRegistry::expire(int64_t now) {
    size_t dropped = 0;
    for (auto it = swarms_.begin(); it != swarms_.end();) {
        Swarm& s = it->second;
        for (uint32_t i = 0; i < s.peers.size();) {
            if (now - s.peers[i].last_seen > cfg_.peer_timeout) {
                remove_peer(s, i);
                ++dropped;
            } else {
                ++i;
            }
        }
        if (s.peers.empty() && s.counts.downloaded == 0) {
            it = swarms_.erase(it);
            continue;
        }
        if (s.peers.capacity() > 64 && s.peers.size() < s.peers.capacity() / 4) s.peers.shrink_to_fit();
        ++it;
    }
    return dropped;
}

const SwarmCounts* TrackerRegistry::counts(const Sha1Digest& ih) const {
    auto it = swarms_.find(ih);
    return it == swarms_.end() ? nullptr : &it->second.counts;
}

RegistryStats TrackerRegistry::stats() const {
    RegistryStats st;
    st.torrents = swarms_.size();
    for (const auto& [ih, s] : swarms_) {
        st.seeds += s.counts.complete;
        st.leechers += s.counts.incomplete;
        st.downloaded += s.counts.downloaded;
    }
    return st;
}

}  // namespace btl
