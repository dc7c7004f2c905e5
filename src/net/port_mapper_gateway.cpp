// The blocking half of port mapping: miniupnpc and libnatpmp calls, run only
// on the thread pool (port_mapper.hpp).
#include <arpa/inet.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#define ENABLE_STRNATPMPERR 1  // Debian builds libnatpmp with it
#include <natpmp.h>
#include <sys/select.h>
#include <sys/time.h>

#include <chrono>
#include <cstring>

#include "btl/net/port_mapper.hpp"

namespace btl {

struct GatewayCache {
    // UPnP: found by discovery, reused for renewals until a call fails.
    std::string control_url, service_type, lan_addr;
    // NAT-PMP: the gateway's seconds-since-start at our last answer, and when.
    bool have_epoch = false;
    uint32_t epoch = 0;
    std::chrono::steady_clock::time_point epoch_at{};
};

std::shared_ptr<GatewayCache> make_gateway_cache() { return std::make_shared<GatewayCache>(); }

namespace {

constexpr int kSsdpWaitMs = 2000;
constexpr int kNatPmpWaitMs = 2500;  // libnatpmp alone would retry for about two minutes
constexpr const char* kDescription = "btlaunchmany";

std::string upnp_error(int code) {
    const char* s = strupnperror(code);
    return s ? std::string(s) + " (" + std::to_string(code) + ")" : "error " + std::to_string(code);
}

// Finds the IGD and fills the cache; an error text or "".
std::string upnp_discover(GatewayCache& c, const PortMapRequest& req, std::vector<std::string>& notes) {
    int err = 0;
    UPNPDev* devs = upnpDiscover(kSsdpWaitMs, req.bind_ip.empty() ? nullptr : req.bind_ip.c_str(), nullptr,
                                 UPNP_LOCAL_PORT_ANY, 0, 2, &err);
    if (!devs) return "no UPnP gateway answered the SSDP search";
    UPNPUrls urls{};
    IGDdatas data{};
    char lan[64] = {};
    int r = UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof lan);
    freeUPNPDevlist(devs);
    if (r == 0) return "no UPnP internet gateway device found";
    if (r == 3) {
        FreeUPNPUrls(&urls);
        return "the UPnP device that answered is not an internet gateway";
    }
    if (r == 2)  // miniupnpc says so when the gateway is down or its external address is a reserved one
        notes.push_back("the UPnP gateway reports it is not connected or has a reserved external address; mapping anyway");
    c.control_url = urls.controlURL ? urls.controlURL : "";
    c.service_type = data.first.servicetype;
    c.lan_addr = lan;
    FreeUPNPUrls(&urls);
    if (c.control_url.empty()) return "the UPnP gateway gave no control URL";
    return "";
}

std::string upnp_add(const GatewayCache& c, const PortMapRequest& req, const char* proto, uint32_t& lease) {
    const std::string port = std::to_string(req.port);
    std::string l = std::to_string(lease);
    int r = UPNP_AddPortMapping(c.control_url.c_str(), c.service_type.c_str(), port.c_str(), port.c_str(),
                                c.lan_addr.c_str(), kDescription, proto, nullptr, l.c_str());
    if (r == 725) {  // OnlyPermanentLeasesSupported
        lease = 0;
        r = UPNP_AddPortMapping(c.control_url.c_str(), c.service_type.c_str(), port.c_str(), port.c_str(),
                                c.lan_addr.c_str(), kDescription, proto, nullptr, "0");
    }
    if (r != 0) return std::string(proto) + " " + upnp_error(r);
    return "";
}

PortMapOutcome upnp_try(GatewayCache& c, const PortMapRequest& req) {
    PortMapOutcome o;
    o.method = "UPnP";
    if (c.control_url.empty()) {
        if (auto e = upnp_discover(c, req, o.notes); !e.empty()) {
            o.error = e;
            return o;
        }
    }
    char ext[64] = {};
    int r = UPNP_GetExternalIPAddress(c.control_url.c_str(), c.service_type.c_str(), ext);
    if (r != 0) {
        c.control_url.clear();  // rediscover next time: the gateway may have moved
        o.error = "UPnP GetExternalIPAddress: " + upnp_error(r);
        return o;
    }
    uint32_t lease = req.lease_s;
    for (const char* proto : {"TCP", "UDP"}) {
        if (auto e = upnp_add(c, req, proto, lease); !e.empty()) {
            c.control_url.clear();
            o.error = "UPnP AddPortMapping " + e;
            return o;
        }
    }
    o.mapped = true;
    o.external_ip = ext;
    o.external_port = req.port;
    // A permanent mapping is still re-added now and then, in case the gateway rebooted.
    o.lease_s = lease ? lease : 1200;
    if (o.external_ip.empty()) o.external_ip = "an unknown address";
    return o;
}

// A renewal through the cached control URL that fails is retried once after
// a fresh discovery: a rebooted gateway often serves on a new port.
PortMapOutcome upnp_map(GatewayCache& c, const PortMapRequest& req) {
    const bool cached = !c.control_url.empty();
    PortMapOutcome o = upnp_try(c, req);
    if (o.mapped || !cached) return o;
    c.control_url.clear();
    PortMapOutcome again = upnp_try(c, req);
    again.notes.insert(again.notes.begin(), "the UPnP gateway stopped answering at its old address (" + o.error +
                                                "); discovering it again");
    return again;
}

// Sends nothing: waits for the answer to the pending request, at most kNatPmpWaitMs.
int natpmp_wait(natpmp_t& n, natpmpresp_t& resp) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kNatPmpWaitMs);
    for (;;) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(n.s, &fds);
        timeval tv{};
        getnatpmprequesttimeout(&n, &tv);
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return NATPMP_TRYAGAIN;
        int64_t want = int64_t(tv.tv_sec) * 1'000'000 + tv.tv_usec;
        if (want > left.count() || want < 0) want = left.count();
        tv.tv_sec = time_t(want / 1'000'000);
        tv.tv_usec = suseconds_t(want % 1'000'000);
        select(n.s + 1, &fds, nullptr, nullptr, &tv);
        int r = readnatpmpresponseorretry(&n, &resp);
        if (r != NATPMP_TRYAGAIN) return r;
    }
}

