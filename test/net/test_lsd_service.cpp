#include <doctest/doctest.h>
#include <uv.h>

#include <string>

#include "btl/net/lsd.hpp"

using namespace btl;

namespace {

struct Loop {
    uv_loop_t loop;
    Loop() { uv_loop_init(&loop); }
    ~Loop() {
        uv_run(&loop, UV_RUN_NOWAIT);
        uv_loop_close(&loop);
    }
};

}  // namespace

TEST_CASE("lsd: no family to run on, or an IPv6 --bind no interface holds, is a clear error") {
    Loop l;
    {
        LsdService lsd(&l.loop, 6881, "", "c", {});
        auto st = lsd.start(false, false);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message == "no address family to run on");
    }
    {
        std::string logged;
        LsdService::Hooks h;
        h.log = [&](bool, const std::string& m) { logged += m; };
        // 2001:db8::/32 is for documentation: no host holds it.
        LsdService lsd(&l.loop, 6881, "2001:db8::77", "c", h);
        auto st = lsd.start(false, true);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message.find("LSD over IPv6 unavailable: no interface holds the --bind address 2001:db8::77") !=
              std::string::npos);
        CHECK(logged.find("2001:db8::77") != std::string::npos);
    }
}
