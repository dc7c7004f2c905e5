#include "btl/engine/dht_service.hpp"

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
        out.emplace_back(item.substr(0, colon), uint16_t(port));
    }
    return out;
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

Status DhtService::start(std::shared_ptr<UdpSocket> sock) {
    sock_ = std::move(sock);
    // The saved table: our id and the nodes we knew (a few KB, read once
    // before any torrent runs).
    dht::NodeId id{};
    std::vector<dht::NodeEntry> saved;
    std::ifstream in(state_file(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool have_saved = !data.empty() && dht::DhtNode::parse_saved(data, id, saved);
    if (!have_saved)
        for (auto& b : id) b = uint8_t(rng_());
    dht::DhtConfig cfg;
    node_ = std::make_unique<dht::DhtNode>(id, cfg, [this](const dht::NodeAddr& to, std::string_view pkt) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(to.ip);
        sa.sin_port = htons(to.port);
        if (sock_) sock_->send(reinterpret_cast<const sockaddr*>(&sa), pkt);  // closed by stop(): dropped
    }, rng_());
    sock_->route('d', [this](const sockaddr* from, std::string_view data) {
        if (from->sa_family != AF_INET) return;  // BEP 32 (IPv6) is not spoken
        const auto* sin = reinterpret_cast<const sockaddr_in*>(from);
        node_->on_packet(dht::NodeAddr{ntohl(sin->sin_addr.s_addr), ntohs(sin->sin_port)}, data, now());
    });
    node_->tick(now());
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    timer_->data = this;
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
        if (auto* s = static_cast<DhtService*>(t->data)) s->on_tick();
    }, kTickMs, kTickMs);
    last_save_ms_ = now();
    if (have_saved && !saved.empty()) {
        node_->add_saved(saved, now());
        if (hooks_.log)
            hooks_.log(LogLevel::info, "DHT on UDP port " + std::to_string(sock_->port()) + ": joining from " +
                                           std::to_string(saved.size()) + " saved nodes");
        bootstrapping_ = true;
        node_->bootstrap({}, now(), [this](size_t) {
            bootstrapping_ = false;
            if (node_->table().good_count(now()) < dht::RoutingTable::K) bootstrap_from_routers();
        });
    } else {
        if (hooks_.log) hooks_.log(LogLevel::info, "DHT on UDP port " + std::to_string(sock_->port()));
        bootstrap_from_routers();
    }
    return Ok{};
}

void DhtService::bootstrap_from_routers() {
    auto list = parse_bootstrap(opt_.dht_bootstrap);
    last_bootstrap_ms_ = now();
    if (list.empty()) return;
    bootstrapping_ = true;
    struct Gather {
        size_t left;
        std::vector<dht::NodeAddr> addrs;
    };
    auto g = std::make_shared<Gather>(Gather{list.size(), {}});
    auto alive = jobs_.token();
    for (const auto& [host, port] : list) {
        std::string name = host;
        resolve_address(loop_, host, port, SOCK_DGRAM, "", [this, g, alive, name](Result<sockaddr_storage> r) {
            if (alive.expired()) return;
            if (r.ok() && r->ss_family == AF_INET) {
                const auto* sin = reinterpret_cast<const sockaddr_in*>(&*r);
                g->addrs.push_back(dht::NodeAddr{ntohl(sin->sin_addr.s_addr), ntohs(sin->sin_port)});
            } else if (hooks_.log)
                hooks_.log(LogLevel::debug, "DHT bootstrap node " + name + ": " +
                                                (r.ok() ? std::string("not IPv4") : r.error().message));
            if (--g->left > 0 || !node_ || !sock_) return;
            node_->bootstrap(g->addrs, now(), [this](size_t responded) {
                bootstrapping_ = false;
                if (hooks_.log)
                    hooks_.log(LogLevel::info, "DHT bootstrap: " + std::to_string(responded) + " nodes answered, " +
                                                   std::to_string(node_->table().size()) + " in the table");
            });
        });
    }
}

void DhtService::on_tick() {
    int64_t t = now();
    node_->tick(t);
    run_announces();
    // An empty table (every node gone, or the network was down): try the
    // bootstrap nodes again every minute.
    if (node_->table().size() == 0 && !bootstrapping_ && t - last_bootstrap_ms_ >= 60'000) bootstrap_from_routers();
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
    if (it->second.lookup && node_) {
        node_->cancel(it->second.lookup);
        --running_;
    }
    torrents_.erase(it);
}

void DhtService::run_announces() {
    int64_t t = now();
    lookup_budget_.refill(t);
    while (running_ < kAnnounceSlots && !due_.empty() && due_.begin()->first <= t && node_->table().size() > 0) {
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
        e.lookup = node_->announce(
            to_node_id(ih), sock_->port(),
            [this, ih](const std::vector<dht::NodeAddr>& peers) {
                if (hooks_.on_peers) hooks_.on_peers(ih, to_endpoints(peers));
            },
            [this, ih](size_t responded) { announced(ih, responded); }, t);
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

uint64_t DhtService::get_peers(const Sha1Digest& ih, PeersFn peers, std::function<void(size_t)> done) {
    if (!node_) return 0;
    return node_->get_peers(
        to_node_id(ih), [peers](const std::vector<dht::NodeAddr>& p) { if (peers) peers(to_endpoints(p)); },
        std::move(done), now());
}

uint64_t DhtService::announce(const Sha1Digest& ih, PeersFn peers, std::function<void(size_t)> done) {
    if (!node_ || !sock_) return 0;
    return node_->announce(
        to_node_id(ih), sock_->port(),
        [peers](const std::vector<dht::NodeAddr>& p) { if (peers) peers(to_endpoints(p)); }, std::move(done), now());
}

void DhtService::cancel(uint64_t lookup) {
    if (node_) node_->cancel(lookup);
}

void DhtService::add_node(const std::string& ip, uint16_t port) {
    uint32_t a = 0;
    if (node_ && port && dht::parse_ipv4(ip, a)) node_->add_contact(dht::NodeAddr{a, port}, now());
}

void DhtService::save(std::function<void()> done) {
    if (!node_) {
        if (done) done();
        return;
    }
    std::string data = node_->save(), path = state_file();
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
        if (e.lookup) node_->cancel(e.lookup);
    torrents_.clear();
    due_.clear();
    running_ = 0;
}

}  // namespace btl
