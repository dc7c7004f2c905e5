// btdownloadheadless FILE.torrent|MAGNET — one torrent, no curses: a status line
// every --display_interval seconds and a line per event.  Wiring only: the
// engine does the work.
#include <signal.h>
#include <sys/stat.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include <memory>

#include "btl/base/format.hpp"
#include "btl/base/lock_file.hpp"
#include "btl/base/options.hpp"
#include "btl/base/process.hpp"
#include "btl/base/utf8.hpp"
#include "btl/core/magnet.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/engine/session.hpp"
#include "btl/engine/session_options.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/status_file.hpp"

using namespace btl;

namespace {

// The engine's options (session_options.hpp) follow save_in.
const std::vector<OptionSpec> kSpecs = with_session_options({
    {"saveas", "PATH", "", "save the file (or directory) as PATH"},
    {"save_in", "DIR", ".", "save inside DIR under the torrent's own name"},
    {"max_upload_rate", "KB/S", "0", "upload cap in kB/s, 0 = unlimited"},
    {"max_download_rate", "KB/S", "0", "download cap in kB/s, 0 = unlimited"},
    {"max_uploads", "N", "4", "peers unchoked at once (plus one optimistic)"},
    {"data_dir", "DIR", "", "where resume data lives (default $XDG_STATE_HOME/btlaunchmany)"},
    {"seed_time", "S", "", "seconds to seed after completion; 0 = exit when complete (default: until interrupted)"},
    {"display_interval", "S", "1", "seconds between status lines"},
    {"status_json", "FILE", "", "rewrite FILE with a JSON status every interval"},
    {"verbose", "", "", "also print peer-level events"},
    {"help", "", "", "show this help"},
}, 2);

class StdoutSink : public EventSink {
public:
    bool verbose = false;
    void log(LogLevel lvl, const std::string&, const std::string& msg) override {
        if (lvl == LogLevel::debug && !verbose) return;
        const char* tag = lvl == LogLevel::error ? "error: " : lvl == LogLevel::warning ? "warning: " : "";
        // Bytes that are not UTF-8 (a Latin-1 file name) print as %XX, as
        // in the status JSON, so a UTF-8 log reader never chokes.
        std::printf("%s%s\n", tag, escape_invalid_utf8(msg).c_str());
        std::fflush(stdout);
    }
};

struct App {
    uv_loop_t* loop = nullptr;
    Session* session = nullptr;
    Sha1Digest ih{};
    double interval = 1;
    int64_t seed_time = -1;
    std::unique_ptr<StatusFile> status;  // --status_json, written on the thread pool
    std::string doc;
    uint64_t doc_version = 0;
    bool shutting_down = false, announced_complete = false;
    UvHandle<uv_timer_t> display, seed_timer;
    UvHandle<uv_timer_t> done_poll;  // --seed_time N: notices the completion within kDonePollMs
    UvHandle<uv_signal_t> sigint, sigterm, sighup;
    int exit_code = 0;

    void shutdown() {
        if (shutting_down) {
            return;
        }
        shutting_down = true;
        std::printf("shutting down...\n");
        std::fflush(stdout);
        status->write(true);
        session->shutdown([this] {
            status->flush([this] {
                display.reset();
                seed_timer.reset();
                done_poll.reset();
                sigint.reset();
                sigterm.reset();
                sighup.reset();
                uv_stop(loop);
            });
        });
    }

    const std::string& status_document() {
        auto rows = session->status();
        // A magnet still fetching its metadata has a row too.
        for (const auto& f : rows.empty() ? session->fetches() : std::vector<FetchStatus>{}) {
            TorrentStatus t;
            t.info_hash = f.info_hash;
            t.name = f.name;
            t.state = TorrentState::fetching;
            t.peers = f.peers;
            t.tracker_message = "fetching metadata (peers " + std::to_string(f.peers) + ")";
            rows.push_back(std::move(t));
        }
        doc = status_json(rows, session->session_status());
        ++doc_version;
        return doc;
    }

