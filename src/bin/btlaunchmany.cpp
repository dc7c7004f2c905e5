// btlaunchmany DIR — runs every .torrent in DIR in one session on one libuv
// loop, with a curses table (a terminal) or plain log lines (otherwise).
// Wiring only: Launcher does the watching and bookkeeping, the views show
// it, the Session does the work.
#include <dirent.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "btl/base/lock_file.hpp"
#include "btl/base/options.hpp"
#include "btl/disk/make_torrent.hpp"
#include "btl/disk/resume.hpp"
#include "btl/engine/session.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"
#include "btl/ui/curses_view.hpp"
#include "btl/ui/plain_view.hpp"

using namespace btl;

namespace {

const std::vector<OptionSpec> kSpecs = {
    {"save_in", "DIR", "", "save downloads under DIR (default: the watched directory)"},
    {"saveas_style", "N", "4", "how downloads are named, 1-4 (see the man page)"},
    {"minport", "PORT", "6881", "lowest port to listen on"},
    {"maxport", "PORT", "6889", "highest port to listen on"},
    {"bind", "IP", "", "local address to listen on and connect from"},
    {"ip", "IP", "", "address reported to trackers"},
    {"max_upload_rate", "KB/S", "0", "global upload cap in kB/s, 0 = unlimited"},
    {"max_download_rate", "KB/S", "0", "global download cap in kB/s, 0 = unlimited"},
    {"max_uploads", "N", "4", "peers unchoked at once per torrent (plus one optimistic)"},
    {"max_files_open", "N", "256", "open file descriptors kept for data files"},
    {"super_seeder", "", "", "BEP 16 super-seeding for torrents complete at start"},
    {"data_dir", "DIR", "", "where resume data lives (default $XDG_STATE_HOME/btlaunchmany)"},
    {"disk_retry_interval", "S", "10", "when a disk is full, look for free space this often (backing off)"},
    {"display", "MODE", "", "curses or plain (default: curses when stdout is a terminal)"},
    {"display_interval", "S", "1", "seconds between screen updates / status_json writes"},
    {"parse_dir_interval", "S", "60", "seconds between full rescans of DIR"},
    {"status_json", "FILE", "", "rewrite FILE with a JSON status every display interval"},
    {"config", "FILE", "", "config file (default $XDG_CONFIG_HOME/btlaunchmany/config)"},
    {"verbose", "", "", "also log peer-level events (plain display)"},
    {"help", "", "", "show this help"},
};

// Options the running program can change on SIGHUP; the rest need a restart.
const char* const kLive[] = {"max_upload_rate", "max_download_rate", "max_uploads"};

const char* const kProgram = "btlaunchmany";

int fail(const std::string& msg) { return runtime_error(kProgram, msg); }
int usage(const std::string& msg) { return usage_error(kProgram, msg); }

std::string default_config_path() {
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/btlaunchmany/config";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/btlaunchmany/config";
    return "";
}

// Command line first, then the config file fills what the command line did
// not set (Options::parse_config never overrides).  `usage` tells a bad
// option (exit 2) from a config file that cannot be read (exit 1).
Result<Options> load_options(int argc, char** argv, std::string& config_used, bool* usage = nullptr) {
    Options o(kSpecs);
    if (usage) *usage = true;
    if (auto st = o.parse(argc, argv); !st.ok()) return st.error();
    bool explicit_config = o.has("config");
    std::string path = explicit_config ? o.get("config") : default_config_path();
    config_used.clear();
    if (!path.empty()) {
        std::ifstream in(path);
        if (!in) {
            if (usage) *usage = false;
            if (explicit_config) return make_error(path + ": cannot read the config file");
        } else {
            std::stringstream ss;
            ss << in.rdbuf();
            if (auto st = o.parse_config(ss.str(), path); !st.ok()) return st.error();
            config_used = path;
        }
    }
    return o;
}

struct Limits {
    int64_t up = 0, down = 0;
    int uploads = 4;
};

Result<Limits> live_limits(const Options& o) {
    auto up = o.get_int("max_upload_rate", 0, 100'000'000), down = o.get_int("max_download_rate", 0, 100'000'000);
    auto uploads = o.get_int("max_uploads", 0, 1000);
    if (!up.ok()) return up.error();
    if (!down.ok()) return down.error();
    if (!uploads.ok()) return uploads.error();
    return Limits{*up * 1000, *down * 1000, int(*uploads)};
}

struct App {
    uv_loop_t* loop = nullptr;
    int argc = 0;
    char** argv = nullptr;
    Options opts{kSpecs};
    Session* session = nullptr;
    Launcher* launcher = nullptr;
    LogBook* logbook = nullptr;
    std::unique_ptr<ui::View> view;
    std::string status_path;
    bool shutting_down = false, curses = false;
    UvHandle<uv_timer_t> status_timer;
    UvHandle<uv_signal_t> sigint, sigterm, sighup;

