#include "btl/launcher/status_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "btl/base/atomic_file.hpp"

namespace btl {

namespace {
constexpr uint64_t kSoonMs = 200;
}  // namespace

StatusFile::StatusFile(uv_loop_t* loop, std::string path, Source source, std::function<void(const std::string&)> warn)
    : loop_(loop), path_(std::move(path)), source_(std::move(source)), warn_(std::move(warn)) {}

Status StatusFile::start(uint64_t interval_ms) {
    if (path_.empty()) return Ok{};
    remove_atomic_temps(path_);
    int err = 0;
    interval_timer_ = UvHandle<uv_timer_t>::create([this](uv_timer_t* h) { return uv_timer_init(loop_, h); }, &err);
    if (!interval_timer_) return make_error("status_json: cannot create a timer: " + uv_error_string(err));
    soon_timer_ = UvHandle<uv_timer_t>::create([this](uv_timer_t* h) { return uv_timer_init(loop_, h); }, &err);
    if (!soon_timer_) return make_error("status_json: cannot create a timer: " + uv_error_string(err));
    interval_timer_->data = this;
    soon_timer_->data = this;
    uv_timer_start(interval_timer_.get(), [](uv_timer_t* h) {
        if (auto* self = static_cast<StatusFile*>(h->data)) self->paced_write();
    }, interval_ms, interval_ms);
    return Ok{};
}

void StatusFile::write(bool force) {
    if (path_.empty()) return finish_flush();
    if (writing_) {
        again_ = true;
        force_again_ |= force;
        return;
    }
    started_ns_ = uv_hrtime();
    // version() first: the launcher brings its rows up to date there.
    uint64_t version = source_.version();
    int64_t now = int64_t(uv_now(loop_));
    if (!force && version == last_version_) {
        if (now - last_alive_ms_ < alive_ms_) return;
        if (now - last_write_ms_ < rewrite_unchanged_ms()) return touch();
    }
    writing_ = true;
    // The document is built for this write and moved to the pool (it is
    // 57 MB at 100,000 torrents): the launcher keeps no copy of its own.
    auto copy = std::make_shared<const std::string>(source_.document());
    // The job lets go of the document as soon as it is written: a write that
    // follows at once (coalesced) builds the next one before this job object
    // is destroyed, and two documents at once were the peak of a long load.
    auto work = [path = path_, copy]() mutable {
        Status st = write_file_atomic(path, *copy, false);
        copy.reset();
        return st;
    };
    auto queued = queue_job(loop_, jobs_.token(), work, [this, version](Status r) { written(std::move(r), version); });
    if (!queued) written(work(), version);  // no pool: this one document is written here
}

int64_t StatusFile::rewrite_unchanged_ms() const {
    return std::max(rewrite_min_ms_, int64_t(cost_ns_ / 1'000'000) * unchanged_cost_factor_);
}

void StatusFile::touch() {
    writing_ = true;  // a write asked for meanwhile follows it (again_)
    auto work = [path = path_]() -> Status {
        if (::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) != 0)
            return make_error(path + ": " + std::strerror(errno));
        return Ok{};
    };
    auto queued = queue_job(loop_, jobs_.token(), work, [this](Status r) { touched(std::move(r)); });
    if (!queued) touched(work());
}

void StatusFile::touched(Status result) {
    writing_ = false;
    if (result.ok()) {
        last_alive_ms_ = int64_t(uv_now(loop_));
        ++touches_;
    } else {
        last_version_ = UINT64_MAX;  // gone (say, removed by hand): the next tick writes it whole
    }
    if (again_) {
        again_ = false;
        bool force = std::exchange(force_again_, false);
        return write(force);
    }
    finish_flush();
}

int64_t StatusFile::paced_for_ms() const {
    if (last_end_ms_ < 0) return 0;
    int64_t hold = int64_t(cost_ns_ / 1'000'000) * kCostFactor;
    int64_t left = last_end_ms_ + hold - int64_t(uv_now(loop_));
    return left > 0 ? left : 0;
}

void StatusFile::written(Status result, uint64_t version) {
    writing_ = false;
    cost_ns_ = uv_hrtime() - started_ns_;
    uv_update_time(loop_);
    last_end_ms_ = int64_t(uv_now(loop_));
    if (!result.ok()) {
        if (warn_) warn_("status_json: " + result.error().message);
    } else {
        last_version_ = version;
        last_write_ms_ = last_alive_ms_ = int64_t(uv_now(loop_));
        ++writes_;
    }
    if (again_) {
        again_ = false;
        bool force = std::exchange(force_again_, false);
        return write(force);
    }
    finish_flush();
}

void StatusFile::soon() { arm_soon(std::max<uint64_t>(kSoonMs, uint64_t(paced_for_ms()))); }

void StatusFile::arm_soon(uint64_t ms) {
    if (stopped_ || !soon_timer_ || uv_is_active(soon_timer_.handle())) return;
    uv_timer_start(soon_timer_.get(), [](uv_timer_t* h) {
        if (auto* self = static_cast<StatusFile*>(h->data)) self->paced_write();
    }, ms, 0);
}

void StatusFile::paced_write() {
    if (int64_t wait = paced_for_ms(); wait > 0) return arm_soon(uint64_t(wait));
    write();
}

void StatusFile::flush(std::function<void()> done) {
    stopped_ = true;
    interval_timer_.reset();
    soon_timer_.reset();
    flushed_ = std::move(done);
    write(true);
}

void StatusFile::finish_flush() {
    if (!flushed_) return;
    auto done = std::exchange(flushed_, nullptr);
    done();
}

}  // namespace btl
