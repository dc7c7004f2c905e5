#include "btl/engine/dht_service.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

#include "btl/base/atomic_file.hpp"
#include "btl/net/resolve.hpp"

namespace btl {

namespace {

dht::NodeId to_node_id(const Sha1Digest& d) {
    dht::NodeId id;
    std::copy(d.begin(), d.end(), id.begin());
    return id;
}

std::vector<PeerEndpoint> to_endpoints(const std::vector<dht::NodeAddr>& peers) {
    std::vector<PeerEndpoint> out;
    out.reserve(peers.size());
    for (const auto& p : peers) out.push_back(PeerEndpoint{p.ip_string(), p.port});
    return out;
}

// "host:port,host:port" -> pairs; entries without a valid port are skipped.
std::vector<std::pair<std::string, uint16_t>> parse_bootstrap(const std::string& list) {
    std::vector<std::pair<std::string, uint16_t>> out;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto colon = item.rfind(':');
        if (colon == std::string::npos || colon == 0) continue;
        int port = std::atoi(item.c_str() + colon + 1);
        if (port < 1 || port > 65535) continue;
        std::string host = item.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        out.emplace_back(host, uint16_t(port));
    }
    return out;
}

dht::NodeAddr from_sockaddr(const sockaddr* sa) {
    if (sa->sa_family == AF_INET6) {
        const auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
        dht::Ip6 a;
        std::memcpy(a.data(), &s6->sin6_addr, 16);
        return dht::NodeAddr::make6(a, ntohs(s6->sin6_port));
    }
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    return dht::NodeAddr{ntohl(sin->sin_addr.s_addr), ntohs(sin->sin_port)};
}

sockaddr_storage to_sockaddr(const dht::NodeAddr& a) {
    sockaddr_storage ss{};
    if (a.v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        std::memcpy(&s6->sin6_addr, a.ip6.data(), 16);
        s6->sin6_port = htons(a.port);
    } else {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(a.ip);
        sin->sin_port = htons(a.port);
    }
    return ss;
}

}  // namespace

DhtService::DhtService(uv_loop_t* loop, const SessionOptions& opt, std::string data_dir, Hooks hooks, uint64_t seed)
    : loop_(loop), opt_(opt), data_dir_(std::move(data_dir)), hooks_(std::move(hooks)), rng_(seed) {}

DhtService::~DhtService() = default;

Status DhtService::start(uint16_t port) {
    auto sock = std::make_shared<UdpSocket>(loop_);
    if (int rc = sock->open(opt_.bind_ip, port); rc != 0)
        return make_error("DHT: cannot open UDP port " + std::to_string(port) + ": " + uv_strerror(rc));
    return start(std::move(sock));
}

// A lookup that runs on both nodes (BEP 32): done once each has ended.
struct DhtService::Multi {
    uint64_t ids[2] = {0, 0};  // the IPv4 node's lookup, the IPv6 node's
    int left = 0;
    size_t responded = 0;
    std::function<void(size_t)> done;
};

std::unique_ptr<dht::DhtNode> DhtService::make_node(const dht::NodeId& id, bool v6) {
    dht::DhtConfig cfg;
    cfg.ipv6 = v6;
    return std::make_unique<dht::DhtNode>(id, cfg, [this](const dht::NodeAddr& to, std::string_view pkt) {
        sockaddr_storage sa = to_sockaddr(to);
        if (sock_) sock_->send(reinterpret_cast<const sockaddr*>(&sa), pkt);  // closed by stop(): dropped
    }, rng_());
}

std::vector<dht::DhtNode*> DhtService::running_nodes() const {
    std::vector<dht::DhtNode*> out;
    for (auto* n : {node_.get(), node6_.get()})
        if (n) out.push_back(n);
    return out;
}

uint64_t DhtService::packets_in() const {
    uint64_t n = 0;
    for (auto* d : running_nodes()) n += d->stats().packets_in;
    return n;
}

uint64_t DhtService::packets_out() const {
    uint64_t n = 0;
    for (auto* d : running_nodes()) n += d->stats().packets_out;
    return n;
}

// Each node gets the datagrams of its family; an IPv4-mapped source on the
// IPv6 socket is the IPv6 node's to refuse (counted as malformed).
void DhtService::on_datagram(const sockaddr* from, std::string_view data) {
    dht::DhtNode* n = from->sa_family == AF_INET6 ? node6_.get() : from->sa_family == AF_INET ? node_.get() : nullptr;
    if (n) n->on_packet(from_sockaddr(from), data, now());
}