    // --status_json is written on the thread pool (write and rename
    // of ~600 bytes per torrent must not stall the loop), one write at a
    // time; a document equal to the last one written is skipped unless a
    // minute passed, so an idle session does no disk I/O.
    struct StatusJob {
        uv_work_t req{};
        App* app = nullptr;
        std::string path, doc;
        uint64_t version = 0;
        Status result = Ok{};
    };
    uint64_t last_version = UINT64_MAX;  // of the document last written
    int64_t last_write_ms = 0;
    bool writing = false, write_again = false, force_again = false;
    std::function<void()> flushed;
    UvHandle<uv_timer_t> soon_timer;

    void write_status(bool force = false) {
        if (status_path.empty()) return finish_flush();
        if (writing) {
            write_again = true;
            force_again |= force;
            return;
        }
        // Unchanged (the same version): no 5 MB copy and compare per second
        // with 10,000 rows.
        const std::string& doc = launcher->status_json();
        uint64_t version = launcher->status_json_version();
        int64_t now = int64_t(uv_now(loop));
        if (!force && version == last_version && now - last_write_ms < 60'000) return;
        auto* j = new StatusJob;
        j->app = this;
        j->path = status_path;
        j->doc = doc;
        j->version = version;
        j->req.data = j;
        writing = true;
        int rc = uv_queue_work(
            loop, &j->req,
            [](uv_work_t* w) {
                auto* j = static_cast<StatusJob*>(w->data);
                j->result = write_file_atomic(j->path, j->doc, false);
            },
            [](uv_work_t* w, int) {
                std::unique_ptr<StatusJob> j(static_cast<StatusJob*>(w->data));
                j->app->status_written(*j);
            });
        if (rc < 0) {
            writing = false;
            j->result = write_file_atomic(j->path, j->doc, false);  // no pool: write here
            status_written(*j);
            delete j;
        }
    }

    void status_written(StatusJob& j) {
        writing = false;
        if (!j.result.ok()) {
            logbook->log(LogLevel::warning, "", "status_json: " + j.result.error().message);
        } else {
            last_version = j.version;
            last_write_ms = int64_t(uv_now(loop));
        }
        if (write_again) {
            write_again = false;
            bool f = force_again;
            force_again = false;
            return write_status(f);
        }
        finish_flush();
    }

    // The final document: written even if unchanged, `done` once it is on disk.
    void flush_status(std::function<void()> done) {
        flushed = std::move(done);
        write_status(true);
    }

    void finish_flush() {
        if (!flushed) return;
        auto f = std::move(flushed);
        flushed = nullptr;
        f();
    }

    // Rows appeared or went: show them soon rather than an interval later;
    // a burst of 1000 files coalesces into a few writes.
    void status_soon() {
        if (status_path.empty() || shutting_down || !soon_timer || uv_is_active(reinterpret_cast<uv_handle_t*>(soon_timer.get())))
            return;
        uv_timer_start(soon_timer.get(), [](uv_timer_t* h) {
            if (auto* a = static_cast<App*>(h->data)) a->write_status();
        }, 200, 0);
    }

    void shutdown() {
        if (shutting_down) return;
        shutting_down = true;
        view->shutting_down();
        launcher->shutdown([this] {
            flush_status([this] {
                view->stop();
                status_timer.reset();
                soon_timer.reset();
                sigint.reset();
                sigterm.reset();
                sighup.reset();
                uv_stop(loop);
            });
        });
    }

    void reload_config() {
        std::string used;
        auto o = load_options(argc, argv, used);
        if (!o.ok()) {
            logbook->log(LogLevel::error, "", "SIGHUP: config not reloaded: " + o.error().message);
            return;
        }
        auto lim = live_limits(*o);
        if (!lim.ok()) {
            logbook->log(LogLevel::error, "", "SIGHUP: config not reloaded: " + lim.error().message);
            return;
        }
        session->set_rate_limits(lim->up, lim->down);
        session->set_max_uploads(lim->uploads);
        for (const auto& spec : kSpecs) {
            bool live = false;
            for (const char* k : kLive) live |= spec.name == k;
            if (!live && o->get(spec.name) != opts.get(spec.name))
                logbook->log(LogLevel::warning, "", "SIGHUP: " + spec.name + " changed to '" + o->get(spec.name) +
                                                        "'; it takes effect after a restart");
        }
        logbook->log(LogLevel::info, "",
                     "SIGHUP: reloaded " + (used.empty() ? std::string("(no config file)") : used) +
                         ": upload " + std::to_string(lim->up / 1000) + " kB/s, download " +
                         std::to_string(lim->down / 1000) + " kB/s, max_uploads " + std::to_string(lim->uploads));
    }
};

// A SIGKILL between writing --status_json's temporary file and renaming it
// leaves FILE.tmp.XXXXXX behind; only this instance writes FILE (it holds
// the data directory's lock), so they are ours to delete.
void remove_status_temps(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.size() == prefix.size() + 6 && n.compare(0, prefix.size(), prefix) == 0)
            ::unlink((dir + "/" + n).c_str());
    }
    ::closedir(d);
}

