#include "btl/net/lsd.hpp"

#include <net/if.h>

#include <cstring>

#include "btl/core/lsd_codec.hpp"
#include "btl/net/peer_connection.hpp"

namespace btl {

struct LsdService::Socket {
    UvHandle<uv_udp_t> udp;
    UvHandle<uv_udp_t> sender;  // IPv6 with a --bind address: announces go out from it
    bool ipv6 = false;
    sockaddr_storage group{};
    char buf[2048];
};

LsdService::LsdService(uv_loop_t* loop, uint16_t port, std::string bind_ip, std::string cookie, Hooks hooks)
    : loop_(loop), port_(port), bind_ip_(std::move(bind_ip)), cookie_(std::move(cookie)), hooks_(std::move(hooks)) {}

LsdService::~LsdService() = default;

namespace {

// "::%IFNAME" for the interface holding IPv6 address `ip` (libuv reads the
// scope of such a string as the interface for multicast), "" if none does.
std::string v6_interface_of(const std::string& ip) {
    sockaddr_storage want{};
    if (!ip_to_sockaddr(ip, 0, want) || want.ss_family != AF_INET6) return "";
    const auto& w6 = reinterpret_cast<const sockaddr_in6&>(want).sin6_addr;
    uv_interface_address_t* ifs = nullptr;
    int n = 0;
    if (uv_interface_addresses(&ifs, &n) != 0) return "";
    std::string out;
    for (int i = 0; i < n && out.empty(); ++i) {
        const auto& a = ifs[i].address.address6;
        if (a.sin6_family == AF_INET6 && std::memcmp(&a.sin6_addr, &w6, sizeof w6) == 0)
            out = std::string("::%") + ifs[i].name;
    }
    uv_free_interface_addresses(ifs, n);
    return out;
}

}  // namespace

Status LsdService::open_v6_sender(Socket& s, const std::string& iface) {
    int rc = 0;
    s.sender = UvHandle<uv_udp_t>::create([&](uv_udp_t* u) { return uv_udp_init(loop_, u); }, &rc);
    if (!s.sender) return make_error(std::string("socket: ") + uv_strerror(rc));
    sockaddr_storage from{};
    ip_to_sockaddr(bind_ip_, 0, from);
    if ((rc = uv_udp_bind(s.sender.get(), reinterpret_cast<const sockaddr*>(&from), 0)) != 0)
        return make_error("bind " + bind_ip_ + ": " + uv_strerror(rc));
    uv_udp_set_multicast_loop(s.sender.get(), 1);
    uv_udp_set_multicast_ttl(s.sender.get(), 1);
    if ((rc = uv_udp_set_multicast_interface(s.sender.get(), iface.c_str())) != 0)
        return make_error(std::string("multicast from --bind address: ") + uv_strerror(rc));
    return Ok{};
}

Status LsdService::open_family(bool ipv6) {
    auto s = std::make_unique<Socket>();
    s->ipv6 = ipv6;
    int rc = 0;
    s->udp = UvHandle<uv_udp_t>::create([&](uv_udp_t* u) { return uv_udp_init(loop_, u); }, &rc);
    if (!s->udp) return make_error(std::string("socket: ") + uv_strerror(rc));
    const char* group = ipv6 ? kLsdGroup6 : kLsdGroup4;
    // An unspecified --bind (0.0.0.0, ::) picks no interface, like none.
    const bool bind_same_family = !bind_ip_.empty() && (bind_ip_.find(':') != std::string::npos) == ipv6 &&
                                  bind_ip_ != "0.0.0.0" && bind_ip_ != "::";
    sockaddr_storage any{};
    ip_to_sockaddr(ipv6 ? "::" : "0.0.0.0", kLsdPort, any);
    ip_to_sockaddr(group, kLsdPort, s->group);
    // IPv4 names the interface by its address; IPv6 by "::%IFNAME".
    std::string iface_v6;
    if (bind_same_family && ipv6) {
        iface_v6 = v6_interface_of(bind_ip_);
        if (iface_v6.empty()) return make_error("no interface holds the --bind address " + bind_ip_);
    }
    const char* iface = !bind_same_family ? nullptr : ipv6 ? iface_v6.c_str() : bind_ip_.c_str();
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
    if (bind_same_family && ipv6)
        if (auto st = open_v6_sender(*s, iface_v6); !st.ok()) return st;
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

Status LsdService::start(bool ipv4, bool ipv6) {
    std::string errors;
    for (bool v6 : {false, true}) {
        if (!(v6 ? ipv6 : ipv4)) continue;
        auto st = open_family(v6);
        if (st.ok()) continue;
        const std::string msg = std::string("LSD over ") + (v6 ? "IPv6" : "IPv4") + " unavailable: " + st.error().message;
        if (hooks_.log) hooks_.log(false, msg);
        errors += (errors.empty() ? "" : "; ") + msg;
    }
    if (sockets_.empty()) return make_error(errors.empty() ? std::string("no address family to run on") : errors);
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
            uv_udp_t* from = s->sender ? s->sender.get() : s->udp.get();
            int rc = uv_udp_try_send(from, &b, 1, reinterpret_cast<const sockaddr*>(&s->group));
            if (rc >= 0) ++sent_;
        }
    }
}

void LsdService::on_datagram(std::string_view data, const sockaddr* from) {
    auto a = parse_lsd_announce(data);
    std::string ip;
    uint16_t src_port = 0;
    if (!sockaddr_to_ip(from, ip, src_port)) return;
    if (from->sa_family == AF_INET6) {
        // A link-local sender is reachable only through the interface it was heard on.
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(from);
        char name[IF_NAMESIZE] = {};
        if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) && in6->sin6_scope_id && if_indextoname(in6->sin6_scope_id, name))
            ip += std::string("%") + name;
    }
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
