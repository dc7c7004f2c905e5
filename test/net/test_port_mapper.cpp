#include <doctest/doctest.h>

#include <uv.h>

#include "btl/net/port_mapper.hpp"

using namespace btl;

TEST_CASE("port map schedule: a mapping is renewed at half its lease") {
    PortMapSchedule s;
    CHECK(s.on_mapped(1'000'000, 3600) == 1'000'000 + 1'800'000);
    CHECK(s.on_mapped(0, 8) == 4'000);
    // A gateway granting (almost) nothing is not asked again in a busy loop.
    CHECK(s.on_mapped(0, 0) == PortMapSchedule::kMinRenewMs);
    CHECK(s.on_mapped(0, 1) == PortMapSchedule::kMinRenewMs);
}

TEST_CASE("port map schedule: failures back off doubling to the cap, a success resets") {
    PortMapSchedule s(PortMapPolicy{10'000, 80'000});
    CHECK(s.on_failed(0) == 10'000);
    CHECK(s.on_failed(0) == 20'000);
    CHECK(s.on_failed(0) == 40'000);
    CHECK(s.on_failed(0) == 80'000);
    CHECK(s.on_failed(0) == 80'000);
    CHECK(s.failures() == 5);
    s.on_mapped(0, 3600);
    CHECK(s.failures() == 0);
    CHECK(s.on_failed(100) == 10'100);
    CHECK(s.retry_delay(1000) == 80'000);
}

TEST_CASE("port mapper: with UPnP and NAT-PMP off it does nothing and says so") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        PortMapRequest req;
        req.port = 6881;
        req.upnp = req.natpmp = false;
        int logs = 0;
        PortMapper m(&loop, req, [&](bool, const std::string&) { ++logs; });
        m.start();
        bool stopped = false;
        m.stop([&] { stopped = true; }, 1000);
        CHECK(stopped);
        auto st = m.status();
        CHECK_FALSE(st.enabled);
        CHECK_FALSE(st.mapped);
        CHECK(st.text == "port 6881 not mapped: off");
        CHECK(logs == 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
}