Status DhtService::start(std::shared_ptr<UdpSocket> sock) {
    sock_ = std::move(sock);
    // The saved state: our id and the nodes we knew (a few KB, read once
    // before any torrent runs).
    dht::SavedState saved;
    std::ifstream in(state_file(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool have_saved = !data.empty() && dht::decode_saved(data, saved);
    if (!have_saved)
        for (auto& b : saved.id) b = uint8_t(rng_());
    if (sock_->has_family(AF_INET)) node_ = make_node(saved.id, false);
    if (sock_->has_family(AF_INET6)) node6_ = make_node(saved.id, true);
    if (!node_ && !node6_) return make_error("DHT: the UDP socket is not open");
    if (node_ && node6_) {
        node_->set_other(node6_.get());
        node6_->set_other(node_.get());
    }
    sock_->route('d', [this](const sockaddr* from, std::string_view d) { on_datagram(from, d); });
    for (auto* n : running_nodes()) n->tick(now());
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    timer_->data = this;
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
        if (auto* s = static_cast<DhtService*>(t->data)) s->on_tick();
    }, kTickMs, kTickMs);
    last_save_ms_ = now();
    std::string fams = node_ && node6_ ? " (IPv4 and IPv6)" : node6_ ? " (IPv6 only)" : "";
    size_t n_saved = (node_ ? saved.nodes.size() : 0) + (node6_ ? saved.nodes6.size() : 0);
    if (have_saved && n_saved > 0) {
        if (node_) node_->add_saved(saved.nodes, now());
        if (node6_) node6_->add_saved(saved.nodes6, now());
        if (hooks_.log)
            hooks_.log(LogLevel::info, "DHT on UDP port " + std::to_string(sock_->port()) + fams + ": joining from " +
                                           std::to_string(n_saved) + " saved nodes");
        bootstrapping_ = true;
        auto left = std::make_shared<int>(0);
        for (auto* n : running_nodes()) {
            ++*left;
            uint64_t id = n->bootstrap({}, now(), [this, left](size_t) {
                if (--*left > 0) return;
                bootstrapping_ = false;
                // Too few good nodes in either table: the routers too.
                for (auto* x : running_nodes())
                    if (x->table().good_count(now()) < dht::RoutingTable::K) return bootstrap_from_routers();
            });
            if (!id) --*left;
        }
        if (*left == 0) bootstrapping_ = false;
    } else {
        if (hooks_.log) hooks_.log(LogLevel::info, "DHT on UDP port " + std::to_string(sock_->port()) + fams);
        bootstrap_from_routers();
    }
    return Ok{};
}

// A name is looked up once per family we run (BEP 32: a router's AAAA
// record joins the IPv6 DHT); literals go to the node of their family.
void DhtService::bootstrap_from_routers() {
    auto list = parse_bootstrap(opt_.dht_bootstrap);
    last_bootstrap_ms_ = now();
    if (list.empty()) return;
    bootstrapping_ = true;
    struct Gather {
        size_t left = 0;
        std::vector<dht::NodeAddr> addrs;
    };
    auto g = std::make_shared<Gather>();
    std::vector<std::string> prefer;  // resolve_address prefers the family of this "bind" address
    if (node_) prefer.push_back("");
    if (node6_) prefer.push_back("::");
    g->left = list.size() * prefer.size();
    auto alive = jobs_.token();
    for (const auto& [host, port] : list)
        for (const auto& fam : prefer) {
            std::string name = host;
            resolve_address(loop_, host, port, SOCK_DGRAM, fam, [this, g, alive, name](Result<sockaddr_storage> r) {
                if (alive.expired()) return;
                if (r.ok() && (r->ss_family == AF_INET || r->ss_family == AF_INET6)) {
                    dht::NodeAddr a = from_sockaddr(reinterpret_cast<const sockaddr*>(&*r));
                    if (std::find(g->addrs.begin(), g->addrs.end(), a) == g->addrs.end()) g->addrs.push_back(a);
                } else if (hooks_.log)
                    hooks_.log(LogLevel::debug, "DHT bootstrap node " + name + ": " +
                                                    (r.ok() ? std::string("not an IP address") : r.error().message));
                if (--g->left > 0 || !sock_) return;
                bootstrap_nodes(g->addrs);
            });
        }
}