    static constexpr uint64_t kDonePollMs = 50;
    void poll_done() {
        for (Torrent* t : session->torrents())
            if (t->completions() > 0 && !shutting_down) {
                done_poll.reset();
                return on_display();  // says "complete" and starts the seed timer or shuts down
            }
    }

    void on_display() {
        auto all = session->status();
        if (all.empty()) {
            for (const auto& f : session->fetches()) {
                std::printf("fetching metadata (peers %d)%s%s\n", f.peers, f.tracker_message.empty() ? "" : "  tracker: ",
                            escape_invalid_utf8(f.tracker_message).c_str());
                std::fflush(stdout);
            }
            return;
        }
        const TorrentStatus& t = all[0];
        char line[512];
        if (t.state == TorrentState::checking)
            std::snprintf(line, sizeof line, "checking %5.1f%%", t.check_progress * 100);
        else
            std::snprintf(line, sizeof line, "%5.1f%%  down %s  up %s  peers %d (%d seeds)  eta %s  %s%s%s",
                          t.progress * 100, format_rate(t.down_rate).c_str(), format_rate(t.up_rate).c_str(),
                          t.peers, t.seeds, format_eta(t.eta_s).c_str(), state_name(t.state),
                          !t.error.empty() ? "  " : t.tracker_message.empty() ? "" : "  tracker: ",
                          escape_invalid_utf8(!t.error.empty() ? t.error : t.tracker_message).c_str());
        std::printf("%s\n", line);
        std::fflush(stdout);
        // An error only the user can repair (no disk retry under way): say
        // it and leave, rather than sit there doing nothing.
        if (t.state == TorrentState::error && t.retry_in_s < 0 && !shutting_down) {
            std::fprintf(stderr, "btdownloadheadless: %s: %s\n", t.name.c_str(), escape_invalid_utf8(t.error).c_str());
            exit_code = 1;
            return shutdown();
        }
        // A seeding goal (--seed_ratio, --seed_idle_minutes) met: done.
        if (t.state == TorrentState::finished && !shutting_down) {
            std::printf("finished: seeding goal reached, uploaded %s\n", format_size(t.total_uploaded).c_str());
            std::fflush(stdout);
            return shutdown();
        }
        if (t.state == TorrentState::seeding && !announced_complete) {
            announced_complete = true;
            std::printf("complete: %s (%s) downloaded %s, uploaded %s\n", t.name.c_str(), format_size(t.total_size).c_str(),
                        format_size(t.downloaded).c_str(), format_size(t.uploaded).c_str());
            std::fflush(stdout);
            if (seed_time == 0) return shutdown();
            if (seed_time > 0) {
                seed_timer = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop, h); });
                seed_timer->data = this;
                uv_timer_start(seed_timer.get(), [](uv_timer_t* h) { static_cast<App*>(h->data)->shutdown(); },
                               uint64_t(seed_time) * 1000, 0);
            }
        }
    }
};

const char* const kProgram = "btdownloadheadless";

int fail(const std::string& msg) { return runtime_error(kProgram, msg); }
int usage(const std::string& msg) { return usage_error(kProgram, msg); }

// The option values main() wires; an error is a usage error (exit 2).
struct Settings {
    SessionOptions session;
    double interval = 1;
    int64_t seed_time = -1;  // -1: until interrupted
};

Result<Settings> read_settings(const Options& o) {
    Settings s;
    SessionOptions& so = s.session;
    if (Status st = read_session_options(o, so); !st) return st.error();
    auto up = o.get_int("max_upload_rate", 0, 100'000'000), down = o.get_int("max_download_rate", 0, 100'000'000);
    auto uploads = o.get_int("max_uploads", 0, 1000);
    auto interval = o.get_double("display_interval", 0.1, 3600);
    auto seed_time = o.has("seed_time") ? o.get_int("seed_time", 0, int64_t(1) << 40) : Result<int64_t>(-1);
    for (const Error* e : {up.ok() ? nullptr : &up.error(), down.ok() ? nullptr : &down.error(),
                           uploads.ok() ? nullptr : &uploads.error(), interval.ok() ? nullptr : &interval.error(),
                           seed_time.ok() ? nullptr : &seed_time.error()})
        if (e) return *e;
    so.max_upload_rate = *up * 1000;
    so.max_download_rate = *down * 1000;
    so.max_uploads = int(*uploads);
    so.data_dir = o.get("data_dir");
    s.interval = *interval;
    s.seed_time = *seed_time;
    return s;
}

