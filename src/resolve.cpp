#include "btl/resolve.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

namespace btl {

namespace {
struct Lookup {
    uv_getaddrinfo_t req;
    std::string host, bind_ip;
    uint16_t port;
    std::function<void(Result<sockaddr_storage>)> cb;
};
}  // namespace

void resolve_address(uv_loop_t* loop, const std::string& host, uint16_t port, int socktype,
                     const std::string& bind_ip, std::function<void(Result<sockaddr_storage>)> cb) {
    sockaddr_storage ss{};
    if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) == 0 ||
        uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0)
        return cb(ss);
    auto* l = new Lookup{{}, host, bind_ip, port, std::move(cb)};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    int rc = uv_getaddrinfo(
        loop, &l->req,
        [](uv_getaddrinfo_t* r, int status, addrinfo* res) {
            std::unique_ptr<Lookup> l(reinterpret_cast<Lookup*>(r));
            if (status != 0 || !res) {
                if (res) uv_freeaddrinfo(res);
                return l->cb(make_error("cannot resolve " + l->host + ": " +
                                        uv_strerror(status ? status : UV_EAI_NONAME)));
            }
            sockaddr_in local{};
            int fam = AF_INET;
            if (!l->bind_ip.empty() && uv_ip4_addr(l->bind_ip.c_str(), 0, &local) != 0) fam = AF_INET6;
            const addrinfo* pick = res;
            for (const addrinfo* a = res; a; a = a->ai_next)
                if (a->ai_family == fam) {
                    pick = a;
                    break;
                }
            sockaddr_storage out{};
            std::memcpy(&out, pick->ai_addr, std::min<size_t>(pick->ai_addrlen, sizeof out));
            uv_freeaddrinfo(res);
            if (out.ss_family == AF_INET)
                reinterpret_cast<sockaddr_in*>(&out)->sin_port = htons(l->port);
            else
                reinterpret_cast<sockaddr_in6*>(&out)->sin6_port = htons(l->port);
            l->cb(out);
        },
        host.c_str(), nullptr, &hints);
    if (rc != 0) {
        std::unique_ptr<Lookup> owned(l);
        owned->cb(make_error("cannot resolve " + host + ": " + uv_strerror(rc)));
    }
}

}  // namespace btl
