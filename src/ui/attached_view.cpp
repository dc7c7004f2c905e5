#include "btl/ui/attached_view.hpp"

#include <csignal>
#include <cstdio>
#include <memory>

#include "btl/base/uv_util.hpp"
#include "btl/ui/curses_view.hpp"
#include "btl/ui/remote_model.hpp"

namespace btl::ui {

namespace {

struct Attached {
    uv_loop_t* loop;
    AttachOptions opt;
    LogBook log;
    std::unique_ptr<RemoteModel> model;
    std::unique_ptr<CursesView> view;
    std::unique_ptr<rpc::RpcClient> probe;  // after session-close: is it gone yet?
    UvHandle<uv_signal_t> sighup, sigint, sigterm;
    UvHandle<uv_timer_t> wait_timer;
    int64_t stop_started_ms = 0;
    bool ending = false;
    int status = 0;
    std::string farewell;  // printed once the terminal is back

    void finish(int code, std::string message) {
        status = code;
        farewell = std::move(message);
        view->stop();
        sighup.reset();
        sigint.reset();
        sigterm.reset();
        wait_timer.reset();
        probe.reset();
        model.reset();
        uv_stop(loop);
    }

    void detach() {
        if (ending) return;
        ending = true;
        finish(0, "detached; the engine keeps running (btlaunchmany --attach to come back)");
    }

    void quit() {
        if (ending) return;
        ending = true;
        if (!model->connected()) return finish(0, "the engine was not answering; nothing to stop");
        view->shutting_down();
        stop_started_ms = int64_t(uv_now(loop));
        model->stop_engine([this](Status st) {
            // An engine may close the connection before it answers; only a
            // refusal in words is final.
            if (!st.ok() && st.error().message.rfind("engine says: ", 0) == 0)
                return finish(1, "the engine refused to stop: " + st.error().message);
            wait_until_gone();
        });
    }

    // Asks session-get every 200 ms until the engine stops answering.
    void wait_until_gone() {
        probe = std::make_unique<rpc::RpcClient>(loop, opt.endpoint, 2000);
        wait_timer = UvHandle<uv_timer_t>::create([this](uv_timer_t* h) { return uv_timer_init(loop, h); });
        wait_timer->data = this;
        uv_timer_start(wait_timer.get(), [](uv_timer_t* h) {
            auto* a = static_cast<Attached*>(h->data);
            if (a->probe->in_flight()) return;
            if (int64_t(uv_now(a->loop)) - a->stop_started_ms > int64_t(a->opt.stop_wait_s * 1000))
                return a->finish(1, "the engine still answers after session-close");
            a->probe->call(rpc::plain_request("session-get"), [a](Result<std::string> r) {
                if (!r.ok()) a->finish(0, "the engine stopped");
            });
        }, 200, 200);
    }

    UvHandle<uv_signal_t> on_signal(int sig) {
        auto h = UvHandle<uv_signal_t>::create([this](uv_signal_t* s) { return uv_signal_init(loop, s); });
        if (!h) return h;
        h->data = this;
        uv_signal_start(h.get(), [](uv_signal_t* s, int) {
            if (auto* a = static_cast<Attached*>(s->data)) a->detach();
        }, sig);
        return h;
    }
};

}  // namespace

int run_attached_view(uv_loop_t* loop, const AttachOptions& o) {
    auto a = std::make_unique<Attached>();
    a->loop = loop;
    a->opt = o;
    a->model = std::make_unique<RemoteModel>(loop, o.endpoint, a->log, o.interval_s);
    Attached* ap = a.get();
    a->view = std::make_unique<CursesView>(loop, *a->model, a->log, o.interval_s, [ap] { ap->quit(); },
                                           [ap] { ap->detach(); });
    a->log.listener = [ap](const LogLine& l) {
        if (ap->view) ap->view->on_log(l);
    };
    if (auto st = a->view->start(); !st.ok()) {
        std::fprintf(stderr, "btlaunchmany: %s\n", st.error().message.c_str());
        return 1;
    }
    // A hangup is an SSH drop or a killed tmux: leave the engine running.
    a->sighup = a->on_signal(SIGHUP);
    a->sigint = a->on_signal(SIGINT);
    a->sigterm = a->on_signal(SIGTERM);
    a->model->start();
    uv_run(loop, UV_RUN_DEFAULT);
    a->view.reset();
    a->model.reset();
    uv_run(loop, UV_RUN_DEFAULT);  // close callbacks of the handles let go above
    if (!a->farewell.empty()) std::fprintf(stderr, "btlaunchmany: %s\n", a->farewell.c_str());
    return a->status;
}

}  // namespace btl::ui