template <class F>
UvHandle<uv_signal_t> on_signal(App& app, int sig, F cb) {
    auto h = UvHandle<uv_signal_t>::create([&](uv_signal_t* s) { return uv_signal_init(app.loop, s); });
    if (!h) return h;
    h->data = &app;
    uv_signal_start(h.get(), cb, sig);
    return h;
}

// The display timer and the signals: what makes the loop do its job.
void install_handlers(App& app) {
    app.display = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(app.loop, h); });
    app.display->data = &app;
    uint64_t ms = uint64_t(app.interval * 1000);
    uv_timer_start(app.display.get(), [](uv_timer_t* h) { static_cast<App*>(h->data)->on_display(); }, ms, ms);
    if (app.seed_time >= 0) {
        // The display ticks once a second; waiting for it to notice the
        // completion cost up to a second of wall time per download.
        app.done_poll = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(app.loop, h); });
        app.done_poll->data = &app;
        uv_timer_start(app.done_poll.get(), [](uv_timer_t* h) { static_cast<App*>(h->data)->poll_done(); }, App::kDonePollMs,
                       App::kDonePollMs);
    }
    auto stop = [](uv_signal_t* h, int) {
        auto* a = static_cast<App*>(h->data);
        if (a->shutting_down) std::_Exit(130);  // second signal: leave now
        a->shutdown();
    };
    app.sigint = on_signal(app, SIGINT, stop);
    app.sigterm = on_signal(app, SIGTERM, stop);
    // A closing terminal (ssh dropped) sends SIGHUP, whose default action
    // kills us without `stopped` or resume data: shut down cleanly instead.
    // Under nohup SIGHUP arrives ignored, and stays so.
    struct sigaction hup {};
    if (::sigaction(SIGHUP, nullptr, &hup) == 0 && hup.sa_handler != SIG_IGN) {
        app.sighup = on_signal(app, SIGHUP, [](uv_signal_t* h, int) {
            auto* a = static_cast<App*>(h->data);
            if (a->shutting_down) return;
            std::printf("hangup: shutting down\n");
            a->shutdown();
        });
    }
}

// Adds the torrent to the session, saying where it goes.  `so`: a magnet's
// BEP 53 file selection (empty: every file).
Status add_torrent(Session& session, const Options& o, const std::string& file, Metainfo mi,
                   std::vector<std::pair<uint32_t, uint32_t>> so = {}) {
    AddTorrentParams p;
    p.select_only = std::move(so);
    p.save_path = o.has("saveas") ? o.get("saveas") : o.get("save_in") + "/" + mi.name;
    // Created now rather than at the first piece, so the user reads where
    // (btlaunchmany does the same); --saveas's parent is left to storage.
    if (!o.has("saveas")) {
        const std::string dir = o.get("save_in");
        struct stat sb {};
        bool existed = ::stat(dir.c_str(), &sb) == 0;
        if (existed && !S_ISDIR(sb.st_mode)) return make_error(dir + ": --save_in is not a directory");
        if (int e = existed ? 0 : make_directories(dir)) return make_error("cannot create --save_in " + dir + ": " + std::strerror(e));
        if (!existed) std::printf("created save directory %s\n", escape_invalid_utf8(dir).c_str());
    }
    const std::string shown = escape_invalid_utf8(file);
    std::printf("%s: %s, %s in %u pieces, saving to %s\n", shown.c_str(), mi.name.c_str(),
                format_size(mi.content_length).c_str(), mi.num_pieces(), escape_invalid_utf8(p.save_path).c_str());
    for (const auto& w : mi.warnings) std::printf("warning: %s: %s\n", shown.c_str(), w.c_str());
    p.metainfo = std::move(mi);
    auto added = session.add_torrent(std::move(p));
    if (!added.ok()) return make_error(file + ": " + added.error().message);
    // Running it again is the user's "start": a torrent that met its goal
    // in an earlier run seeds again (Torrent::resume).
    if ((*added)->finished()) (*added)->resume();
    return Ok{};
}

