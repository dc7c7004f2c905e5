#include "btl/net/udp_tracker_client.hpp"

#include "btl/net/resolve.hpp"
#include "btl/net/udp_tracker_mux.hpp"

#include <algorithm>
#include <cstring>
#include <random>

#include "btl/base/uv_util.hpp"

namespace btl {

std::optional<uint64_t> UdpConnectionCache::get(const std::string& key, int64_t now_ms) const {
    auto it = ids_.find(key);
    if (it == ids_.end() || now_ms - it->second.issued_ms >= kLifetimeMs) return std::nullopt;
    return it->second.id;
}

void UdpConnectionCache::put(const std::string& key, uint64_t id, int64_t now_ms) {
    ids_[key] = Id{id, now_ms};
}

namespace {

bool same_address(const sockaddr* a, const sockaddr_storage& b) {
    if (!a || a->sa_family != b.ss_family) return false;
    if (a->sa_family == AF_INET) {
        auto* x = reinterpret_cast<const sockaddr_in*>(a);
        auto* y = reinterpret_cast<const sockaddr_in*>(&b);
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        auto* x = reinterpret_cast<const sockaddr_in6*>(a);
        auto* y = reinterpret_cast<const sockaddr_in6*>(&b);
        return x->sin6_port == y->sin6_port && std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

}  // namespace

// The in-flight state, shared with libuv requests (getaddrinfo) so a late
// callback after cancellation finds `dead` set and only frees itself.
struct UdpTrackerRequest::Impl : std::enable_shared_from_this<UdpTrackerRequest::Impl> {
    enum class Step { connecting, announcing };

    uv_loop_t* loop = nullptr;
    UdpTrackerOptions opt;
    std::shared_ptr<UdpConnectionCache> cache;
    Callback cb;
    bool dead = false;

    AnnounceRequest req;
    std::string host, key;  // key: "host:port", the connection-id cache key
    uint16_t port = 0;
    sockaddr_storage peer{};
    bool ipv6 = false;
    UvHandle<uv_udp_t> udp;
    UvHandle<uv_timer_t> timer;
    std::shared_ptr<UdpTrackerMux> mux;  // set when the shared socket carries this request

    Step step = Step::connecting;
    int tries = 0;  // n of BEP 15's 15 * 2^n
    uint64_t waited_ms = 0;
    uint64_t conn_id = 0;
    bool conn_from_cache = false;
    int64_t conn_issued_ms = 0;
    uint32_t tid = 0;
    std::mt19937 rng{std::random_device{}()};
    std::string ignored;  // why the last packet was ignored, for the timeout message

    int64_t now() const { return static_cast<int64_t>(uv_now(loop)); }

    void finish(Result<AnnounceResponse> r) {
        if (dead) return;
        auto keep = shared_from_this();  // the callback may destroy our owner
        dead = true;
        release();
        auto c = std::move(cb);
        if (c) c(std::move(r));
    }
    void fail(const std::string& why) { finish(make_error(why)); }
    void release() {
        udp.reset();
        timer.reset();
        if (mux) mux->forget(tid);
        mux.reset();
    }
    std::string who() const { return "UDP tracker " + key; }

    void begin(const std::string& url) {
        auto u = parse_url(url);
        if (!u.ok()) return fail("bad tracker URL " + url + ": " + u.error().message);
        if (u->scheme != "udp") return fail("not a udp:// tracker URL: " + url);
        host = u->host;
        port = u->port;
        key = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
        // The name lookup (which may wait for a turn, see resolve.hpp) gets
        // the first try's deadline; the BEP 15 timer takes over once sent.
        int err = 0;
        timer = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop, t); }, &err);
        if (!timer) return fail(std::string("timer: ") + uv_strerror(err));
        timer->data = this;
        uv_timer_start(timer.get(), [](uv_timer_t* t) {
            auto* self = static_cast<Impl*>(t->data);
            if (self) self->fail("cannot resolve " + self->host + ": no answer within " +
                                 std::to_string(self->opt.base_timeout_ms / 1000) + " s");
        }, opt.base_timeout_ms, 0);
        resolve_address(loop, host, port, SOCK_DGRAM, opt.bind_ip,
                        [self = shared_from_this()](Result<sockaddr_storage> r) {
                            if (self->dead) return;
                            if (!r.ok()) return self->fail(r.error().message);
                            self->open(*r);
                        });
    }

