// Local Service Discovery (BEP 14) on the libuv loop: multicasts which
// swarms we are in to the LAN and hears the same from others.
//
// Contract:
//  - start(ipv4, ipv6) binds UDP 6771 (shared with other clients on the
//    host) and joins 239.192.152.143 and/or [ff15::efc0:988f], the families
//    we listen on (an announce names only our port, so a family we do not
//    accept connections on is left out both ways); a family that cannot
//    join is logged once and left out.  If none can, start() returns the
//    error and LSD stays off.
//  - With an IPv6 `bind_ip`, the IPv6 group is joined and sent to on the
//    interface holding that address, and announces go out from a socket
//    bound to it: the address peers see as the source is the one we listen
//    on (IPv6 picks a multicast source by interface, not by the socket's
//    group membership).  An IPv4 `bind_ip` picks the interface the same way
//    through IP_MULTICAST_IF.
//  - The sender of an IPv6 announce known by a link-local address becomes
//    "fe80::...%IFNAME" (the scope is needed to dial it).
//  - Every kTickMs the service asks `due` for the info-hashes it may
//    announce (the owner leaves out private torrents) and sends those not
//    announced in the last kIntervalMs, several per datagram; so each
//    torrent goes out at most once a minute, and a new torrent within a tick.
//  - A datagram from elsewhere is parsed strictly (lsd_codec.hpp); one
//    carrying our own cookie is ours, looped back, and ignored.  Each
//    info-hash of a valid announce calls `found(info_hash, peer)` with the
//    sender's address and announced port.  Bad datagrams are counted, not
//    logged one by one.
//  - Memory: the last-announce table holds only hashes `due` returned in
//    the last two intervals.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/core/tracker_client_codec.hpp"

namespace btl {

class LsdService {
public:
    static constexpr int64_t kTickMs = 5'000;
    static constexpr int64_t kIntervalMs = 60'000;
    struct Hooks {
        std::function<std::vector<Sha1Digest>()> due;
        std::function<void(const Sha1Digest&, const PeerEndpoint&)> found;
        std::function<void(bool warning, const std::string&)> log;
    };

    // `port`: our listen port (what peers dial); `bind_ip`: the interface
    // to multicast from ("" = the default one).
    LsdService(uv_loop_t* loop, uint16_t port, std::string bind_ip, std::string cookie, Hooks hooks);
    ~LsdService();
    LsdService(const LsdService&) = delete;
    LsdService& operator=(const LsdService&) = delete;

    Status start(bool ipv4 = true, bool ipv6 = true);
    uint64_t bad_datagrams() const { return bad_; }
    uint64_t sent_datagrams() const { return sent_; }

private:
    struct Socket;
    Status open_family(bool ipv6);
    Status open_v6_sender(Socket& s, const std::string& iface);
    void on_tick();
    void on_datagram(std::string_view data, const sockaddr* from);

    uv_loop_t* loop_;
    uint16_t port_;
    std::string bind_ip_, cookie_;
    Hooks hooks_;
    std::vector<std::unique_ptr<Socket>> sockets_;
    UvHandle<uv_timer_t> tick_;
    std::map<Sha1Digest, int64_t> last_sent_;
    uint64_t bad_ = 0, sent_ = 0;
    std::string last_bad_;
};

}  // namespace btl