void DhtService::bootstrap_nodes(const std::vector<dht::NodeAddr>& routers) {
    auto left = std::make_shared<size_t>(0), answered = std::make_shared<size_t>(0);
    for (auto* n : running_nodes()) {
        std::vector<dht::NodeAddr> mine;
        for (const auto& a : routers)
            if (a.v6 == n->ipv6()) mine.push_back(a);
        if (mine.empty() && n->table().size() == 0) continue;
        ++*left;
        uint64_t id = n->bootstrap(mine, now(), [this, left, answered](size_t responded) {
            *answered += responded;
            if (--*left > 0) return;
            bootstrapping_ = false;
            if (hooks_.log)
                hooks_.log(LogLevel::info, "DHT bootstrap: " + std::to_string(*answered) + " nodes answered, " +
                                               std::to_string(nodes4()) + " IPv4 and " + std::to_string(nodes6()) +
                                               " IPv6 nodes in the tables");
        });
        if (!id) --*left;
    }
    if (*left == 0) bootstrapping_ = false;
}

void DhtService::on_tick() {
    int64_t t = now();
    for (auto* n : running_nodes()) n->tick(t);
    run_announces();
    // Empty tables (every node gone, or the network was down): try the
    // bootstrap nodes again every minute; one family's table empty (a host
    // whose IPv6 reaches nowhere, say): every 15 minutes.
    bool one_empty = false;
    for (auto* n : running_nodes()) one_empty |= n->table().size() == 0;
    int64_t every = table_size() == 0 ? 60'000 : 15 * 60'000;
    if (one_empty && !bootstrapping_ && t - last_bootstrap_ms_ >= every) bootstrap_from_routers();
    if (t - last_save_ms_ >= 10 * 60'000) {
        last_save_ms_ = t;
        save(nullptr);
    }
}

void DhtService::schedule(const Sha1Digest& ih, Entry& e, int64_t due) {
    due_.erase({e.due_ms, ih});
    e.due_ms = due;
    due_.insert({due, ih});
}

void DhtService::add_torrent(const Sha1Digest& ih) {
    auto [it, fresh] = torrents_.try_emplace(ih);
    if (!fresh) return;
    it->second.due_ms = now();
    due_.insert({it->second.due_ms, ih});
}

void DhtService::remove_torrent(const Sha1Digest& ih) {
    auto it = torrents_.find(ih);
    if (it == torrents_.end()) return;
    due_.erase({it->second.due_ms, ih});
    if (it->second.lookup) {
        cancel(it->second.lookup);
        --running_;
    }
    torrents_.erase(it);
}

void DhtService::run_announces() {
    int64_t t = now();
    lookup_budget_.refill(t);
    while (running_ < kAnnounceSlots && !due_.empty() && due_.begin()->first <= t && table_size() > 0) {
        Sha1Digest ih = due_.begin()->second;
        const bool wanted = !hooks_.wants_peers || hooks_.wants_peers(ih);
        if (wanted && lookup_budget_.available() < 1) break;  // paced: the rest wait for tokens
        due_.erase(due_.begin());
        Entry& e = torrents_[ih];
        if (!wanted) {  // paused: look again later
            e.due_ms = t + 60'000;
            due_.insert({e.due_ms, ih});
            continue;
        }
        e.due_ms = -1;
        ++running_;
        lookup_budget_.force_consume(1);
        e.lookup = start_lookup(
            true, ih,
            [this, ih](const std::vector<dht::NodeAddr>& peers) {
                if (hooks_.on_peers) hooks_.on_peers(ih, to_endpoints(peers));
            },
            [this, ih](size_t responded) { announced(ih, responded); });
        if (!e.lookup) {  // the node's queue is full: later
            --running_;
            schedule(ih, e, t + 60'000);
        }
    }
}

void DhtService::announced(const Sha1Digest& ih, size_t responded) {
    --running_;
    auto it = torrents_.find(ih);
    if (it == torrents_.end()) return;
    Entry& e = it->second;
    e.lookup = 0;
    int64_t t = now();
    if (responded > 0) {
        e.fails = 0;
        schedule(ih, e, t + 15 * 60'000 + int64_t(rng_() % (15 * 60'000)));
    } else {
        ++e.fails;
        int64_t wait = std::min<int64_t>(int64_t(60'000) << std::min(e.fails - 1, 4), 15 * 60'000);
        schedule(ih, e, t + wait);
    }
}

