// bttrack: an HTTP BitTorrent tracker (BEP 3, BEP 23 compact, BEP 7 peers6,
// scrape).  This file is wiring only: options, the --dfile image (loaded at
// start, saved periodically on the thread pool and once more on exit),
// --allowed_dir rescans, peer expiry, and SIGINT/SIGTERM.
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/atomic_file.hpp"
#include "btl/base/options.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/tracker/allowed_dir.hpp"
#include "btl/tracker/registry.hpp"
#include "btl/tracker/server.hpp"
#include "btl/tracker/service.hpp"

using namespace btl;

namespace {

const char* const kProgram = "bttrack";

const std::vector<OptionSpec> kSpecs = {
    {"port", "P", "6969", "TCP port"},
    {"bind", "IP", "0.0.0.0", "address to listen on"},
    {"dfile", "FILE", "", "state file, saved periodically and on exit (required)"},
    {"save_dfile_interval", "S", "300", "seconds between saves"},
    {"allowed_dir", "DIR", "", "track only torrents whose .torrent is in DIR"},
    {"parse_allowed_interval", "S", "60", "seconds between rescans of DIR"},
    {"reannounce_interval", "S", "1800", "interval told to clients"},
    {"timeout_downloaders_interval", "S", "2700", "drop peers silent this long"},
    {"response_size", "N", "50", "default and maximum numwant"},
    {"max_connections", "N", "1000", "open HTTP connections"},
    {"socket_timeout", "S", "15", "seconds for a request / idle keep-alive"},
    {"only_local_override_ip", "0|1", "1", "honour ip= only from local networks"},
    {"other_family_ip", "0|1", "1", "honour ipv6= over IPv4 and ipv4= over IPv6 (BEP 7)"},
    {"scrape_allowed", "MODE", "full", "full, specific or none"},
    {"max_torrents", "N", "100000", "torrents tracked at once"},
    {"max_peers_per_torrent", "N", "50000", "peers kept per torrent"},
    {"max_peers", "N", "2000000", "peers in all swarms"},
    {"help", "", "", "show this help"},
};

struct TrackOptions {
    int port = 6969;
    std::string bind = "0.0.0.0";
    std::string dfile;
    std::string allowed_dir;
    int64_t save_interval = 300;
    int64_t parse_allowed_interval = 60;
    int64_t reannounce = 1800;
    int64_t timeout_downloaders = 2700;
    int64_t response_size = 50;
    int64_t max_connections = 1000;
    int64_t socket_timeout = 15;
    int64_t only_local_override_ip = 1;
    int64_t other_family_ip = 1;
    std::string scrape = "full";
    int64_t max_torrents = 100000;
    int64_t max_peers_per_torrent = 50000;
    int64_t max_peers = 2000000;
};

// The parsed command line as TrackOptions; every error is a usage error.
Result<TrackOptions> track_options(const Options& o) {
    TrackOptions t;
    int64_t port = 0;
    struct Num { const char* name; int64_t* dst; int64_t lo, hi; };
    const Num nums[] = {
        {"port", &port, 0, 65535},
        {"save_dfile_interval", &t.save_interval, 1, INT32_MAX},
        {"parse_allowed_interval", &t.parse_allowed_interval, 1, INT32_MAX},
        {"reannounce_interval", &t.reannounce, 1, INT32_MAX},
        {"timeout_downloaders_interval", &t.timeout_downloaders, 1, INT32_MAX},
        {"response_size", &t.response_size, 0, 100000},
        {"max_connections", &t.max_connections, 1, 10000000},
        {"socket_timeout", &t.socket_timeout, 1, 86400},
        {"only_local_override_ip", &t.only_local_override_ip, 0, 1},
        {"other_family_ip", &t.other_family_ip, 0, 1},
        {"max_torrents", &t.max_torrents, 1, INT32_MAX},
        {"max_peers_per_torrent", &t.max_peers_per_torrent, 1, INT32_MAX},
        {"max_peers", &t.max_peers, 1, INT64_MAX},
    };
    for (const Num& n : nums) {
        auto v = o.get_int(n.name, n.lo, n.hi);
        if (!v) return v.error();
        *n.dst = *v;
    }
    auto scrape = o.get_choice("scrape_allowed", {"full", "specific", "none"});
    if (!scrape) return scrape.error();
    t.port = static_cast<int>(port);
    t.scrape = *scrape;
    t.bind = o.get("bind");
    t.dfile = o.get("dfile");
    t.allowed_dir = o.get("allowed_dir");
    if (t.dfile.empty()) return make_error("--dfile is required");
    return t;
}

int64_t now_s() { return static_cast<int64_t>(::time(nullptr)); }

struct App {
    TrackOptions opt;
    uv_loop_t* loop = uv_default_loop();
    std::unique_ptr<TrackerRegistry> reg;
    std::unique_ptr<TrackerService> svc;
    std::unique_ptr<TrackerServer> server;
    UvHandle<uv_timer_t> expire_timer, save_timer, scan_timer;
    UvHandle<uv_signal_t> sigint, sigterm;
    bool save_running = false;
    bool scan_running = false;
    uint64_t last_scan_ms = 0;
    std::shared_ptr<const AllowedScan> scan;
    std::set<std::string> warned;
    JobOwner jobs;  // no job's callback outlives the App

