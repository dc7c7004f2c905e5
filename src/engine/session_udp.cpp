// Session: the UDP socket(s) of the listen port and what rides on them —
// uTP (BEP 29), the DHT (started in session.cpp), UDP trackers (BEP 15) —
// and the addresses we tell trackers about ourselves (BEP 7 ipv6=).
#include <cstring>

#include "btl/engine/session.hpp"

namespace btl {

namespace {

// Global unicast (2000::/3): an address other hosts can dial.  Loopback,
// link-local and unique-local addresses mean nothing to a public tracker.
bool is_global_v6(const in6_addr& a) { return (a.s6_addr[0] & 0xe0) == 0x20; }

// Our first global IPv6 address, "" when the host has none.  getifaddrs
// reads the kernel's table: no I/O that could block.
std::string find_global_ipv6() {
    uv_interface_address_t* ifs = nullptr;
    int n = 0;
    if (uv_interface_addresses(&ifs, &n) != 0) return "";
    std::string out;
    for (int i = 0; i < n && out.empty(); ++i) {
        const auto& a = ifs[i].address.address6;
        if (ifs[i].is_internal || a.sin6_family != AF_INET6 || !is_global_v6(a.sin6_addr)) continue;
        char buf[INET6_ADDRSTRLEN] = {};
        if (uv_ip6_name(&a, buf, sizeof buf) == 0) out = buf;
    }
    uv_free_interface_addresses(ifs, n);
    return out;
}

}  // namespace

void Session::log_listening() {
    std::string how;
    if (listener_.dual_stack())
        how = " (IPv4 and IPv6)";
    else if (opt_.bind_ip.empty())
        how = std::string(" (IPv4 only: no IPv6 socket: ") + uv_strerror(listener_.ipv6_error()) + ")";
    log(LogLevel::info, "", "listening on port " + std::to_string(listener_.port()) + how);
    // BEP 7: an IPv6 --bind is the address trackers should give out; with
    // no --bind, the host's global IPv6 address if it has one.
    sockaddr_in6 probe{};
    if (!opt_.bind_ip.empty())
        ipv6_address_ = uv_ip6_addr(opt_.bind_ip.c_str(), 0, &probe) == 0 ? opt_.bind_ip : "";
    else if (listener_.dual_stack())
        ipv6_address_ = find_global_ipv6();
}

// uTP shares the TCP port number, on UDP; without it we still run on TCP.
// A UDP port already taken is no reason to refuse to run: no DHT and no uTP
// then, and UDP trackers get sockets of their own.
void Session::open_udp() {
    udp_ = std::make_shared<UdpSocket>(loop_);
    if (int rc = udp_->open(opt_.bind_ip, listener_.port()); rc != 0) {
        log(LogLevel::warning, "", "cannot open UDP port " + std::to_string(listener_.port()) + ": " +
                                       uv_strerror(rc) + "; no DHT and no uTP, UDP trackers on sockets of their own");
        udp_.reset();
        return;
    }
    udp_trackers_ = std::make_shared<UdpTrackerMux>(udp_);
}

void Session::start_utp() {
    if (!udp_) return;
    UdpSocket* sock = udp_.get();
    utp_ = std::make_unique<UtpContext>(loop_, [sock](const sockaddr* to, std::string_view d) { sock->send(to, d); });
    UtpContext* ctx = utp_.get();
    for (uint8_t type = 0; type <= 4; ++type)  // uTP: type in the high nibble, version 1
        udp_->route(uint8_t(type << 4 | 1), [ctx](const sockaddr* from, std::string_view d) { ctx->incoming(from, d); });
    // Benchmarks and tests: dial every peer over uTP first.
    const char* first = getenv("BTL_UTP_FIRST");
    utp_first_ = first && std::string(first) == "1";
    utp_->set_accept([this](std::unique_ptr<PeerTransport> t) { on_accept_utp(std::move(t)); });
}

}  // namespace btl