// A magnet: the metadata saved by an earlier fetch if there is one, else a
// fetch that adds the torrent when the metadata arrives.
Status start_magnet(App& app, const Options& o, const std::string& uri) {
    auto link = parse_magnet(uri);
    if (!link.ok()) return link.error();
    for (const auto& w : link->warnings) std::printf("warning: %s\n", w.c_str());
    const std::string shown = link->display_name();
    const std::string saved = Session::saved_torrent_path(app.session->data_dir(), link->info_hash);
    struct stat sb {};
    if (::stat(saved.c_str(), &sb) == 0) {
        auto mi = load_metainfo_file(saved);
        if (mi.ok() && mi->info_hash == link->info_hash) {
            std::printf("%s: metadata from %s\n", shown.c_str(), escape_invalid_utf8(saved).c_str());
            return add_torrent(*app.session, o, shown, std::move(*mi), link->select_only);
        }
        std::printf("warning: %s: ignoring %s: %s\n", shown.c_str(), saved.c_str(),
                    mi.ok() ? "another info-hash" : mi.error().message.c_str());
    }
    std::printf("%s: fetching metadata from peers\n", escape_invalid_utf8(shown).c_str());
    std::fflush(stdout);
    return app.session->fetch_metadata(*link, [&app, &o, shown, so = link->select_only](Result<Metainfo> mi) {
        Status st = mi.ok() ? add_torrent(*app.session, o, shown, std::move(*mi), so) : Status(mi.error());
        if (st.ok() || app.shutting_down) return;
        std::fprintf(stderr, "btdownloadheadless: %s\n", st.error().message.c_str());
        app.exit_code = 1;
        app.shutdown();
    });
}

}  // namespace

int main(int argc, char** argv) {
    prepare_engine_process();
    Options o(kSpecs);
    const ProgramInfo program{kProgram, "btdownloadheadless FILE.torrent|MAGNET [options]", "", 1, 1,
                              "exactly one .torrent file or magnet link"};
    if (auto code = parse_command_line(o, program, argc, argv)) return *code;
    auto settings = read_settings(o);
    if (!settings.ok()) return usage(settings.error().message);
    const std::string file = o.positional()[0];
    const bool magnet = is_magnet_uri(file);
    if (magnet) {
        if (auto link = parse_magnet(file); !link.ok()) return fail(link.error().message);
    }
    auto mi = magnet ? Result<Metainfo>(Metainfo{}) : load_metainfo_file(file);
    if (!mi.ok()) return fail(file + ": " + mi.error().message);

    App app;
    app.loop = uv_default_loop();
    app.interval = settings->interval;
    app.seed_time = settings->seed_time;
    app.status = std::make_unique<StatusFile>(
        app.loop, o.get("status_json"),
        StatusFile::Source{[&app] {  // a handful of rows: built on every attempt, as before
                               app.status_document();
                               return app.doc_version;
                           },
                           [&app] { return app.doc; }},
        [](const std::string& w) { std::fprintf(stderr, "btdownloadheadless: %s\n", w.c_str()); });
    StdoutSink sink;
    sink.verbose = o.flag("verbose");
    Session session(app.loop, settings->session, &sink);
    app.session = &session;
    if (auto st = session.start(); !st.ok()) return fail(st.error().message);
    if (auto st = magnet ? start_magnet(app, o, file) : add_torrent(session, o, file, std::move(*mi)); !st.ok())
        return fail(st.error().message);
    if (auto st = app.status->start(uint64_t(app.interval * 1000)); !st.ok()) return fail(st.error().message);
    install_handlers(app);
    uv_run(app.loop, UV_RUN_DEFAULT);
    return app.exit_code;
}