    void warn_scan(const AllowedScan& s) {
        for (const auto& w : s.warnings)
            if (warned.insert(w).second) std::fprintf(stderr, "bttrack: warning: %s\n", w.c_str());
    }

    void warn(const std::string& msg) { std::fprintf(stderr, "bttrack: warning: %s\n", msg.c_str()); }

    // The registry image is taken on the loop; writing it (with fsyncs) runs
    // on the pool, one save at a time.
    void start_save() {
        if (save_running) return;
        save_running = true;
        auto queued = queue_job(
            loop, jobs.token(), [data = reg->save(), path = opt.dfile] { return write_file_atomic(path, data, true); },
            [this](Status written) {
                save_running = false;
                if (!written) warn("cannot save state: " + written.error().message);
            });
        if (!queued) {
            save_running = false;  // the next timer tick tries again
            warn("cannot save state: " + queued.error().message);
        }
    }

    // Reading every .torrent of --allowed_dir is disk work: pool only.
    void start_scan() {
        if (opt.allowed_dir.empty() || scan_running) return;
        scan_running = true;
        last_scan_ms = uv_now(loop);
        auto queued = queue_job(
            loop, jobs.token(), [dir = opt.allowed_dir, prev = scan] { return scan_allowed_dir(dir, prev.get()); },
            [this](Result<AllowedScan> result) {
                scan_running = false;
                if (!result) warn(result.error().describe());
                else if (svc) install_scan(std::move(*result));
            });
        if (!queued) {
            scan_running = false;
            warn("cannot rescan --allowed_dir: " + queued.error().message);
        }
    }

    void install_scan(AllowedScan s) {
        warn_scan(s);
        auto shared = std::make_shared<const AllowedScan>(std::move(s));
        scan = shared;
        // Aliasing constructor: the map lives as long as the scan it belongs to.
        svc->set_allowed(std::shared_ptr<const AllowedMap>(shared, &shared->allowed));
    }