template <class F>
UvHandle<uv_signal_t> on_signal(uv_loop_t* loop, App* app, int sig, F cb) {
    auto h = UvHandle<uv_signal_t>::create([&](uv_signal_t* s) { return uv_signal_init(loop, s); });
    h->data = app;
    uv_signal_start(h.get(), cb, sig);
    return h;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    // Past a file-size limit (ulimit -f) a write must fail with EFBIG, which
    // the torrent handles like a full disk, not kill the whole process.
    std::signal(SIGXFSZ, SIG_IGN);
    std::setlocale(LC_ALL, "");
    std::string config_used;
    Options cli(kSpecs);  // --help and command-line mistakes first, before any config file
    const ProgramInfo program{kProgram, "btlaunchmany DIR [options]",
                              "Runs every .torrent file in DIR; see man btlaunchmany.", 1, 1, "exactly one directory"};
    if (auto code = parse_command_line(cli, program, argc, argv)) return *code;
    bool usage_problem = true;
    auto loaded = load_options(argc, argv, config_used, &usage_problem);
    if (!loaded.ok()) return usage_problem ? usage(loaded.error().message) : fail(loaded.error().message);
    Options& o = *loaded;
    const std::string dir = o.positional()[0];
    struct stat sb {};
    if (stat(dir.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) return fail(dir + ": not a directory");

    auto minport = o.get_int("minport", 1, 65535), maxport = o.get_int("maxport", 1, 65535);
    auto files_open = o.get_int("max_files_open", 4, 100000), style = o.get_int("saveas_style", 1, 4);
    auto interval = o.get_double("display_interval", 0.1, 3600);
    auto rescan = o.get_double("parse_dir_interval", 0, 86400);
    auto disk_retry = o.get_double("disk_retry_interval", 0.1, 86400);
    if (!disk_retry.ok()) return usage(disk_retry.error().message);
    auto lim = live_limits(o);
    for (const Error* e : {minport.ok() ? nullptr : &minport.error(), maxport.ok() ? nullptr : &maxport.error(),
                           files_open.ok() ? nullptr : &files_open.error(), style.ok() ? nullptr : &style.error(),
                           interval.ok() ? nullptr : &interval.error(), rescan.ok() ? nullptr : &rescan.error(),
                           lim.ok() ? nullptr : &lim.error()})
        if (e) return usage(e->message);
    if (*maxport < *minport) return usage("--maxport is lower than --minport");
    std::string display = o.get("display");
    if (display.empty()) display = isatty(1) && isatty(0) ? "curses" : "plain";
    if (display != "curses" && display != "plain") return usage("--display must be curses or plain");
    std::string save_in = o.has("save_in") ? o.get("save_in") : dir;
    if (stat(save_in.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) return fail(save_in + ": --save_in is not a directory");

    // One launcher per state directory: two would fight over every torrent's
    // resume file.  The lock lives until exit (the kernel drops it if we die).
    std::string data_dir = o.get("data_dir").empty() ? default_data_dir() : o.get("data_dir");
    if (int e = make_directories(data_dir)) return fail("cannot create data directory " + data_dir + ": " + std::strerror(e));
    auto instance = try_lock_file(data_dir + "/btlaunchmany.lock");
    if (instance.busy)
        return fail("another btlaunchmany (" +
                    (instance.holder_pid > 0 ? "pid " + std::to_string(instance.holder_pid) : std::string("pid unknown")) +
                    ") is using " + data_dir);
    if (!instance.ok()) return fail(instance.error);
    std::string status_path = o.get("status_json");
    if (!status_path.empty()) remove_status_temps(status_path);

    SessionOptions so;
    so.bind_ip = o.get("bind");
    so.announce_ip = o.get("ip");
    so.minport = uint16_t(*minport);
    so.maxport = uint16_t(*maxport);
    so.max_upload_rate = lim->up;
    so.max_download_rate = lim->down;
    so.max_uploads = lim->uploads;
    so.max_files_open = size_t(*files_open);
    so.data_dir = data_dir;
    so.disk_retry_interval_ms = int64_t(*disk_retry * 1000);
    so.super_seeder = o.flag("super_seeder");

    App app;
    app.loop = uv_default_loop();
    app.argc = argc;
    app.argv = argv;
    app.opts = o;
    app.status_path = o.get("status_json");
    LogBook logbook;
    app.logbook = &logbook;
    Session session(app.loop, so, &logbook);
    app.session = &session;
    if (auto st = session.start(); !st.ok()) return fail(st.error().message);

    LauncherOptions lo;
    lo.dir = dir;
    lo.save_in = save_in;
    lo.saveas_style = int(*style);
    lo.parse_dir_interval_ms = int64_t(*rescan * 1000);
    Launcher launcher(app.loop, session, logbook, lo);
    app.launcher = &launcher;

    if (display == "curses")
        app.view = std::make_unique<ui::CursesView>(app.loop, launcher, logbook, *interval, [&app] { app.shutdown(); });
    else
        app.view = std::make_unique<ui::PlainView>(app.loop, launcher, *interval, o.flag("verbose"));
    logbook.listener = [&app](const LogLine& l) { app.view->on_log(l); };
    if (auto st = app.view->start(); !st.ok()) return fail(st.error().message);
    logbook.log(LogLevel::info, "",
                "watching " + dir + ", saving in " + save_in + ", listening on port " +
                    std::to_string(session.listen_port()) +
                    (config_used.empty() ? std::string() : ", config " + config_used));
    if (auto st = launcher.start(); !st.ok()) {
        app.view->stop();
        return fail(st.error().message);
    }

    if (!app.status_path.empty()) {
        app.status_timer = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(app.loop, h); });
        app.status_timer->data = &app;
        auto ms = uint64_t(*interval * 1000);
        uv_timer_start(app.status_timer.get(), [](uv_timer_t* h) {
            if (auto* a = static_cast<App*>(h->data)) a->write_status();
        }, ms, ms);
        app.soon_timer = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(app.loop, h); });
        app.soon_timer->data = &app;
        launcher.on_rows_changed = [&app] { app.status_soon(); };
    }
    auto stop_cb = [](uv_signal_t* h, int) {
        auto* a = static_cast<App*>(h->data);
        if (!a) return;
        if (a->shutting_down) {
            a->view->stop();
            std::_Exit(130);  // a second signal: leave now
        }
        a->shutdown();
    };
    app.sigint = on_signal(app.loop, &app, SIGINT, stop_cb);
    app.sigterm = on_signal(app.loop, &app, SIGTERM, stop_cb);
    app.curses = display == "curses";
    app.sighup = on_signal(app.loop, &app, SIGHUP, [](uv_signal_t* h, int) {
        auto* a = static_cast<App*>(h->data);
        if (!a) return;
        // SIGHUP is also what a closing terminal (ssh drop, tmux kill) sends.
        // With the curses view and no terminal left, reloading would leave
        // an orphan nobody can see or quit: shut down cleanly instead.
        struct termios t {};
        if (a->curses && tcgetattr(0, &t) != 0) {
            a->logbook->log(LogLevel::warning, "", "terminal hung up; shutting down");
            a->shutdown();
            return;
        }
        a->reload_config();
    });

    uv_run(app.loop, UV_RUN_DEFAULT);
    app.view->stop();
    return 0;
}
