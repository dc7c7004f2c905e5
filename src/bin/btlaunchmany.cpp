// btlaunchmany DIR — runs every .torrent in DIR in one session on one libuv
// loop, with a curses table (a terminal) or plain log lines (otherwise).
// Wiring only: Launcher does the watching and bookkeeping, the views show
// it, the Session does the work, StatusFile writes --status_json and
// ConfigReload handles SIGHUP.
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "btl/base/lock_file.hpp"
#include "btl/base/options.hpp"
#include "btl/base/process.hpp"
#include "btl/base/version.hpp"
#include "btl/disk/resume.hpp"
#include "btl/engine/session.hpp"
#include "btl/engine/session_options.hpp"
#include "btl/launcher/config_reload.hpp"
#include "btl/launcher/launcher.hpp"
#include "btl/launcher/rpc_launcher_backend.hpp"
#include "btl/launcher/status_file.hpp"
#include "btl/rpc/rpc_security.hpp"
#include "btl/rpc/rpc_server.hpp"
#include "btl/ui/attached_view.hpp"
#include "btl/ui/curses_view.hpp"
#include "btl/ui/engine_process.hpp"
#include "btl/ui/plain_view.hpp"

using namespace btl;

namespace {

const char* const kProgram = "btlaunchmany";

// The engine's options (session_options.hpp) follow saveas_style.
const std::vector<OptionSpec> kSpecs = with_session_options({
    {"save_in", "DIR", "", "save downloads under DIR (default: the watched directory)"},
    {"saveas_style", "N", "4", "how downloads are named, 1-4 (see the man page)"},
    // places
    {"incomplete_dir", "DIR", "", "downloads live in DIR until complete, then move to their save path"},
    {"move_completed_to", "DIR", "", "move completed downloads to DIR (on the thread pool) and seed from there"},
    {"max_upload_rate", "KB/S", "0", "global upload cap in kB/s, 0 = unlimited"},
    {"max_download_rate", "KB/S", "0", "global download cap in kB/s, 0 = unlimited"},
    {"max_uploads", "N", "4", "peers unchoked at once per torrent (plus one optimistic)"},
    {"data_dir", "DIR", "", "where resume data lives (default $XDG_STATE_HOME/btlaunchmany)"},
    {"display", "MODE", "", "curses or plain (default: curses when stdout is a terminal)"},
    {"display_interval", "S", "1", "seconds between screen updates / status_json writes"},
    {"parse_dir_interval", "S", "60", "seconds between full rescans of DIR"},
    {"status_json", "FILE", "", "rewrite FILE with a JSON status every display interval"},
    {"config", "FILE", "", "config file (default $XDG_CONFIG_HOME/btlaunchmany/config)"},
    {"verbose", "", "", "also log peer-level events (plain display)"},
    {"rpc_port", "PORT", "9091", "serve Transmission's RPC and /metrics on PORT, 0 = off"},
    {"rpc_bind", "IP", "127.0.0.1", "address the RPC port listens on (not loopback: --rpc_auth required)"},
    {"rpc_auth", "USER:PASS", "", "HTTP Basic credentials the RPC port requires"},
    {"rpc_host_whitelist", "NAME,...", "", "Host names accepted besides IP addresses and localhost"},
    {"rpc_allow_any_dir", "0|1", "0", "let RPC clients save outside --save_in"},
    {"attach", "", "", "attach the curses view to a running engine: btlaunchmany --attach [URL] (see the man page)"},
    // Queue and hooks.
    {"max_active_downloads", "N", "5", "torrents downloading at once, the rest queued; 0 = unlimited"},
    {"max_active_seeds", "N", "0", "torrents seeding at once, the rest queued; 0 = unlimited"},
    {"queue_stalled_minutes", "M", "30", "a download idle this long stops counting against the queue limit"},
    {"on_added", "CMD", "", "run CMD (/bin/sh -c) when a torrent is added; BTL_* in its environment"},
    {"on_complete", "CMD", "", "run CMD when a torrent completes its download"},
    {"on_removed", "CMD", "", "run CMD when a torrent is removed"},
    {"help", "", "", "show this help"},
}, 2);

int fail(const std::string& msg) { return runtime_error(kProgram, msg); }
int usage(const std::string& msg) { return usage_error(kProgram, msg); }

bool is_dir(const std::string& path) {
    struct stat sb {};
    return stat(path.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

// Everything main() wires, checked.
struct Settings {
    SessionOptions session;
    LauncherOptions launcher;
    std::string display, status_path;
    double interval = 1;
    bool created_save_in = false;  // said in the log once the view is up
    rpc::RpcServerOptions rpc;
};

// The --rpc_* options; the Unix socket sits in the data dir.
Status read_rpc_settings(const Options& o, Settings& s) {
    auto port = o.get_int("rpc_port", 0, 65535);
    if (!port.ok()) return port.error();
    auto any = o.get_int("rpc_allow_any_dir", 0, 1);
    if (!any.ok()) return any.error();
    rpc::RpcServerOptions& r = s.rpc;
    r.port = uint16_t(*port);
    r.tcp_optional = !o.has("rpc_port");
    r.bind = o.get("rpc_bind");
    r.auth = o.get("rpc_auth");
    bool ok = true;
    r.host_whitelist = rpc::split_host_list(o.get("rpc_host_whitelist"), ok);
    if (!ok) return make_error("--rpc_host_whitelist: an empty name in the list");
    r.allow_any_dir = *any != 0;
    r.allowed_dirs = place_roots(s.launcher);
    r.unix_path = s.session.data_dir + "/rpc.sock";
    r.version = std::string(kProgram) + " " + kVersion;
    return rpc::check_rpc_options(r);
}

// A --save_in that does not exist yet is created, as btdownloadheadless
// does (refusing it only made a first run fail); one that exists but is
// not a directory is an error.  Returns an exit code on failure.
std::optional<int> prepare_save_in(Settings& s) {
    const std::string& dir = s.launcher.save_in;
    if (is_dir(dir)) return std::nullopt;
    struct stat sb {};
    if (::stat(dir.c_str(), &sb) == 0) return fail(dir + ": --save_in is not a directory");
    if (int e = make_directories(dir)) return fail("cannot create --save_in " + dir + ": " + std::strerror(e));
    s.created_save_in = true;
    return std::nullopt;
}

// --max_active_downloads, --max_active_seeds, --queue_stalled_minutes, hooks.
Status read_queue_settings(const Options& o, LauncherOptions& l) {
    auto down = o.get_int("max_active_downloads", 0, 1'000'000), seeds = o.get_int("max_active_seeds", 0, 1'000'000);
    auto stalled = o.get_int("queue_stalled_minutes", 1, 10'000'000);
    for (const auto* r : {&down, &seeds, &stalled})
        if (!r->ok()) return r->error();
    l.queue.max_downloads = int(*down);
    l.queue.max_seeds = int(*seeds);
    l.queue_stalled_ms = *stalled * 60'000;
    l.on_added = o.get("on_added");
    l.on_complete = o.get("on_complete");
    l.on_removed = o.get("on_removed");
    return Ok{};
}

// The option values as Settings; an error is a usage error (exit 2).
Result<Settings> read_settings(const LoadedOptions& lo, const std::string& dir) {
    const Options& o = lo.options;
    auto style = o.get_int("saveas_style", 1, 4);
    auto interval = o.get_double("display_interval", 0.1, 3600);
    auto rescan = o.get_double("parse_dir_interval", 0, 86400);
    auto lim = live_settings(o);
    for (const Error* e : {style.ok() ? nullptr : &style.error(), interval.ok() ? nullptr : &interval.error(),
                           rescan.ok() ? nullptr : &rescan.error(), lim.ok() ? nullptr : &lim.error()})
        if (e) return *e;
    Settings s;
    SessionOptions& so = s.session;
    if (Status st = read_session_options(o, so); !st) return st.error();
    s.display = o.get("display");
    if (s.display.empty()) s.display = isatty(1) && isatty(0) ? "curses" : "plain";
    if (s.display != "curses" && s.display != "plain") return make_error("--display must be curses or plain");
    so.max_upload_rate = lim->max_upload_rate;
    so.max_download_rate = lim->max_download_rate;
    so.max_uploads = lim->max_uploads;
    so.lock_claims = true;  // thousands of torrents: one lock and a claims log, not a lock each
    so.data_dir = o.get("data_dir").empty() ? default_data_dir() : o.get("data_dir");
    s.launcher.dir = dir;
    s.launcher.save_in = o.has("save_in") ? o.get("save_in") : dir;
    s.launcher.saveas_style = int(*style);
    s.launcher.parse_dir_interval_ms = int64_t(*rescan * 1000);
    if (Status st = read_places(o, lo.labels, s.launcher); !st.ok()) return st.error();
    s.interval = *interval;
    s.status_path = o.get("status_json");
    if (Status st = read_rpc_settings(o, s); !st.ok()) return st.error();
    if (Status st = read_queue_settings(o, s.launcher); !st.ok()) return st.error();
    return s;
}

// One launcher per state directory: two would fight over every torrent's
// resume file.  The lock lives until exit (the kernel drops it if we die).
Result<LockFile> lock_data_dir(const std::string& data_dir) {
    if (int e = make_directories(data_dir))
        return make_error("cannot create data directory " + data_dir + ": " + std::strerror(e));
    auto instance = try_lock_file(data_dir + "/btlaunchmany.lock");
    if (instance.busy)
        return make_error("another btlaunchmany (" +
                          (instance.holder_pid > 0 ? "pid " + std::to_string(instance.holder_pid) : std::string("pid unknown")) +
                          ") is using " + data_dir);
    if (!instance.ok()) return make_error(instance.error);
    return std::move(instance.lock);
}

struct App {
    uv_loop_t* loop = nullptr;
    Session* session = nullptr;
    Launcher* launcher = nullptr;
    LogBook* logbook = nullptr;
    std::unique_ptr<ui::LocalModel> model;
    std::unique_ptr<ui::View> view;
    std::unique_ptr<StatusFile> status;
    std::unique_ptr<ConfigReload> config;
    std::unique_ptr<LauncherRpcBackend> rpc_backend;
    std::unique_ptr<rpc::RpcServer> rpc;
    bool shutting_down = false, curses = false;
    UvHandle<uv_signal_t> sigint, sigterm, sighup;

    void shutdown() {
        if (shutting_down) return;
        shutting_down = true;
        view->shutting_down();
        if (rpc) rpc->stop();
        launcher->shutdown([this] {
            status->flush([this] {
                view->stop();
                sigint.reset();
                sigterm.reset();
                sighup.reset();
                uv_stop(loop);
            });
        });
    }

    void on_hangup() {
        // SIGHUP is also what a closing terminal (ssh drop, tmux kill) sends.
        // With the curses view and no terminal left, reloading would leave
        // an orphan nobody can see or quit: shut down cleanly instead.
        struct termios t {};
        if (curses && tcgetattr(0, &t) != 0) {
            logbook->log(LogLevel::warning, "", "terminal hung up; shutting down");
            return shutdown();
        }
        config->reload(*session, *logbook);
    }

    void on_stop_signal() {
        if (shutting_down) {
            view->stop();
            std::_Exit(130);  // a second signal: leave now
        }
        shutdown();
    }

    template <class F>
    UvHandle<uv_signal_t> on_signal(int sig, F cb) {
        auto h = UvHandle<uv_signal_t>::create([this](uv_signal_t* s) { return uv_signal_init(loop, s); });
        if (!h) return h;
        h->data = this;
        uv_signal_start(h.get(), cb, sig);
        return h;
    }

    void install_signals() {
        auto stop_cb = [](uv_signal_t* h, int) {
            if (auto* a = static_cast<App*>(h->data)) a->on_stop_signal();
        };
        sigint = on_signal(SIGINT, stop_cb);
        sigterm = on_signal(SIGTERM, stop_cb);
        sighup = on_signal(SIGHUP, [](uv_signal_t* h, int) {
            if (auto* a = static_cast<App*>(h->data)) a->on_hangup();
        });
    }

    // Transmission's RPC and /metrics (TCP unless --rpc_port 0, and the
    // Unix socket in the data dir).
    Status start_rpc(const Settings& s) {
        rpc_backend = std::make_unique<LauncherRpcBackend>(loop, *launcher, *session);
        rpc::RpcServerOptions o = s.rpc;
        o.on_session_close = [this] { shutdown(); };
        rpc = std::make_unique<rpc::RpcServer>(loop, *rpc_backend, std::move(o), logbook);
        if (auto st = rpc->start(); !st.ok()) return st;
        if (rpc->tcp_port() != 0)
            logbook->log(LogLevel::info, "", "RPC on http://" + s.rpc.bind + ":" + std::to_string(rpc->tcp_port()) +
                                                 "/transmission/rpc and " + s.rpc.unix_path);
        return Ok{};
    }

    // The view, the log routing, --status_json; errors are runtime errors.
    Status start_views(const Settings& s, bool verbose) {
        curses = s.display == "curses";
        model = std::make_unique<ui::LocalModel>(*launcher);
        if (curses)
            view = std::make_unique<ui::CursesView>(loop, *model, *logbook, s.interval, [this] { shutdown(); });
        else
            view = std::make_unique<ui::PlainView>(loop, *launcher, s.interval, verbose);
        logbook->listener = [this](const LogLine& l) { view->on_log(l); };
        if (auto st = view->start(); !st.ok()) return st;
        StatusFile::Source source{[this] { return launcher->status_json_version(); },
                                  [this] { return launcher->status_json(); }};
        status = std::make_unique<StatusFile>(loop, s.status_path, std::move(source), [this](const std::string& m) {
            logbook->log(LogLevel::warning, "", m);
        });
        // Rows appeared or went: show them soon rather than an interval later.
        if (!s.status_path.empty()) launcher->on_rows_changed = [this] { status->soon(); };
        return Ok{};
    }
};

// The loop runs until shutdown(); returns main()'s exit code.
int run(App& app, Launcher& launcher, const Settings& s, const LoadedOptions& loaded) {
    if (auto st = app.start_views(s, loaded.options.flag("verbose")); !st.ok()) return fail(st.error().message);
    const std::string& cfg = loaded.config_used;
    app.logbook->log(LogLevel::info, "",
                     "watching " + s.launcher.dir + ", saving in " + s.launcher.save_in + ", listening on port " +
                         std::to_string(app.session->listen_port()) + (cfg.empty() ? std::string() : ", config " + cfg));
    if (s.created_save_in) app.logbook->log(LogLevel::info, "", "created save directory " + s.launcher.save_in);
    if (auto st = launcher.start(); !st.ok()) {
        app.view->stop();
        return fail(st.error().message);
    }
    launcher.load_added(LauncherRpcBackend::added_dir(s.session.data_dir));
    if (auto st = app.start_rpc(s); !st.ok()) {
        app.view->stop();
        return fail(st.error().message);
    }
    if (auto st = app.status->start(uint64_t(s.interval * 1000)); !st.ok()) {
        app.view->stop();
        return fail(st.error().message);
    }
    app.install_signals();
    uv_run(app.loop, UV_RUN_DEFAULT);
    app.view->stop();
    return kExitOk;
}

// btlaunchmany --attach [URL|HOST:PORT|SOCKET]: the view alone, on an engine
// that runs elsewhere (this data dir's rpc.sock by default).
const std::vector<OptionSpec> kAttachSpecs = {
    {"attach", "", "", "attach the curses view to a running engine"},
    {"rpc_auth", "USER:PASS", "", "credentials for the engine's RPC (HTTP Basic)"},
    {"data_dir", "DIR", "", "the engine's data dir, whose rpc.sock is the default target"},
    {"display_interval", "S", "1", "seconds between screen updates"},
    {"help", "", "", "show this help"},
};

bool wants_attach(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") return false;
        if (a == "--attach" || a.rfind("--attach=", 0) == 0) return true;
    }
    return false;
}

int attach_main(int argc, char** argv) {
    Options o(kAttachSpecs);
    const ProgramInfo program{kProgram, "btlaunchmany --attach [URL] [options]",
                              "Attaches the curses view to a running engine: URL is "
                              "http://HOST:PORT/transmission/rpc (also a transmission-daemon), HOST:PORT, or a "
                              "Unix socket; default DATA_DIR/rpc.sock.",
                              0, 1, "at most one URL"};
    if (auto code = parse_command_line(o, program, argc, argv)) return *code;
    auto interval = o.get_double("display_interval", 0.1, 3600);
    if (!interval.ok()) return usage(interval.error().message);
    if (!isatty(0) || !isatty(1)) return usage("--attach needs a terminal");
    const std::string data_dir = o.get("data_dir").empty() ? default_data_dir() : o.get("data_dir");
    std::string target = o.positional().empty() ? std::string() : o.positional()[0];
    auto ep = rpc::parse_attach_target(target, data_dir + "/rpc.sock");
    if (!ep.ok()) return usage(ep.error().message);
    ep->auth = o.get("rpc_auth");
    if (!ep->auth.empty() && ep->auth.find(':') == std::string::npos) return usage("--rpc_auth must be USER:PASS");
    return ui::run_attached_view(uv_default_loop(), {*ep, *interval, 30});
}

// `btlaunchmany DIR` on a terminal: the engine runs detached (started now
// unless one already runs for this data dir) and this process is only its
// view, so an SSH drop or a killed tmux never stops the downloads.
int start_and_attach(const Settings& s, const std::string& self, const std::vector<std::string>& args) {
    const std::string& dd = s.session.data_dir;
    if (int e = make_directories(dd)) return fail("cannot create data directory " + dd + ": " + std::strerror(e));
    const std::string sock = dd + "/rpc.sock", log = dd + "/engine.log";
    pid_t child = 0;
    if (!ui::engine_running(dd)) {
        std::fprintf(stderr, "btlaunchmany: starting the engine for %s (log: %s)\n", dd.c_str(), log.c_str());
        auto pid = ui::spawn_engine("/proc/self/exe", ui::engine_argv(self, args), log);
        if (!pid.ok()) return fail(pid.error().message);
        child = *pid;
    }
    if (auto st = ui::wait_for_engine(sock, child, dd, 30, log); !st.ok()) {
        // An engine nobody can reach must not be left running unseen.
        if (child > 0 && ::kill(child, SIGTERM) == 0) return fail(st.error().message + "; stopped it");
        return fail(st.error().message);
    }
    rpc::RpcEndpoint ep;
    ep.unix_socket = sock;
    ep.url = "http://localhost/transmission/rpc";
    return ui::run_attached_view(uv_default_loop(), {ep, s.interval, 30});
}

}  // namespace

int main(int argc, char** argv) {
    prepare_engine_process();
    std::setlocale(LC_ALL, "");
    if (wants_attach(argc, argv)) return attach_main(argc, argv);
    Options cli(kSpecs);  // --help and command-line mistakes first, before any config file
    const ProgramInfo program{kProgram, "btlaunchmany DIR [options]",
                              "Runs every .torrent file in DIR; see man btlaunchmany.\n"
                              "Behind a router without UPnP or NAT-PMP, forward the --minport..--maxport\n"
                              "ports (TCP and UDP) to this machine by hand: peers that cannot call you\n"
                              "download slowly from you, and you from them.",
                              1, 1, "exactly one directory"};
    if (auto code = parse_command_line(cli, program, argc, argv)) return *code;
    const std::vector<std::string> args(argv + 1, argv + argc);
    auto loaded = load_options(kSpecs, args);
    if (!loaded.ok()) return loaded.failure.usage ? usage(loaded.failure.error.message) : fail(loaded.failure.error.message);
    const Options& o = loaded.loaded->options;
    const std::string dir = o.positional()[0];
    if (!is_dir(dir)) return fail(dir + (access(dir.c_str(), F_OK) == 0 ? ": not a directory" : ": no such directory"));
    auto settings = read_settings(*loaded.loaded, dir);
    if (!settings.ok()) return usage(settings.error().message);
    // A terminal and no --display: the engine as a daemon, this process its view.
    if (settings->display == "curses" && !o.has("display")) return start_and_attach(*settings, argv[0], args);
    auto instance = lock_data_dir(settings->session.data_dir);
    if (!instance.ok()) return fail(instance.error().message);
    if (auto code = prepare_save_in(*settings)) return *code;

    App app;
    app.loop = uv_default_loop();
    LogBook logbook;
    app.logbook = &logbook;
    Session session(app.loop, settings->session, &logbook);
    app.session = &session;
    if (auto st = session.start(); !st.ok()) return fail(st.error().message);
    Launcher launcher(app.loop, session, logbook, settings->launcher);
    app.launcher = &launcher;
    app.config = std::make_unique<ConfigReload>(kSpecs, args, o);
    return run(app, launcher, *settings, *loaded.loaded);
}
