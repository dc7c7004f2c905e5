#include "btl/net/port_mapper.hpp"

#include <algorithm>

namespace btl {

int64_t PortMapSchedule::on_mapped(int64_t now_ms, uint32_t lease_s) {
    failures_ = 0;
    // Half the lease leaves room for a renewal that fails once and is retried.
    return now_ms + std::max<int64_t>(kMinRenewMs, int64_t(lease_s) * 1000 / 2);
}

int64_t PortMapSchedule::retry_delay(int n) const {
    int64_t d = policy_.first_retry_ms;
    for (int i = 1; i < n && d < policy_.max_retry_ms; ++i) d *= 2;
    return std::min(d, policy_.max_retry_ms);
}

int64_t PortMapSchedule::on_failed(int64_t now_ms) {
    ++failures_;
    return now_ms + retry_delay(failures_);
}

PortMapper::PortMapper(uv_loop_t* loop, PortMapRequest req, LogFn log, std::function<void()> changed,
                       PortMapPolicy policy)
    : loop_(loop),
      req_(std::move(req)),
      log_(std::move(log)),
      changed_(std::move(changed)),
      schedule_(policy),
      cache_(make_gateway_cache()) {
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    timer_->data = this;
    stop_timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    stop_timer_->data = this;
}

PortMapper::~PortMapper() = default;

void PortMapper::arm(int64_t delay_ms, void (*fn)(uv_timer_t*)) {
    uv_timer_start(timer_.get(), fn, uint64_t(std::max<int64_t>(0, delay_ms)), 0);
}

void PortMapper::start() {
    if (!req_.upnp && !req_.natpmp) return;
    run_map();
}

void PortMapper::run_map() {
    if (busy_ || stopping_) return;
    busy_ = true;
    auto cache = cache_;
    PortMapRequest req = req_;
    auto st = queue_job(
        loop_, jobs_.token(), [cache, req] { return gateway_map(*cache, req); },
        [this](Result<PortMapOutcome> r) {
            busy_ = false;
            if (!r.ok()) {
                PortMapOutcome o;
                o.error = r.error().message;
                return on_outcome(std::move(o));
            }
            on_outcome(std::move(*r));
        });
    if (!st.ok()) {
        busy_ = false;
        PortMapOutcome o;
        o.error = st.error().message;
        on_outcome(std::move(o));
    }
}

void PortMapper::on_outcome(PortMapOutcome o) {
    for (const auto& n : o.notes) log_(false, n);
    const bool was_mapped = last_.mapped;
    const std::string old_error = last_.error;
    const bool first = !tried_;
    const std::string old_where = last_.mapped ? last_.external_ip + ":" + std::to_string(last_.external_port) : "";
    tried_ = true;
    last_ = std::move(o);
    const std::string where = last_.mapped ? last_.external_ip + ":" + std::to_string(last_.external_port) : "";
    if (where != old_where && changed_ && !stopping_) changed_();
    if (stopping_) {
        if (last_.mapped) return run_unmap();
        return finish_stop();
    }
    const int64_t now = int64_t(uv_now(loop_));
    if (last_.mapped) {
        if (!was_mapped)
            log_(false, "port " + std::to_string(req_.port) + " mapped via " + last_.method + ": " +
                            last_.external_ip + ":" + std::to_string(last_.external_port) + " (lease " +
                            std::to_string(last_.lease_s) + " s)");
        arm(schedule_.on_mapped(now, last_.lease_s) - now, [](uv_timer_t* t) {
            if (auto* m = static_cast<PortMapper*>(t->data)) m->run_map();
        });
        return;
    }
    const int64_t due = schedule_.on_failed(now);
    // One line per change of reason, so a gateway that stays away does not fill the log.
    if (first || was_mapped || last_.error != old_error)
        log_(true, "port " + std::to_string(req_.port) + " not mapped: " + last_.error + " (trying again in " +
                       std::to_string((due - now) / 1000) + " s)");
    arm(due - now, [](uv_timer_t* t) {
        if (auto* m = static_cast<PortMapper*>(t->data)) m->run_map();
    });
}

void PortMapper::stop(std::function<void()> done, int64_t max_wait_ms) {
    if (stopping_) {
        if (done) done();
        return;
    }
    stopping_ = true;
    stop_done_ = std::move(done);
    uv_timer_stop(timer_.get());
    if (!busy_ && !last_.mapped) return finish_stop();
    uv_timer_start(stop_timer_.get(), [](uv_timer_t* t) {
        auto* m = static_cast<PortMapper*>(t->data);
        if (!m) return;
        m->log_(true, "the gateway did not confirm deleting the port mapping in time");
        m->finish_stop();
    }, uint64_t(std::max<int64_t>(0, max_wait_ms)), 0);
    // A map job under way ends in on_outcome(), which unmaps what it made.
    if (!busy_) run_unmap();
}

void PortMapper::run_unmap() {
    busy_ = true;
    auto cache = cache_;
    PortMapRequest req = req_;
    std::string method = last_.method;
    auto st = queue_job(
        loop_, jobs_.token(), [cache, req, method] { return gateway_unmap(*cache, req, method); },
        [this, method](Result<std::string> r) {
            busy_ = false;
            std::string err = r.ok() ? *r : r.error().message;
            if (err.empty())
                log_(false, "port mapping deleted (" + method + ")");
            else
                log_(true, "could not delete the port mapping (" + method + "): " + err);
            last_.mapped = false;
            finish_stop();
        });
    if (!st.ok()) {
        busy_ = false;
        finish_stop();
    }
}

void PortMapper::finish_stop() {
    uv_timer_stop(stop_timer_.get());
    if (auto d = std::move(stop_done_)) {
        stop_done_ = nullptr;
        d();
    }
}

PortMapper::Status PortMapper::status() const {
    Status s;
    s.enabled = req_.upnp || req_.natpmp;
    const std::string port = "port " + std::to_string(req_.port);
    if (!s.enabled) {
        s.text = port + " not mapped: off";
        return s;
    }
    if (last_.mapped) {
        s.mapped = true;
        s.external_ip = last_.external_ip;
        s.external_port = last_.external_port;
        s.text = port + " open via " + last_.method + " at " + last_.external_ip +
                 (last_.external_port != req_.port ? ":" + std::to_string(last_.external_port) : std::string());
        return s;
    }
    s.text = port + " not mapped: " + (tried_ ? last_.error : std::string("asking the gateway"));
    return s;
}

}  // namespace btl
