#include <doctest/doctest.h>

#include <uv.h>

#include <string>
#include <vector>

#include "btl/net/udp_socket.hpp"

using namespace btl;

TEST_CASE("udp socket: datagrams are routed by first byte; the rest go to the fallback or are counted") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        UdpSocket a(&loop), b(&loop);
        REQUIRE(a.open("127.0.0.1", 0) == 0);
        REQUIRE(b.open("127.0.0.1", 0) == 0);
        CHECK(a.port() != 0);
        std::vector<std::string> dht, other;
        a.route('d', [&](const sockaddr*, std::string_view d) { dht.emplace_back(d); });
        sockaddr_in to{};
        uv_ip4_addr("127.0.0.1", a.port(), &to);
        auto* sa = reinterpret_cast<const sockaddr*>(&to);
        CHECK(b.send(sa, "d1:ad2:id20:xxxxxxxxxxxxxxxxxxxxe1:q4:ping1:t2:aa1:y1:qe") == 0);
        CHECK(b.send(sa, std::string("\x00\x00\x00\x01", 4) + "tracker") == 0);
        for (int i = 0; i < 50 && dht.size() + a.unrouted() < 2; ++i) uv_run(&loop, UV_RUN_NOWAIT), uv_sleep(2);
        CHECK(dht.size() == 1);
        CHECK(a.unrouted() == 1);
        a.set_fallback([&](const sockaddr*, std::string_view d) { other.emplace_back(d); });
        CHECK(b.send(sa, "\x41uTP-ish") == 0);
        for (int i = 0; i < 50 && other.empty(); ++i) uv_run(&loop, UV_RUN_NOWAIT), uv_sleep(2);
        REQUIRE(other.size() == 1);
        CHECK(other[0] == "\x41uTP-ish");
        // A second socket on a port in use fails with an error, not a crash.
        UdpSocket c(&loop);
        CHECK(c.open("127.0.0.1", a.port()) != 0);
        CHECK_FALSE(c.is_open());
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
}