std::string natpmp_error(int r) {
    if (r == NATPMP_TRYAGAIN) return "no NAT-PMP answer from the gateway";
    const char* s = strnatpmperr(r);
    return s ? s : "error " + std::to_string(r);
}

// Notes a gateway whose epoch went backwards: it restarted and lost our mapping.
void natpmp_epoch(GatewayCache& c, uint32_t epoch, std::vector<std::string>& notes) {
    auto now = std::chrono::steady_clock::now();
    if (c.have_epoch) {
        auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - c.epoch_at).count();
        // RFC 6886 3.6: allow a little drift (7/8 of the time we measured, minus 2 s).
        if (int64_t(epoch) + 2 < int64_t(c.epoch) + elapsed * 7 / 8)
            notes.push_back("the NAT-PMP gateway restarted (its epoch went back); mapping again");
    }
    c.have_epoch = true;
    c.epoch = epoch;
    c.epoch_at = now;
}

PortMapOutcome natpmp_map(GatewayCache& c, const PortMapRequest& req) {
    PortMapOutcome o;
    o.method = "NAT-PMP";
    natpmp_t n{};
    int r = initnatpmp(&n, 0, 0);
    if (r < 0) {
        o.error = r == NATPMP_ERR_CANNOTGETGATEWAY ? "no default gateway for NAT-PMP" : "NAT-PMP: " + natpmp_error(r);
        return o;
    }
    natpmpresp_t resp{};
    r = sendpublicaddressrequest(&n);
    if (r >= 0) r = natpmp_wait(n, resp);
    if (r < 0) {
        closenatpmp(&n);
        o.error = "NAT-PMP: " + natpmp_error(r);
        return o;
    }
    natpmp_epoch(c, resp.epoch, o.notes);
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, ip, sizeof ip);
    o.external_ip = ip;
    for (int proto : {NATPMP_PROTOCOL_TCP, NATPMP_PROTOCOL_UDP}) {
        r = sendnewportmappingrequest(&n, proto, req.port, req.port, req.lease_s);
        if (r >= 0) r = natpmp_wait(n, resp);
        if (r < 0) {
            closenatpmp(&n);
            o.error = std::string("NAT-PMP ") + (proto == NATPMP_PROTOCOL_TCP ? "TCP" : "UDP") + " mapping: " +
                      natpmp_error(r);
            return o;
        }
        natpmp_epoch(c, resp.epoch, o.notes);
        if (proto == NATPMP_PROTOCOL_TCP) {
            o.external_port = resp.pnu.newportmapping.mappedpublicport;
            o.lease_s = resp.pnu.newportmapping.lifetime;
        } else if (resp.pnu.newportmapping.lifetime < o.lease_s) {
            o.lease_s = resp.pnu.newportmapping.lifetime;
        }
    }
    closenatpmp(&n);
    o.mapped = o.external_port != 0 && o.lease_s > 0;
    if (!o.mapped) o.error = "the NAT-PMP gateway granted no mapping";
    return o;
}

}  // namespace

PortMapOutcome gateway_map(GatewayCache& cache, const PortMapRequest& req) {
    PortMapOutcome up, pmp;
    if (req.upnp) {
        up = upnp_map(cache, req);
        if (up.mapped) return up;
    }
    if (req.natpmp) {
        pmp = natpmp_map(cache, req);
        pmp.notes.insert(pmp.notes.begin(), up.notes.begin(), up.notes.end());
        if (pmp.mapped || !req.upnp) return pmp;
        pmp.error = up.error + "; " + pmp.error;
        return pmp;
    }
    return up;
}

std::string gateway_unmap(GatewayCache& c, const PortMapRequest& req, const std::string& method) {
    if (method == "UPnP") {
        if (c.control_url.empty()) return "no UPnP gateway known";
        const std::string port = std::to_string(req.port);
        std::string errors;
        for (const char* proto : {"TCP", "UDP"}) {
            int r = UPNP_DeletePortMapping(c.control_url.c_str(), c.service_type.c_str(), port.c_str(), proto, nullptr);
            if (r != 0) errors += (errors.empty() ? "" : "; ") + std::string(proto) + " " + upnp_error(r);
        }
        return errors;
    }
    natpmp_t n{};
    int r = initnatpmp(&n, 0, 0);
    if (r < 0) return natpmp_error(r);
    std::string errors;
    for (int proto : {NATPMP_PROTOCOL_TCP, NATPMP_PROTOCOL_UDP}) {
        natpmpresp_t resp{};
        r = sendnewportmappingrequest(&n, proto, req.port, 0, 0);  // lifetime 0 deletes
        if (r >= 0) r = natpmp_wait(n, resp);
        if (r < 0) errors += (errors.empty() ? "" : "; ") + natpmp_error(r);
    }
    closenatpmp(&n);
    return errors;
}

}  // namespace btl
