#include "btl/net/lsd.hpp"

#include <cstring>

#include "btl/core/lsd_codec.hpp"
#include "btl/net/peer_connection.hpp"

namespace btl {

struct LsdService::Socket {
    UvHandle<uv_udp_t> udp;
    bool ipv6 = false;
    sockaddr_storage group{};
    char buf[2048];
};

LsdService::LsdService(uv_loop_t* loop, uint16_t port, std::string bind_ip, std::string cookie, Hooks hooks)
    : loop_(loop), port_(port), bind_ip_(std::move(bind_ip)), cookie_(std::move(cookie)), hooks_(std::move(hooks)) {}

LsdService::~LsdService() = default;

Status LsdService::open_family(bool ipv6) {
    auto s = std::make_unique<Socket>();
    s->ipv6 = ipv6;
    int rc = 0;
    s->udp = UvHandle<uv_udp_t>::create([&](uv_udp_t* u) { return uv_udp_init(loop_, u); }, &rc);
    if (!s->udp) return make_error(std::string("socket: ") + uv_strerror(rc));
    const char* group = ipv6 ? kLsdGroup6 : kLsdGroup4;
    const bool bind_same_family = !bind_ip_.empty() && (bind_ip_.find(':') != std::string::npos) == ipv6;
    sockaddr_storage any{};
    ip_to_sockaddr(ipv6 ? "::" : "0.0.0.0", kLsdPort, any);
    ip_to_sockaddr(group, kLsdPort, s->group);
    const char* iface = bind_same_family ? bind_ip_.c_str() : nullptr;
    auto fail = [&](const char* what, int r) { return make_error(std::string(what) + ": " + uv_strerror(r)); };
    if ((rc = uv_udp_bind(s->udp.get(), reinterpret_cast<const sockaddr*>(&any), UV_UDP_REUSEADDR)) != 0)
        return fail("bind port 6771", rc);
    if ((rc = uv_udp_set_membership(s->udp.get(), group, iface, UV_JOIN_GROUP)) != 0)
        return fail("join the multicast group", rc);
    // Two clients on one host (and our own announces, told apart by the cookie) hear each other.
    uv_udp_set_multicast_loop(s->udp.get(), 1);
    uv_udp_set_multicast_ttl(s->udp.get(), 1);
    if (iface && (rc = uv_udp_set_multicast_interface(s->udp.get(), iface)) != 0)
        return fail("multicast from --bind address", rc);
    s->udp->data = this;
    rc = uv_udp_recv_start(
        s->udp.get(),
        [](uv_handle_t* h, size_t, uv_buf_t* b) {
            auto* self = static_cast<LsdService*>(h->data);
            *b = uv_buf_init(nullptr, 0);
            if (!self) return;
            for (auto& so : self->sockets_)
                if (so->udp.handle() == h) {
                    *b = uv_buf_init(so->buf, sizeof so->buf);
                    return;
                }
        },
        [](uv_udp_t* u, ssize_t n, const uv_buf_t* b, const sockaddr* from, unsigned) {
            auto* self = static_cast<LsdService*>(u->data);
            if (!self || n <= 0 || !from) return;
            self->on_datagram(std::string_view(b->base, size_t(n)), from);
        });
    if (rc != 0) return fail("receive", rc);
    sockets_.push_back(std::move(s));
    return Ok{};
}

Status LsdService::start() {
    std::string errors;
    for (bool v6 : {false, true}) {
        auto st = open_family(v6);
        if (st.ok()) continue;
        const std::string msg = std::string("LSD over ") + (v6 ? "IPv6" : "IPv4") + " unavailable: " + st.error().message;
        if (hooks_.log) hooks_.log(false, msg);
        errors += (errors.empty() ? "" : "; ") + msg;
    }
    if (sockets_.empty()) return make_error(errors);
    tick_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    tick_->data = this;
    uv_timer_start(tick_.get(), [](uv_timer_t* t) {
        if (auto* self = static_cast<LsdService*>(t->data)) self->on_tick();
    }, 200, uint64_t(kTickMs));
    return Ok{};
}

void LsdService::on_tick() {
    const int64_t now = int64_t(uv_now(loop_));
    std::vector<Sha1Digest> send;
    for (const auto& ih : hooks_.due ? hooks_.due() : std::vector<Sha1Digest>{}) {
        auto it = last_sent_.find(ih);
        if (it != last_sent_.end() && now - it->second < kIntervalMs) continue;
        last_sent_[ih] = now;
        send.push_back(ih);
    }
    // Forget hashes not announced for two intervals (removed or now private).
    for (auto it = last_sent_.begin(); it != last_sent_.end();)
        it = now - it->second > 2 * kIntervalMs ? last_sent_.erase(it) : std::next(it);
    if (send.empty()) return;
    for (auto& s : sockets_) {
        for (const auto& pkt : format_lsd_announces(send, port_, cookie_, s->ipv6)) {
            uv_buf_t b = uv_buf_init(const_cast<char*>(pkt.data()), unsigned(pkt.size()));
            int rc = uv_udp_try_send(s->udp.get(), &b, 1, reinterpret_cast<const sockaddr*>(&s->group));
            if (rc >= 0) ++sent_;
        }
    }
}

void LsdService::on_datagram(std::string_view data, const sockaddr* from) {
    auto a = parse_lsd_announce(data);
    std::string ip;
    uint16_t src_port = 0;
    if (!sockaddr_to_ip(from, ip, src_port)) return;
    if (!a.ok()) {
        // Counted; one log line per new kind of error, so a noisy LAN cannot flood the log.
        ++bad_;
        if (a.error().message != last_bad_ && hooks_.log) {
            last_bad_ = a.error().message;
            hooks_.log(false, "ignored a bad LSD datagram from " + ip + ": " + last_bad_);
        }
        return;
    }
    if (!a->cookie.empty() && a->cookie == cookie_) return;  // our own, looped back
    if (!hooks_.found) return;
    for (const auto& ih : a->info_hashes) hooks_.found(ih, PeerEndpoint{ip, a->port});
}

}  // namespace btl
