// The RPC server's checks and routes; see btl/rpc/rpc_server.hpp.
#include "btl/rpc/rpc_server.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>

#include "btl/rpc/metrics.hpp"
#include "btl/rpc/rpc_security.hpp"

namespace btl::rpc {

namespace {

constexpr char kSessionHeader[] = "X-Transmission-Session-Id";
constexpr size_t kMaxDelayedAnswers = 256;

HttpResponse text(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
}

}  // namespace

Status check_rpc_options(const RpcServerOptions& o) {
    if (!o.auth.empty()) {
        size_t colon = o.auth.find(':');
        if (colon == std::string::npos || colon == 0)
            return make_error("--rpc_auth must be USER:PASS (a user name, a colon, a password)");
        if (colon + 1 == o.auth.size()) return make_error("--rpc_auth: the password is empty");
    }
    if (o.port != 0 && !is_loopback_bind(o.bind) && o.auth.empty())
        return make_error("--rpc_bind " + o.bind + " is not a loopback address: set --rpc_auth USER:PASS too");
    return Ok{};
}

RpcServer::RpcServer(uv_loop_t* loop, RpcBackend& backend, RpcServerOptions opt, EventSink* log)
    : loop_(loop), backend_(backend), opt_(std::move(opt)), log_(log), session_id_(new_session_id()) {}

RpcServer::~RpcServer() { stop(); }

Status RpcServer::start() {
    if (Status st = check_rpc_options(opt_); !st.ok()) return st;
    DispatchOptions d;
    d.allowed_dirs = opt_.allowed_dirs;
    d.allow_any_dir = opt_.allow_any_dir;
    d.session_id = session_id_;
    d.version = opt_.version;
    d.on_session_close = opt_.on_session_close;
    dispatcher_ = std::make_unique<Dispatcher>(loop_, backend_, std::move(d));
    HttpLimits lim;
    lim.max_body = opt_.max_body;
    http_ = std::make_unique<HttpServer>(loop_, lim, [this](const HttpRequest& r, const HttpServer::Client& c,
                                                            HttpServer::Respond respond) {
        on_request(r, c, std::move(respond));
    });
    if (opt_.port != 0)
        if (Status st = http_->listen_tcp(opt_.bind, opt_.port); !st.ok()) {
            if (!opt_.tcp_optional) return st;
            if (log_) log_->log(LogLevel::warning, "", st.error().message + "; serving RPC on the Unix socket only");
        }
    // The socket is a convenience beside the port: without it the program
    // still runs (the log says why).
    if (!opt_.unix_path.empty())
        if (Status st = http_->listen_unix(opt_.unix_path); !st.ok() && log_)
            log_->log(LogLevel::warning, "", st.error().message);
    return Ok{};
}

void RpcServer::stop() {
    if (http_) http_->close();
    for (auto& t : delays_)
        if (t && t->data) {
            delete static_cast<std::pair<HttpServer::Respond, HttpResponse>*>(t->data);  // nobody to answer now
            t->data = nullptr;
        }
    delays_.clear();
}

void RpcServer::refuse_login(const HttpServer::Client& client, HttpServer::Respond respond) {
    ++auth_failures_;
    failures_in_row_ = std::min(failures_in_row_ + 1, 8);
    int64_t now = int64_t(uv_now(loop_));
    // One line per 10 s at most: a guessing client must not flood the log.
    if (last_failure_log_ms_ < 0 || now - last_failure_log_ms_ >= 10'000) {
        std::string more = unlogged_failures_ ? " (" + std::to_string(unlogged_failures_) + " more since the last line)" : "";
        if (log_) log_->log(LogLevel::warning, "", "RPC: wrong user name or password from " + client.address + more);
        last_failure_log_ms_ = now;
        unlogged_failures_ = 0;
    } else {
        ++unlogged_failures_;
    }
    HttpResponse r = text(401, "401: Unauthorized\n");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"btlaunchmany\"");
    // Held back 0.5 s per failure in a row (up to 4 s), without blocking the loop.
    delays_.erase(std::remove_if(delays_.begin(), delays_.end(), [](const auto& t) { return !t || !t->data; }),
                  delays_.end());
    if (delays_.size() >= kMaxDelayedAnswers) {
        r.close = true;
        return respond(std::move(r));
    }
    auto timer = UvHandle<uv_timer_t>::create([this](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    if (!timer) return respond(std::move(r));
    auto* pending = new std::pair<HttpServer::Respond, HttpResponse>(std::move(respond), std::move(r));
    timer->data = pending;
    uv_timer_start(timer.get(), [](uv_timer_t* t) {
        auto* p = static_cast<std::pair<HttpServer::Respond, HttpResponse>*>(t->data);
        t->data = nullptr;
        if (!p) return;
        p->first(std::move(p->second));
        delete p;
    }, uint64_t(500 * failures_in_row_), 0);
    delays_.push_back(std::move(timer));
}

void RpcServer::on_request(const HttpRequest& req, const HttpServer::Client& client, HttpServer::Respond respond) {
    ++requests_;
    std::string_view path = req.path;
    const bool rpc = path == "/transmission/rpc" || path == "/transmission/rpc/";
    const bool metrics = path == "/metrics";
    if (!rpc && !metrics) return respond(text(404, "404: Not Found (try /transmission/rpc or /metrics)\n"));
    if (!host_allowed(req.header("host"), opt_.host_whitelist))
        return respond(text(421, "421: Misdirected Request: this Host is not in --rpc_host_whitelist\n"));
    if (!opt_.auth.empty() && !client.unix_socket) {
        std::string_view auth = req.header("authorization");
        if (auth.empty()) {
            HttpResponse r = text(401, "401: Unauthorized\n");
            r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"btlaunchmany\"");
            return respond(std::move(r));
        }
        if (!basic_auth_ok(auth, opt_.auth)) return refuse_login(client, std::move(respond));
        failures_in_row_ = 0;
    }
    if (metrics) {
        if (req.method != "GET" && req.method != "HEAD") return respond(text(405, "405: use GET\n"));
        return answer_metrics(std::move(respond));
    }
    if (req.header(kSessionHeader) != session_id_) {
        HttpResponse r = text(409, "409: Conflict: send the " + std::string(kSessionHeader) +
                                       " header given in this answer\n");
        r.headers.emplace_back(kSessionHeader, session_id_);
        return respond(std::move(r));
    }
    if (req.method != "POST") return respond(text(405, "405: use POST\n"));
    dispatcher_->handle(req.body, [respond, id = session_id_](std::string body) {
        HttpResponse r;
        r.headers.emplace_back(kSessionHeader, id);
        r.body = std::move(body);
        respond(std::move(r));
    });
}

namespace {

// Every handle of the loop, and the timers among them (uv_walk).
void count_loop_handles(uv_loop_t* loop, int64_t& handles, int64_t& timers) {
    struct Counts {
        int64_t all = 0, timers = 0;
    } c;
    uv_walk(
        loop,
        [](uv_handle_t* h, void* arg) {
            auto* n = static_cast<Counts*>(arg);
            ++n->all;
            if (h->type == UV_TIMER) ++n->timers;
        },
        &c);
    handles = c.all;
    timers = c.timers;
}

}  // namespace

void RpcServer::answer_metrics(HttpServer::Respond respond) {
    std::string path = backend_.facts().download_dir;
    struct Space {
        int64_t free = -1, total = -1;
    };
    auto work = [path] {
        struct statvfs v {};
        Space s;
        if (statvfs(path.c_str(), &v) == 0) {
            s.free = int64_t(v.f_bavail) * int64_t(v.f_frsize);
            s.total = int64_t(v.f_blocks) * int64_t(v.f_frsize);
        }
        return s;
    };
    auto done = [this, path, respond](Result<Space> space) {
        MetricsInput in;
        in.torrents = backend_.torrents();
        in.paused.reserve(in.torrents.size());
        for (const TorrentStatus* t : in.torrents) in.paused.push_back(t->state == TorrentState::stopped);
        in.session = backend_.session_status();
        in.disk_path = path;
        if (space.ok()) {
            in.disk_free = space->free;
            in.disk_total = space->total;
        }
        in.rpc_requests = requests_;
        in.auth_failures = auth_failures_;
        in.max_torrents = opt_.metrics_torrents;
        count_loop_handles(loop_, in.loop_handles, in.loop_timers);
        HttpResponse r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = prometheus_text(in);
        respond(std::move(r));
    };
    if (Status q = queue_job(loop_, jobs_.token(), std::move(work), done); !q.ok()) done(q.error());
}

}  // namespace btl::rpc
