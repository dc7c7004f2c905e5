#include <doctest/doctest.h>

#include "btl/net/peer_connection.hpp"
#include "btl/net/resolve.hpp"

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

TEST_CASE("resolve: one lookup per name, at most two at a time, every caller answered") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    // 50 callers for localhost/TCP share a lookup; localhost/UDP and
    // localhost/any are two more (all from /etc/hosts: nothing leaves the
    // machine).
    int ok = 0, others = 0;
    std::vector<uint16_t> ports;
    for (int i = 0; i < 50; ++i)
        resolve_address(&loop, "localhost", uint16_t(1000 + i), SOCK_STREAM, "", [&](Result<sockaddr_storage> r) {
            REQUIRE(r.ok());
            std::string ip;
            uint16_t port = 0;
            sockaddr_to_ip(reinterpret_cast<const sockaddr*>(&*r), ip, port);
            CHECK(ip == "127.0.0.1");
            ports.push_back(port);
            ++ok;
        });
    for (int socktype : {int(SOCK_DGRAM), 0})
        resolve_address(&loop, "localhost", 7, socktype, "", [&](Result<sockaddr_storage> r) {
            CHECK(r.ok());
            ++others;
        });
    CHECK(resolve_pending(&loop) == 3);
    CHECK(resolve_running(&loop) == 2);  // the third waits for a turn
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(ok == 50);
    CHECK(others == 2);
    REQUIRE(ports.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(ports[size_t(i)] == 1000 + i);  // each caller's own port, in order
    CHECK(resolve_pending(&loop) == 0);
    // A callback may resolve again.
    bool second = false;
    resolve_address(&loop, "localhost", 1, SOCK_STREAM, "", [&](Result<sockaddr_storage>) {
        resolve_address(&loop, "localhost", 2, SOCK_STREAM, "", [&](Result<sockaddr_storage> r) { second = r.ok(); });
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(second);
    uv_loop_close(&loop);
}
