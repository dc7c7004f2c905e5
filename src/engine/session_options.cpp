#include "btl/engine/session_options.hpp"

#include <unistd.h>

namespace btl {

const std::vector<OptionSpec>& session_option_specs() {
    static const std::vector<OptionSpec> specs = {
        {"minport", "PORT", "6881", "lowest port to listen on"},
        {"maxport", "PORT", "6889", "highest port to listen on"},
        {"bind", "IP", "", "local address to listen on and connect from"},
        {"ip", "IP", "", "address reported to trackers"},
        {"ca_file", "FILE", "", "also trust the CA certificates in FILE (PEM) for https:// trackers"},
        {"max_files_open", "N", "256", "open file descriptors kept for data files"},
        {"super_seeder", "", "", "BEP 16 super-seeding for torrents complete at start"},
        {"disk_retry_interval", "S", "10", "when a disk is full, look for free space this often (backing off)"},
        // Peer exchange (BEP 11); never on private torrents.
        {"pex", "0|1", "1", "exchange peer addresses with peers (BEP 11 ut_pex; never on private torrents)"},
        {"upnp", "0|1", "1", "map the listen port on the router by UPnP (else forward --minport..--maxport by hand)"},
        {"natpmp", "0|1", "1", "map the listen port on the router by NAT-PMP"},
        {"portmap_lease", "S", "3600", "port-mapping lease asked of the router; renewed at half"},
        {"lsd", "0|1", "1", "find peers on the LAN by Local Service Discovery (BEP 14; never for private torrents)"},
        {"encryption", "MODE", "prefer",
         "MSE/PE: allow (plain text first), prefer (encrypted first), require (encrypted only, both ways)"},
        {"utp", "0|1", "1", "uTP (BEP 29) on the listen port: accept it, dial peers known to speak it"},
        {"dht", "0|1", "1", "mainline DHT (BEP 5) on the listen port's UDP; never for private torrents"},
        {"dht_bootstrap", "HOST:PORT,...",
         "router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881",
         "DHT nodes to join through when the saved routing table is not enough (empty: none)"},
        // Seeding goals.
        {"seed_ratio", "R", "0", "stop seeding a torrent (state finished) at this share ratio, 0 = never"},
        {"seed_idle_minutes", "M", "0", "stop seeding a torrent after M minutes without uploading, 0 = never"},
    };
    return specs;
}

std::vector<OptionSpec> with_session_options(std::vector<OptionSpec> program_specs, size_t insert_after) {
    const auto& shared = session_option_specs();
    if (insert_after > program_specs.size()) insert_after = program_specs.size();
    program_specs.insert(program_specs.begin() + std::ptrdiff_t(insert_after), shared.begin(), shared.end());
    return program_specs;
}

namespace {

// --upnp, --natpmp, --lsd, --portmap_lease.
Status read_reach_options(const Options& o, SessionOptions& so) {
    auto upnp = o.get_int("upnp", 0, 1), natpmp = o.get_int("natpmp", 0, 1), lsd = o.get_int("lsd", 0, 1);
    auto lease = o.get_int("portmap_lease", 2, 86400);
    for (const auto* r : {&upnp, &natpmp, &lsd, &lease})
        if (!r->ok()) return r->error();
    so.upnp = *upnp == 1;
    so.natpmp = *natpmp == 1;
    so.lsd = *lsd == 1;
    so.portmap_lease_s = uint32_t(*lease);
    return Ok{};
}

}  // namespace

// --dht and --dht_bootstrap: every bootstrap entry must be HOST:PORT.
static Status read_dht_options(const Options& o, SessionOptions& so) {
    auto dht = o.get_int("dht", 0, 1);
    if (!dht.ok()) return dht.error();
    so.dht = *dht == 1;
    so.dht_bootstrap = o.get("dht_bootstrap");
    size_t start = 0;
    while (start < so.dht_bootstrap.size()) {
        size_t end = so.dht_bootstrap.find(',', start);
        if (end == std::string::npos) end = so.dht_bootstrap.size();
        std::string item = so.dht_bootstrap.substr(start, end - start);
        size_t colon = item.rfind(':');
        int port = colon == std::string::npos ? 0 : std::atoi(item.c_str() + colon + 1);
        if (colon == std::string::npos || colon == 0 || port < 1 || port > 65535 ||
            item.find_first_not_of("0123456789", colon + 1) != std::string::npos)
            return make_error("--dht_bootstrap: '" + item + "' is not HOST:PORT");
        start = end + 1;
    }
    return Ok{};
}

Status read_session_options(const Options& o, SessionOptions& so) {
    auto minport = o.get_int("minport", 1, 65535), maxport = o.get_int("maxport", 1, 65535);
    auto files_open = o.get_int("max_files_open", 4, 100000);
    auto disk_retry = o.get_double("disk_retry_interval", 0.1, 86400);
    auto utp = o.get_int("utp", 0, 1);
    if (!utp.ok()) return utp.error();
    so.utp = *utp == 1;
    for (const Error* e : {minport.ok() ? nullptr : &minport.error(), maxport.ok() ? nullptr : &maxport.error(),
                           files_open.ok() ? nullptr : &files_open.error(),
                           disk_retry.ok() ? nullptr : &disk_retry.error()})
        if (e) return *e;
    if (*maxport < *minport) return make_error("--maxport is lower than --minport");
    so.minport = uint16_t(*minport);
    so.maxport = uint16_t(*maxport);
    so.bind_ip = o.get("bind");
    so.announce_ip = o.get("ip");
    so.ca_file = o.get("ca_file");
    // A typo is a usage error now, not a TLS failure at the first announce.
    if (!so.ca_file.empty() && access(so.ca_file.c_str(), R_OK) != 0)
        return make_error("--ca_file " + so.ca_file + ": cannot read it");
    so.max_files_open = size_t(*files_open);
    so.disk_retry_interval_ms = int64_t(*disk_retry * 1000);
    so.super_seeder = o.flag("super_seeder");
    auto pex = o.get_int("pex", 0, 1);
    if (!pex) return pex.error();
    so.pex = *pex == 1;
    if (auto st = read_reach_options(o, so); !st.ok()) return st;
    const std::string enc = o.get("encryption");
    if (enc == "allow") so.encryption = Encryption::allow;
    else if (enc == "prefer") so.encryption = Encryption::prefer;
    else if (enc == "require") so.encryption = Encryption::require;
    else return make_error("--encryption must be allow, prefer or require, not '" + enc + "'");
    if (auto st = read_dht_options(o, so); !st.ok()) return st;
    // Seeding goals.
    auto ratio = o.get_double("seed_ratio", 0, 1e6);
    if (!ratio.ok()) return ratio.error();
    auto idle = o.get_int("seed_idle_minutes", 0, 10'000'000);
    if (!idle.ok()) return idle.error();
    so.seed_ratio = *ratio;
    so.seed_idle_minutes = *idle;
    return Ok{};
}

}  // namespace btl