    void shutdown() {
        std::fprintf(stderr, "bttrack: shutting down\n");
        server->stop();
        expire_timer.reset();
        save_timer.reset();
        scan_timer.reset();
        sigint.reset();
        sigterm.reset();
    }
};

template <class Fn>
UvHandle<uv_timer_t> start_timer(uv_loop_t* loop, uint64_t ms, App* app, Fn) {
    auto t = UvHandle<uv_timer_t>::create([loop](uv_timer_t* h) { return uv_timer_init(loop, h); });
    if (!t) return t;
    t->data = app;
    uv_timer_start(t.get(), [](uv_timer_t* h) { if (h->data) Fn{}(static_cast<App*>(h->data)); }, ms, ms);
    return t;
}

// Every connection is a descriptor; let the cap, not the soft rlimit, decide.
void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

std::unique_ptr<TrackerRegistry> make_registry(const TrackOptions& o) {
    std::random_device rd;
    uint64_t seed = (uint64_t{rd()} << 32) ^ rd();
    RegistryConfig rc;
    rc.announce_interval = o.reannounce;
    rc.min_interval = o.reannounce / 2 > 0 ? o.reannounce / 2 : 1;
    rc.peer_timeout = o.timeout_downloaders;
    rc.response_size = static_cast<int>(o.response_size);
    rc.max_torrents = static_cast<size_t>(o.max_torrents);
    rc.max_peers_per_torrent = static_cast<size_t>(o.max_peers_per_torrent);
    rc.max_total_peers = static_cast<size_t>(o.max_peers);
    char tid[9];
    std::snprintf(tid, sizeof tid, "%08x", static_cast<unsigned>(seed >> 7));
    rc.tracker_id = tid;
    return std::make_unique<TrackerRegistry>(rc, seed);
}

// A missing or broken --dfile is a warning: the tracker starts empty.
void load_dfile(TrackerRegistry& reg, const std::string& dfile) {
    FILE* f = std::fopen(dfile.c_str(), "rb");
    if (!f) {
        if (errno != ENOENT)
            std::fprintf(stderr, "bttrack: warning: %s: %s; starting with an empty state\n", dfile.c_str(),
                         std::strerror(errno));
        return;
    }
    std::string data;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
    std::fclose(f);
    if (data.empty()) return;
    if (auto st = reg.load(data, now_s()); !st)
        std::fprintf(stderr, "bttrack: warning: %s: %s; starting with an empty state\n", dfile.c_str(),
                     st.error().describe().c_str());
}

// The service (with --allowed_dir's first scan) and the listening server.
Status start_service(App& app) {
    const TrackOptions& o = app.opt;
    ServiceConfig sc;
    sc.only_local_override_ip = o.only_local_override_ip != 0;
    sc.other_family_ip = o.other_family_ip != 0;
    sc.scrape = o.scrape == "none" ? ScrapeMode::none : o.scrape == "specific" ? ScrapeMode::specific : ScrapeMode::full;
    app.svc = std::make_unique<TrackerService>(*app.reg, sc);
    if (!o.allowed_dir.empty()) {
        auto s = scan_allowed_dir(o.allowed_dir, nullptr);
        if (!s) return make_error("--allowed_dir: " + s.error().describe());
        app.install_scan(std::move(*s));
        app.svc->on_unknown_torrent = [&app] {
            // A new .torrent may just have been dropped in: rescan, at most every 5 s.
            if (uv_now(app.loop) - app.last_scan_ms >= 5000) app.start_scan();
        };
    }
    ServerConfig svcfg;
    svcfg.bind = o.bind;
    svcfg.port = o.port;
    svcfg.max_connections = static_cast<size_t>(o.max_connections);
    svcfg.timeout_ms = static_cast<uint64_t>(o.socket_timeout) * 1000;
    app.server = std::make_unique<TrackerServer>(app.loop, *app.svc, svcfg);
    if (auto st = app.server->start(); !st) return make_error(st.error().describe());
    app.svc->status_extra = [&app](std::string& out) {
        const ServerStats& s = app.server->stats();
        out += "connections: " + std::to_string(s.open) + " (max " + std::to_string(app.opt.max_connections) +
               ")  rejected: " + std::to_string(s.rejected) + "  timed out: " + std::to_string(s.timed_out) +
               "  bad requests: " + std::to_string(s.bad_requests) + "\n";
    };
    std::fprintf(stderr, "bttrack: listening on %s:%d\n", o.bind.c_str(), app.server->bound_port());
    // Listening proves no other bttrack serves this port; a temporary file
    // of a save a SIGKILL interrupted is garbage now.
    remove_atomic_temps(o.dfile);
    return Ok{};
}

// Peer expiry, periodic saves, --allowed_dir rescans, SIGINT/SIGTERM.
Status install_handlers(App& app) {
    const TrackOptions& o = app.opt;
    struct Expire { void operator()(App* a) const { a->reg->expire(now_s()); } };
    struct Save { void operator()(App* a) const { a->start_save(); } };
    struct Scan { void operator()(App* a) const { a->start_scan(); } };
    int64_t expire_s = o.timeout_downloaders / 4;
    expire_s = expire_s < 1 ? 1 : expire_s > 60 ? 60 : expire_s;
    app.expire_timer = start_timer(app.loop, static_cast<uint64_t>(expire_s) * 1000, &app, Expire{});
    app.save_timer = start_timer(app.loop, static_cast<uint64_t>(o.save_interval) * 1000, &app, Save{});
    if (!app.expire_timer || !app.save_timer) return make_error("cannot create a timer");
    if (!o.allowed_dir.empty()) {
        app.scan_timer = start_timer(app.loop, static_cast<uint64_t>(o.parse_allowed_interval) * 1000, &app, Scan{});
        if (!app.scan_timer) return make_error("cannot create a timer");
    }
    for (auto [sig, handle] : {std::pair{SIGINT, &app.sigint}, std::pair{SIGTERM, &app.sigterm}}) {
        *handle = UvHandle<uv_signal_t>::create([&app](uv_signal_t* h) { return uv_signal_init(app.loop, h); });
        if (!*handle) return make_error("cannot install signal handler");
        (*handle)->data = &app;
        uv_signal_start(handle->get(),
                        [](uv_signal_t* h, int) { if (h->data) static_cast<App*>(h->data)->shutdown(); }, sig);
    }
    return Ok{};
}

}  // namespace

int main(int argc, char** argv) {
    Options cli(kSpecs);
    const ProgramInfo program{kProgram, "bttrack --dfile FILE [--port P] [options]",
                              "An HTTP BitTorrent tracker (BEP 3, BEP 23 compact, scrape).", 0, 0, "no arguments"};
    if (auto code = parse_command_line(cli, program, argc, argv)) return *code;
    auto parsed = track_options(cli);
    if (!parsed) return usage_error(kProgram, parsed.error().message);
    App app;
    app.opt = *parsed;
    std::signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    app.reg = make_registry(app.opt);
    load_dfile(*app.reg, app.opt.dfile);
    if (auto st = start_service(app); !st) return runtime_error(kProgram, st.error().message);
    if (auto st = install_handlers(app); !st) return runtime_error(kProgram, st.error().message);

    uv_run(app.loop, UV_RUN_DEFAULT);

    // The final save is synchronous: the loop is done, nothing waits for it.
    app.reg->expire(now_s());
    Status saved = write_file_atomic(app.opt.dfile, app.reg->save(), true);
    app.server.reset();
    uv_run(app.loop, UV_RUN_NOWAIT);
    if (!saved) return runtime_error(kProgram, "cannot save state: " + saved.error().message);
    return kExitOk;
}