    void open(const sockaddr_storage& addr) {
        peer = addr;
        ipv6 = addr.ss_family == AF_INET6;
        if (opt.mux && opt.mux->can_send(addr.ss_family)) {
            mux = opt.mux;
            return first_send();
        }
        int err = 0;
        udp = UvHandle<uv_udp_t>::create([&](uv_udp_t* h) { return uv_udp_init(loop, h); }, &err);
        if (!udp) return fail(std::string("UDP socket: ") + uv_strerror(err));
        udp->data = this;
        if (!opt.bind_ip.empty()) {
            sockaddr_storage local{};
            if (uv_ip4_addr(opt.bind_ip.c_str(), 0, reinterpret_cast<sockaddr_in*>(&local)) == 0 ||
                uv_ip6_addr(opt.bind_ip.c_str(), 0, reinterpret_cast<sockaddr_in6*>(&local)) == 0) {
                if (local.ss_family == addr.ss_family) {
                    int rc = uv_udp_bind(udp.get(), reinterpret_cast<sockaddr*>(&local), 0);
                    if (rc != 0) return fail("cannot bind UDP socket to " + opt.bind_ip + ": " + uv_strerror(rc));
                }
            }
        }
        // A connected socket lets the kernel drop other senders and report
        // ICMP port-unreachable as ECONNREFUSED.
        int rc = uv_udp_connect(udp.get(), reinterpret_cast<const sockaddr*>(&peer));
        if (rc != 0) return fail("cannot reach " + who() + ": " + uv_strerror(rc));
        rc = uv_udp_recv_start(
            udp.get(),
            [](uv_handle_t*, size_t, uv_buf_t* buf) {
                static thread_local char scratch[65536];
                *buf = uv_buf_init(scratch, sizeof scratch);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
                auto* self = static_cast<Impl*>(h->data);
                if (self) self->on_socket(n, buf, from, flags);
            });
        if (rc != 0) return fail(std::string("UDP receive: ") + uv_strerror(rc));
        first_send();
    }

    void first_send() {
        if (cache) {
            if (auto id = cache->get(key, now())) {
                conn_id = *id;
                conn_from_cache = true;
                step = Step::announcing;
            }
        }
        send_current();
    }

    void send_current() {
        if (dead) return;
        if (mux) mux->forget(tid);
        tid = static_cast<uint32_t>(rng());
        if (mux) {
            std::weak_ptr<Impl> weak = weak_from_this();
            auto h = [weak](const sockaddr* from, std::string_view d) {
                if (auto self = weak.lock()) self->on_packet(from, d);
            };
            while (!mux->expect(tid, h)) tid = static_cast<uint32_t>(rng());
        }
        std::string pkt = step == Step::connecting ? udp_connect_request(tid) : udp_announce_request(conn_id, tid, req);
        uv_buf_t b = uv_buf_init(pkt.data(), static_cast<unsigned>(pkt.size()));
        // try_send copies into the kernel at once; a full send buffer
        // (EAGAIN) is just a lost datagram that the retransmission covers.
        int rc = mux ? mux->send(reinterpret_cast<const sockaddr*>(&peer), pkt) : uv_udp_try_send(udp.get(), &b, 1, nullptr);
        if (rc == UV_ECONNREFUSED) return fail(who() + " refused the connection (nothing listening)");
        if (rc < 0 && rc != UV_EAGAIN && rc != UV_ENOBUFS) return fail("sending to " + who() + ": " + uv_strerror(rc));
        uint64_t wait = opt.base_timeout_ms << tries;
        uv_timer_start(timer.get(), [](uv_timer_t* t) {
            auto* self = static_cast<Impl*>(t->data);
            if (self) self->on_timeout();
        }, wait, 0);
    }