// Runs the lookup on each node; `done` gets the sum of the nodes that
// answered, once every node's lookup has ended.  0 when no node took it.
uint64_t DhtService::start_lookup(bool announce, const Sha1Digest& ih, NodePeersFn peers,
                                  std::function<void(size_t)> done) {
    if (!sock_) return 0;
    auto m = std::make_shared<Multi>();
    m->done = std::move(done);
    uint64_t key = next_multi_++;
    std::weak_ptr<Multi> weak = m;
    auto node_done = [this, weak, key](size_t responded) {
        auto mm = weak.lock();
        if (!mm) return;  // cancelled
        mm->responded += responded;
        if (--mm->left > 0) return;
        multis_.erase(key);
        if (mm->done) mm->done(mm->responded);
    };
    dht::DhtNode* nodes[2] = {node_.get(), node6_.get()};
    for (int i = 0; i < 2; ++i) {
        if (!nodes[i]) continue;
        auto node_peers = [this, weak, peers, ih, v6 = i == 1](const std::vector<dht::NodeAddr>& p) {
            if (!weak.lock()) return;
            if (hooks_.log)
                hooks_.log(LogLevel::debug, "DHT (" + std::string(v6 ? "IPv6" : "IPv4") + "): " +
                                                std::to_string(p.size()) + " peers for " + to_hex(ih) + ", first " +
                                                p.front().to_string());
            if (peers) peers(p);
        };
        dht::NodeId target = to_node_id(ih);
        m->ids[i] = announce ? nodes[i]->announce(target, sock_->port(), node_peers, node_done, now())
                             : nodes[i]->get_peers(target, node_peers, node_done, now());
        if (m->ids[i]) ++m->left;
    }
    if (m->left == 0) return 0;
    multis_.emplace(key, std::move(m));
    return key;
}

uint64_t DhtService::get_peers(const Sha1Digest& ih, PeersFn peers, std::function<void(size_t)> done) {
    return start_lookup(
        false, ih, [peers](const std::vector<dht::NodeAddr>& p) { if (peers) peers(to_endpoints(p)); },
        std::move(done));
}

uint64_t DhtService::announce(const Sha1Digest& ih, PeersFn peers, std::function<void(size_t)> done) {
    return start_lookup(
        true, ih, [peers](const std::vector<dht::NodeAddr>& p) { if (peers) peers(to_endpoints(p)); },
        std::move(done));
}

void DhtService::cancel(uint64_t lookup) {
    auto it = multis_.find(lookup);
    if (it == multis_.end()) return;
    dht::DhtNode* nodes[2] = {node_.get(), node6_.get()};
    for (int i = 0; i < 2; ++i)
        if (nodes[i] && it->second->ids[i]) nodes[i]->cancel(it->second->ids[i]);
    multis_.erase(it);
}

// Either family: a peer's `port` message names the address it came from.
void DhtService::add_node(const std::string& ip, uint16_t port) {
    dht::NodeAddr a;
    if (!port || !dht::parse_node_ip(ip, port, a)) return;
    dht::DhtNode* n = a.v6 ? node6_.get() : node_.get();
    if (n) n->add_contact(a, now());
}

void DhtService::save(std::function<void()> done) {
    // Either node writes both tables (they are linked).
    dht::DhtNode* n = node_ ? node_.get() : node6_.get();
    if (!n) {
        if (done) done();
        return;
    }
    std::string data = n->save(), path = state_file();
    auto st = queue_job(loop_, jobs_.token(), [path, data] { return write_file_atomic(path, data, false); },
                        [this, done](Status r) {
                            if (!r.ok() && hooks_.log) hooks_.log(LogLevel::warning, "DHT: saving the routing table: " + r.error().message);
                            if (done) done();
                        });
    if (!st.ok() && done) done();
}

void DhtService::stop(std::function<void()> done) {
    timer_.reset();
    save([this, done] {
        if (sock_) sock_->route('d', nullptr);  // the socket may outlive us (shared)
        sock_.reset();
        if (done) done();
    });
    for (auto& [ih, e] : torrents_)
        if (e.lookup) cancel(e.lookup);
    torrents_.clear();
    due_.clear();
    running_ = 0;
}

}  // namespace btl
