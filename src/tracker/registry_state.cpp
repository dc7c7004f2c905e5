// The --dfile image of TrackerRegistry: save() and load().
//
// Layout (bencoded, keys sorted):
//   d 8:torrents d <20-byte info-hash> d 10:downloaded i..e
//                  5:peers l d [6:alt ip <16|4 raw bytes> 8:alt port i..e]
//                            2:id <20> 2:ip <4|16 raw bytes> [3:key i..e]
//                            4:port i..e 4:seed i0|1e 4:seen i<unix s>e e ... e e ...
//     7:version i1e e
// Load is all-or-nothing: any structural error leaves the registry as it was,
// so the caller can warn and carry on with an empty tracker.
#include <algorithm>
#include <cstring>

#include "btl/tracker/registry.hpp"

#include "btl/core/bencode.hpp"

namespace btl {

std::string TrackerRegistry::save() const {
    std::vector<const SwarmMap::value_type*> rows;
    rows.reserve(swarms_.size());
    for (const auto& kv : swarms_) rows.push_back(&kv);
    std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->first < b->first; });

    std::string out;
    out.reserve(64 + total_peers_ * 96 + swarms_.size() * 64);
    BEncoder e(out);
    e.begin_dict().string("torrents").begin_dict();
    for (const auto* kv : rows) {
        const Swarm& s = kv->second;
        e.string({reinterpret_cast<const char*>(kv->first.data()), kv->first.size()});
        e.begin_dict().string("downloaded").integer(static_cast<int64_t>(s.counts.downloaded));
        e.string("peers").begin_list();
        for (const Peer& p : s.peers) {
            e.begin_dict();
            if (p.other.len) {  // BEP 7: the endpoint in the other family
                e.string("alt ip").string({reinterpret_cast<const char*>(p.other.bytes.data()), p.other.len});
                e.string("alt port").integer(p.other_port);
            }
            e.string("id").string({reinterpret_cast<const char*>(p.id.data()), p.id.size()});
            e.string("ip").string({reinterpret_cast<const char*>(p.addr.bytes.data()), p.addr.len});
            if (p.has_key) e.string("key").integer(static_cast<int64_t>(p.key));
            e.string("port").integer(p.port);
            e.string("seed").integer(p.seed ? 1 : 0);
            e.string("seen").integer(p.last_seen);
            e.end();
        }
        e.end().end();
    }
    e.end().string("version").integer(1).end();
    return out;
}

Status TrackerRegistry::load(std::string_view image, int64_t now) {
    DecodeLimits lim;
    lim.max_size = size_t{1} << 31;
    lim.max_tokens = 64u << 20;
    auto doc = decode(image, lim);
    if (!doc) return make_error("not bencoded: " + doc.error().describe());
    BNode root = doc->root();
    if (!root.is_dict()) return make_error("not a dictionary");
    if (root.find_int("version").int_value() != 1) return make_error("unknown version");
    BNode torrents = root.find_dict("torrents");
    if (!torrents) return make_error("no torrents dictionary");

    SwarmMap swarms(0, DigestHash{seed_});
    size_t total = 0;
    for (auto [key, tv] : torrents.dict_items()) {
        if (key.size() != 20 || !tv.is_dict()) return make_error("bad torrent entry");
        BNode dl = tv.find_int("downloaded");
        BNode peers = tv.find_list("peers");
        if (!dl || dl.int_value() < 0 || !peers) return make_error("bad torrent entry");
        if (swarms.size() >= cfg_.max_torrents) break;
        Sha1Digest ih;
        std::memcpy(ih.data(), key.data(), 20);
        Swarm& s = swarms.try_emplace(ih, seed_).first->second;
        s.counts.downloaded = static_cast<uint64_t>(dl.int_value());
        for (BNode pn : peers.list_items()) {
            BNode id = pn.find_string("id"), ip = pn.find_string("ip"), port = pn.find_int("port");
            BNode seed = pn.find_int("seed"), seen = pn.find_int("seen"), k = pn.find_int("key");
            if (!pn.is_dict() || id.string().size() != 20 || !seed || !seen || !port ||
                (ip.string().size() != 4 && ip.string().size() != 16) || port.int_value() < 1 ||
                port.int_value() > 65535)
                return make_error("bad peer entry");
            // Compared this way round: `now - seen` overflows for a seen
            // time near INT64_MIN in a damaged file.
            if (seen.int_value() < now - cfg_.peer_timeout) continue;
            if (s.peers.size() >= cfg_.max_peers_per_torrent || total >= cfg_.max_total_peers) continue;
            Peer p{};
            std::memcpy(p.id.data(), id.string().data(), 20);
            if (s.index.count(p.id)) continue;
            p.addr.len = static_cast<uint8_t>(ip.string().size());
            std::memcpy(p.addr.bytes.data(), ip.string().data(), p.addr.len);
            p.port = static_cast<uint16_t>(port.int_value());
            p.seed = seed.int_value() != 0;
            p.has_key = static_cast<bool>(k);
            p.key = static_cast<uint64_t>(k.int_value());
            p.last_seen = seen.int_value();
            BNode alt = pn.find_string("alt ip"), alt_port = pn.find_int("alt port");
            if (alt || alt_port) {
                const size_t n = alt.string().size();
                if ((n != 4 && n != 16) || n == p.addr.len || !alt_port || alt_port.int_value() < 1 ||
                    alt_port.int_value() > 65535)
                    return make_error("bad peer entry");
                p.other.len = static_cast<uint8_t>(n);
                std::memcpy(p.other.bytes.data(), alt.string().data(), n);
                p.other_port = static_cast<uint16_t>(alt_port.int_value());
            }
            s.peers.push_back(p);
            s.index.emplace(p.id, static_cast<uint32_t>(s.peers.size() - 1));
            (p.seed ? s.counts.complete : s.counts.incomplete)++;
            ++total;
        }
        if (s.peers.empty() && s.counts.downloaded == 0) swarms.erase(ih);
    }
    swarms_.swap(swarms);
    total_peers_ = total;
    return Ok{};
}

}  // namespace btl
