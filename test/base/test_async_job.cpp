#include "btl/base/async_job.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>

using namespace btl;

namespace {

struct Loop {
    uv_loop_t loop;
    Loop() { uv_loop_init(&loop); }
    ~Loop() { uv_loop_close(&loop); }
    void run() { uv_run(&loop, UV_RUN_DEFAULT); }
};

}  // namespace

TEST_CASE("async job: work runs off the loop thread, done runs on it with the value") {
    Loop l;
    JobOwner owner;
    const auto loop_thread = std::this_thread::get_id();
    std::thread::id work_thread;
    int got = 0;
    bool on_loop = false;
    REQUIRE(queue_job(&l.loop, owner.token(),
                      [&] {
                          work_thread = std::this_thread::get_id();
                          return 42;
                      },
                      [&](Result<int> r) {
                          REQUIRE(r.ok());
                          got = *r;
                          on_loop = std::this_thread::get_id() == loop_thread;
                      })
                .ok());
    l.run();
    CHECK(got == 42);
    CHECK(on_loop);
    CHECK(work_thread != loop_thread);
}

TEST_CASE("async job: a work returning Result passes its error through, not nested") {
    Loop l;
    JobOwner owner;
    std::string err;
    REQUIRE(queue_job(&l.loop, owner.token(), []() -> Result<std::string> { return make_error("bad torrent"); },
                      [&](Result<std::string> r) {
                          REQUIRE(!r.ok());
                          err = r.error().message;
                      })
                .ok());
    l.run();
    CHECK(err == "bad torrent");
}

TEST_CASE("async job: a void work gives a Status") {
    Loop l;
    JobOwner owner;
    int ran = 0;
    bool ok = false;
    REQUIRE(queue_job(&l.loop, owner.token(), [&] { ++ran; }, [&](Status s) { ok = s.ok(); }).ok());
    l.run();
    CHECK(ran == 1);
    CHECK(ok);
}

TEST_CASE("async job: done never runs once its owner is gone; the work still finishes") {
    Loop l;
    auto owner = std::make_unique<JobOwner>();
    int worked = 0, done = 0;
    REQUIRE(queue_job(&l.loop, owner->token(), [&] { ++worked; }, [&](Status) { ++done; }).ok());
    owner.reset();  // the owner dies while the job is queued
    l.run();
    CHECK(worked == 1);
    CHECK(done == 0);
}
