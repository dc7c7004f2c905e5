#include <doctest/doctest.h>

#include "btl/peer_connection.hpp"
#include "btl/resolve.hpp"

using namespace btl;

TEST_CASE("resolve: an IP literal is answered at once with the port set") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    bool called = false;
    resolve_address(&loop, "127.0.0.7", 6969, SOCK_STREAM, "", [&](Result<sockaddr_storage> r) {
        called = true;
        REQUIRE(r.ok());
        std::string ip;
        uint16_t port = 0;
        REQUIRE(sockaddr_to_ip(reinterpret_cast<const sockaddr*>(&*r), ip, port));
        CHECK(ip == "127.0.0.7");
        CHECK(port == 6969);
    });
    CHECK(called);  // before the loop ran
    uv_loop_close(&loop);
}

TEST_CASE("resolve: a name goes through the loop and prefers IPv4") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::string ip;
    uint16_t port = 0;
    int calls = 0;
    resolve_address(&loop, "localhost", 80, SOCK_DGRAM, "", [&](Result<sockaddr_storage> r) {
        ++calls;
        REQUIRE(r.ok());
        sockaddr_to_ip(reinterpret_cast<const sockaddr*>(&*r), ip, port);
    });
    CHECK(calls == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(calls == 1);
    CHECK(ip == "127.0.0.1");
    CHECK(port == 80);
    uv_loop_close(&loop);
}
