// Session: reaching out beyond the trackers — the gateway's port mapping
// (net/port_mapper.hpp) and Local Service Discovery (net/lsd.hpp).
#include "btl/engine/session.hpp"

#include <utility>

namespace btl {

namespace {
// How long exit waits for the gateway to confirm the mapping is gone.
constexpr int64_t kUnmapWaitMs = 4'000;
}  // namespace

void Session::start_reach() {
    const uint16_t port = listener_.port();
    if (opt_.upnp || opt_.natpmp) {
        PortMapRequest req;
        req.port = port;
        req.lease_s = opt_.portmap_lease_s;
        req.upnp = opt_.upnp;
        req.natpmp = opt_.natpmp;
        req.bind_ip = opt_.bind_ip;
        mapper_ = std::make_unique<PortMapper>(
            loop_, req,
            [this](bool warning, const std::string& m) { log(warning ? LogLevel::warning : LogLevel::info, "", m); },
            [this] {
                for (auto& [ih, t] : torrents_) t->address_changed();
            });
        mapper_->start();
    }
    if (opt_.lsd) {
        char cookie[17];
        std::snprintf(cookie, sizeof cookie, "%016llx", static_cast<unsigned long long>(rng_()));
        LsdService::Hooks hooks;
        hooks.due = [this] { return lsd_due(); };
        hooks.found = [this](const Sha1Digest& ih, const PeerEndpoint& p) { on_lsd_peer(ih, p); };
        hooks.log = [this](bool warning, const std::string& m) { log(warning ? LogLevel::warning : LogLevel::debug, "", m); };
        lsd_ = std::make_unique<LsdService>(loop_, port, opt_.bind_ip, cookie, std::move(hooks));
        // The families we accept connections on: an announce names only our port.
        const bool v6_bind = opt_.bind_ip.find(':') != std::string::npos;
        const bool ipv4 = opt_.bind_ip.empty() || !v6_bind;
        const bool ipv6 = v6_bind || (opt_.bind_ip.empty() && listener_.dual_stack());
        if (auto st = lsd_->start(ipv4, ipv6); !st.ok()) {
            log(LogLevel::info, "", "local service discovery is off: " + st.error().message);
            lsd_.reset();
        }
    }
}

void Session::stop_reach(std::function<void()> done) {
    lsd_.reset();
    if (!mapper_) {
        if (done) done();
        return;
    }
    mapper_->stop(std::move(done), kUnmapWaitMs);
}

// Public torrents that want peers: never a private one (BEP 27), nor one
// paused or stopped.
std::vector<Sha1Digest> Session::lsd_due() const {
    std::vector<Sha1Digest> out;
    if (shutting_down_) return out;
    for (const auto& [ih, t] : torrents_)
        if (!t->metainfo().is_private && t->accepting_peers()) out.push_back(ih);
    return out;
}

void Session::on_lsd_peer(const Sha1Digest& ih, const PeerEndpoint& peer) {
    auto it = by_hash_.find(ih);
    if (it == by_hash_.end()) return;
    Torrent* t = it->second;
    if (t->metainfo().is_private || !t->accepting_peers()) return;
    if (!t->knows_peer(peer.to_string()))
        log(LogLevel::debug, t->metainfo().name, "LSD: peer " + peer.to_string() + " on the LAN");
    t->add_peers({peer}, PeerSource::lsd);
}

uint16_t Session::external_port() const {
    if (!mapper_) return 0;
    return mapper_->status().external_port;
}

std::string Session::port_mapping_text() const {
    if (!mapper_) return "port " + std::to_string(listener_.port()) + " not mapped: off";
    return mapper_->status().text;
}

void Session::set_dht(bool on, const std::string& bootstrap) {
    if (shutting_down_) return;
    const bool new_routers = bootstrap != opt_.dht_bootstrap;
    opt_.dht = on;
    opt_.dht_bootstrap = bootstrap;
    if (!on) dht_restart_ = false;
    if (dht_ && (!on || new_routers)) stop_dht_now();
    if (!on || dht_) return;
    if (dht_stopping_) {  // the old node is still saving its table: start after it
        dht_restart_ = true;
        return;
    }
    if (!udp_) open_udp();
    if (!udp_) return;  // open_udp() said why
    start_dht();
    if (dht_) log(LogLevel::info, "", "DHT on (port " + std::to_string(dht_->port()) + ")");
}

void Session::stop_dht_now() {
    forget_fetch_lookups();
    dht_stopping_ = std::move(dht_);
    log(LogLevel::info, "", "DHT off: node stopped, routing table saved");
    dht_stopping_->stop([this] {
        dht_dead_ = std::move(dht_stopping_);  // not inside its own callback: on the next tick
        if (std::exchange(dht_restart_, false) && opt_.dht && !dht_ && !shutting_down_)
            set_dht(true, opt_.dht_bootstrap);
    });
}

}  // namespace btl