    void on_timeout() {
        waited_ms += opt.base_timeout_ms << tries;
        if (++tries >= opt.max_tries) {
            std::string msg = "no answer from " + who() + " after " + std::to_string(tries) + (tries == 1 ? " try (" : " tries (") +
                              std::to_string((waited_ms + 500) / 1000) + " s)";
            if (!ignored.empty()) msg += "; ignored: " + ignored;
            return fail(msg);
        }
        // A cached or aged connection id may be what the tracker silently
        // drops: start over with a fresh connect.
        if (step == Step::announcing &&
            (conn_from_cache || now() - conn_issued_ms >= UdpConnectionCache::kLifetimeMs)) {
            if (cache) cache->forget(key);
            conn_from_cache = false;
            step = Step::connecting;
        }
        send_current();
    }

    void on_socket(ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
        if (dead) return;
        if (n == UV_ECONNREFUSED) return fail(who() + " refused the connection (nothing listening)");
        if (n <= 0) return;  // 0: nothing more to read; other errors: the retransmission covers them
        if (flags & UV_UDP_PARTIAL) {
            ignored = "a truncated packet";
            return;
        }
        on_packet(from, std::string_view(buf->base, size_t(n)));
    }

    void on_packet(const sockaddr* from, std::string_view data) {
        if (dead) return;
        if (!same_address(from, peer)) {
            if (!data.empty()) ignored = "a packet from another address";
            return;
        }
        // The shared socket's word for an ICMP port unreachable from our tracker.
        if (data.empty()) return fail(who() + " refused the connection (nothing listening)");
        auto r = parse_udp_response(data, ipv6, opt.max_peers);
        if (!r.ok()) {
            ignored = r.error().message;
            return;
        }
        if (r->transaction_id != tid) {
            ignored = "a packet with the wrong transaction id";
            return;
        }
        if (r->action == kUdpError) {
            if (cache && step == Step::announcing) cache->forget(key);
            AnnounceResponse a;
            a.failure_reason = r->error;
            return finish(std::move(a));
        }
        if (step == Step::connecting && r->action == kUdpConnect) {
            conn_id = r->connection_id;
            conn_issued_ms = now();
            conn_from_cache = false;
            if (cache) cache->put(key, conn_id, conn_issued_ms);
            step = Step::announcing;
            return send_current();
        }
        if (step == Step::announcing && r->action == kUdpAnnounce) return finish(std::move(r->announce));
        ignored = "a reply with unexpected action " + std::to_string(r->action);
    }
};

UdpTrackerRequest::UdpTrackerRequest(uv_loop_t* loop, UdpTrackerOptions opt, std::shared_ptr<UdpConnectionCache> cache)
    : loop_(loop), opt_(std::move(opt)), cache_(std::move(cache)) {}

UdpTrackerRequest::~UdpTrackerRequest() { cancel(); }

void UdpTrackerRequest::cancel() {
    if (!impl_) return;
    impl_->dead = true;
    impl_->cb = nullptr;
    impl_->release();
    impl_.reset();
    active_ = false;
}

void UdpTrackerRequest::announce(const std::string& url, const AnnounceRequest& req, Callback cb) {
    cancel();
    impl_ = std::make_shared<Impl>();
    impl_->loop = loop_;
    impl_->opt = opt_;
    // BEP 15 stops doubling at n = 8; also keeps the shift in range.
    impl_->opt.max_tries = std::clamp(impl_->opt.max_tries, 1, 9);
    impl_->cache = cache_;
    impl_->req = req;
    active_ = true;
    impl_->cb = [this, cb = std::move(cb)](Result<AnnounceResponse> r) {
        active_ = false;
        if (cb) cb(std::move(r));
    };
    auto keep = impl_;
    keep->begin(url);
}

}  // namespace btl
