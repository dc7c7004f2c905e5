#include "btl/net/resolve.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

namespace btl {

namespace {

// Lookups of one name for one loop and socket type share one getaddrinfo:
// a thousand torrents on one tracker host cost one lookup, not a thousand.
struct Group {
    uv_loop_t* loop;
    std::string host;
    int socktype;
    struct Waiter {
        std::string bind_ip;
        uint16_t port;
        std::function<void(Result<sockaddr_storage>)> cb;
    };
    std::vector<Waiter> waiters;
};
using Key = std::tuple<uv_loop_t*, std::string, int>;

struct LoopState {
    int running = 0;
    std::deque<std::shared_ptr<Group>> queue;
};

// All on the loop thread(s); thread_local keeps loops on different threads
// apart.
thread_local std::map<Key, std::shared_ptr<Group>> t_groups;
thread_local std::map<uv_loop_t*, LoopState> t_loops;

struct Lookup {
    uv_getaddrinfo_t req;
    std::shared_ptr<Group> g;
};

void start(std::shared_ptr<Group> g);

void finish(const std::shared_ptr<Group>& g, int status, addrinfo* res) {
    // The first address of each family, copied before res is freed.
    std::vector<sockaddr_storage> addrs;
    for (const addrinfo* a = res; a; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
        bool have = std::any_of(addrs.begin(), addrs.end(), [&](const sockaddr_storage& s) { return s.ss_family == a->ai_family; });
        if (have) continue;
        sockaddr_storage s{};
        std::memcpy(&s, a->ai_addr, std::min<size_t>(a->ai_addrlen, sizeof s));
        addrs.push_back(s);
    }
    if (res) uv_freeaddrinfo(res);
    t_groups.erase(Key{g->loop, g->host, g->socktype});
    {
        auto it = t_loops.find(g->loop);
        if (it != t_loops.end()) {
            --it->second.running;
            // Start the next queued name before the callbacks run (they may
            // destroy things, or resolve again).
            while (it->second.running < kMaxConcurrentLookups && !it->second.queue.empty()) {
                auto next = std::move(it->second.queue.front());
                it->second.queue.pop_front();
                ++it->second.running;
                start(std::move(next));
                it = t_loops.find(g->loop);
                if (it == t_loops.end()) break;
            }
            if (it != t_loops.end() && it->second.running == 0 && it->second.queue.empty()) t_loops.erase(it);
        }
    }
    for (auto& w : g->waiters) {
        if (status != 0 || addrs.empty()) {
            w.cb(make_error("cannot resolve " + g->host + ": " + uv_strerror(status ? status : UV_EAI_NONAME)));
            continue;
        }
        // The bind address's family first (so a bind option is honoured), else IPv4.
        sockaddr_in probe{};
        int fam = !w.bind_ip.empty() && uv_ip4_addr(w.bind_ip.c_str(), 0, &probe) != 0 ? AF_INET6 : AF_INET;
        sockaddr_storage out = addrs[0];
        for (const auto& s : addrs)
            if (s.ss_family == fam) out = s;
        if (out.ss_family == AF_INET)
            reinterpret_cast<sockaddr_in*>(&out)->sin_port = htons(w.port);
        else
            reinterpret_cast<sockaddr_in6*>(&out)->sin6_port = htons(w.port);
        w.cb(out);
    }
}

void start(std::shared_ptr<Group> g) {
    auto* l = new Lookup{{}, g};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = g->socktype;
    int rc = uv_getaddrinfo(
        g->loop, &l->req,
        [](uv_getaddrinfo_t* r, int status, addrinfo* res) {
            std::unique_ptr<Lookup> l(reinterpret_cast<Lookup*>(r));
            finish(l->g, status, res);
        },
        g->host.c_str(), nullptr, &hints);
    if (rc != 0) {
        delete l;
        finish(g, rc, nullptr);
    }
}

}  // namespace

size_t resolve_pending(uv_loop_t* loop) {
    auto it = t_loops.find(loop);
    return it == t_loops.end() ? 0 : size_t(it->second.running) + it->second.queue.size();
}

size_t resolve_running(uv_loop_t* loop) {
    auto it = t_loops.find(loop);
    return it == t_loops.end() ? 0 : size_t(it->second.running);
}

void resolve_address(uv_loop_t* loop, const std::string& host, uint16_t port, int socktype,
                     const std::string& bind_ip, std::function<void(Result<sockaddr_storage>)> cb) {
    sockaddr_storage ss{};
    if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) == 0 ||
        uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0)
        return cb(ss);
    Key key{loop, host, socktype};
    if (auto it = t_groups.find(key); it != t_groups.end()) {
        it->second->waiters.push_back({bind_ip, port, std::move(cb)});
        return;
    }
    auto g = std::make_shared<Group>(Group{loop, host, socktype, {}});
    g->waiters.push_back({bind_ip, port, std::move(cb)});
    t_groups[key] = g;
    LoopState& ls = t_loops[loop];
    if (ls.running >= kMaxConcurrentLookups) {
        ls.queue.push_back(std::move(g));
        return;
    }
    ++ls.running;
    start(std::move(g));
}

}  // namespace btl
