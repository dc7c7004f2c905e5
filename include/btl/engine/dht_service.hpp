// DhtService: the session's mainline DHT (BEP 5).  It binds the DHT node
// (dht/dht_node, pure) to the UDP socket on the listen port (net/udp_socket,
// datagrams starting 'd'), to the loop's clock, to the data dir (the routing
// table and our node id, saved atomically on the thread pool every 10
// minutes and at shutdown, read back at the next start) and to the torrents.
//
// Contract:
//  - start(): opens UDP on the listen port, loads DATA_DIR/dht.dat, joins
//    the DHT from the saved nodes; only when they give fewer than 8 good
//    nodes (or there are none) are the --dht_bootstrap nodes used.  Their
//    names are resolved on the thread pool (net/resolve), never on the loop.
//  - Torrents take turns: at most kAnnounceSlots announces run at once, at
//    most kLookupsPerSecond start per second (a token bucket, bursts of a
//    few), and the node's global query budget bounds packets per second, so
//    10,000 torrents queue instead of looking up at once and an idle
//    session's DHT traffic does not grow with its torrents: past
//    kLookupsPerSecond x 15 min of them (1,800), a round takes longer than
//    the interval and each torrent announces less often (libtorrent spaces
//    its DHT announces likewise: the interval over the torrent count, at
//    least a second apart).  Each torrent announces again after 15-30 min
//    (random, so they spread), or after 1 min doubling to 15 min when no
//    node answered.  Peers found go to Hooks::on_peers.
//  - get_peers()/announce() are for callers that want peers for an info hash
//    (a magnet link's metadata fetch); cancel() drops the callbacks.
//  - BEP 32: one DHT node per address family the socket has (an IPv4 and
//    an IPv6 node sharing our id, each with its own routing table).  Every
//    lookup (a torrent's announce, get_peers for a magnet) runs on both and
//    ends when both have; peers of both families go to the torrent.  The
//    --dht_bootstrap entries are sorted by family: "[v6]:port" literals go
//    to the IPv6 node, and a name is looked up for both families.  dht.dat
//    holds both tables ("nodes", "nodes6").
//  - Everything runs on the loop thread; stop() saves, closes, then `done`.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/rate.hpp"
#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/core/tracker_client_codec.hpp"
#include "btl/dht/dht_node.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/net/udp_socket.hpp"

namespace btl {

class DhtService {
public:
    static constexpr size_t kAnnounceSlots = 4;
    static constexpr double kLookupsPerSecond = 2;
    static constexpr int64_t kTickMs = 200;
    using PeersFn = std::function<void(const std::vector<PeerEndpoint>&)>;
    struct Hooks {
        std::function<bool(const Sha1Digest&)> wants_peers;  // running and public
        std::function<void(const Sha1Digest&, const std::vector<PeerEndpoint>&)> on_peers;
        std::function<void(LogLevel, const std::string&)> log;
    };

    DhtService(uv_loop_t* loop, const SessionOptions& opt, std::string data_dir, Hooks hooks, uint64_t seed);
    ~DhtService();
    DhtService(const DhtService&) = delete;
    DhtService& operator=(const DhtService&) = delete;

    Status start(uint16_t port);
    // On a socket shared with others (uTP): routes the 'd' datagrams.
    Status start(std::shared_ptr<UdpSocket> sock);
    void stop(std::function<void()> done);

    void add_torrent(const Sha1Digest& ih);
    void remove_torrent(const Sha1Digest& ih);

    uint64_t get_peers(const Sha1Digest& ih, PeersFn peers, std::function<void(size_t)> done = nullptr);
    uint64_t announce(const Sha1Digest& ih, PeersFn peers, std::function<void(size_t)> done = nullptr);
    void cancel(uint64_t lookup);
    // A peer's BEP 5 `port` message: its DHT node is worth a ping.
    void add_node(const std::string& ip, uint16_t port);

    uint16_t port() const { return sock_ ? sock_->port() : 0; }
    // Nodes in both routing tables; nodes6(): the IPv6 table's share.
    size_t nodes() const { return nodes4() + nodes6(); }
    size_t nodes4() const { return node_ ? node_->table().size() : 0; }
    size_t nodes6() const { return node6_ ? node6_->table().size() : 0; }
    // The IPv4 node and the IPv6 node (BEP 32); either may be null.
    const dht::DhtNode* node() const { return node_.get(); }
    const dht::DhtNode* node6() const { return node6_.get(); }
    // Datagrams both nodes received and sent.
    uint64_t packets_in() const;
    uint64_t packets_out() const;
    std::string state_file() const { return data_dir_ + "/dht.dat"; }

private:
    struct Entry {
        int64_t due_ms = 0;
        uint64_t lookup = 0;
        int fails = 0;
    };
    int64_t now() const { return int64_t(uv_now(loop_)); }
    void on_tick();
    void run_announces();
    void announced(const Sha1Digest& ih, size_t responded);
    void schedule(const Sha1Digest& ih, Entry& e, int64_t due);
    void bootstrap_from_routers();
    void bootstrap_nodes(const std::vector<dht::NodeAddr>& routers);
    void save(std::function<void()> done);
    // ---- BEP 32: both nodes
    using NodePeersFn = std::function<void(const std::vector<dht::NodeAddr>&)>;
    struct Multi;
    std::unique_ptr<dht::DhtNode> make_node(const dht::NodeId& id, bool v6);
    std::vector<dht::DhtNode*> running_nodes() const;
    size_t table_size() const { return nodes(); }
    uint64_t start_lookup(bool announce, const Sha1Digest& ih, NodePeersFn peers, std::function<void(size_t)> done);
    void on_datagram(const sockaddr* from, std::string_view data);

    uv_loop_t* loop_;
    SessionOptions opt_;
    std::string data_dir_;
    Hooks hooks_;
    std::mt19937_64 rng_;
    std::shared_ptr<UdpSocket> sock_;
    std::unique_ptr<dht::DhtNode> node_;
    UvHandle<uv_timer_t> timer_;
    std::map<Sha1Digest, Entry> torrents_;
    std::set<std::pair<int64_t, Sha1Digest>> due_;
    size_t running_ = 0;
    TokenBucket lookup_budget_{kLookupsPerSecond, 2.0};  // announces started per second
    bool bootstrapping_ = false;
    int64_t last_save_ms_ = 0, last_bootstrap_ms_ = -1;
    JobOwner jobs_;
    // ---- BEP 32: the IPv6 node and the lookups that span both nodes
    std::unique_ptr<dht::DhtNode> node6_;
    std::map<uint64_t, std::shared_ptr<Multi>> multis_;
    uint64_t next_multi_ = 1;
};

}  // namespace btl
