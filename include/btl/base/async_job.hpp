// AsyncJob: the one way to run blocking work (disk reads and writes, SHA-1,
// parsing a big .torrent, saving state) on the libuv thread pool and get the
// answer back on the loop thread.
//
// Contract:
//  - queue_job(loop, owner, work, done) runs work() on a pool thread, then
//    done(result) on the loop thread.  result is a Result<R>: the value work
//    returned (a work that returns Result<X> gives Result<X>, not a nested
//    Result; a work that returns void gives Status), or an Error "cancelled"
//    when the loop cancelled the job before it ran.
//  - done runs only while `owner` is alive: an object that queues jobs holds
//    a JobOwner member, and destroying it (with the object) means no later
//    done callback touches the dead object.  The work itself still finishes
//    (a pool thread cannot be interrupted) and its result is destroyed on the
//    loop thread.
//  - When libuv refuses the job, queue_job returns the error and neither
//    work nor done ever runs: the caller decides (the result is
//    [[nodiscard]], so no caller can forget).
//  - work must not touch loop-owned state: it gets only what it captured.
//
// Cost: one heap allocation per job (work, done and the result together).
#pragma once
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "btl/base/result.hpp"

namespace btl {

using JobToken = std::weak_ptr<const char>;

// Lives inside the object whose jobs must not outlive it.
class JobOwner {
public:
    JobOwner() = default;
    JobOwner(const JobOwner&) = delete;  // a copy would keep the owner "alive"
    JobOwner& operator=(const JobOwner&) = delete;
    JobToken token() const { return anchor_; }

private:
    std::shared_ptr<const char> anchor_ = std::make_shared<const char>(0);
};

namespace detail {
template <class R>
struct JobResult {
    using type = Result<R>;
    static type wrap(R&& v) { return type(std::move(v)); }
};
template <class T>
struct JobResult<Result<T>> {
    using type = Result<T>;
    static type wrap(Result<T>&& v) { return std::move(v); }
};
template <class W>
using job_value_t = std::conditional_t<std::is_void_v<std::invoke_result_t<W&>>, Ok, std::invoke_result_t<W&>>;
}  // namespace detail

template <class Work, class Done>
[[nodiscard]] Status queue_job(uv_loop_t* loop, JobToken owner, Work&& work, Done&& done) {
    using R = detail::job_value_t<std::decay_t<Work>>;
    struct Job {
        uv_work_t req;
        JobToken owner;
        std::decay_t<Work> work;
        std::decay_t<Done> done;
        std::optional<R> value;
    };
    auto* job = new Job{uv_work_t{}, std::move(owner), std::forward<Work>(work), std::forward<Done>(done), std::nullopt};
    job->req.data = job;
    int rc = uv_queue_work(
        loop, &job->req,
        [](uv_work_t* w) {
            auto* j = static_cast<Job*>(w->data);
            if constexpr (std::is_void_v<std::invoke_result_t<std::decay_t<Work>&>>) {
                j->work();
                j->value.emplace(Ok{});
            } else {
                j->value.emplace(j->work());
            }
        },
        [](uv_work_t* w, int status) {
            std::unique_ptr<Job> j(static_cast<Job*>(w->data));
            if (j->owner.expired()) return;
            if (status < 0 || !j->value) {
                j->done(typename detail::JobResult<R>::type(make_error("cancelled")));
                return;
            }
            j->done(detail::JobResult<R>::wrap(std::move(*j->value)));
        });
    if (rc < 0) {
        delete job;
        return make_error(std::string("cannot queue work on the thread pool: ") + uv_strerror(rc));
    }
    return Ok{};
}

}  // namespace btl
