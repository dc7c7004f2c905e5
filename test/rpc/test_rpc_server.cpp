// RpcServer end to end on a real loop: a client thread speaks raw HTTP to
// the TCP port while the loop thread serves, so the order of the checks
// (path, Host, password, session id, method) is tested as a client sees it.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "btl/base/base64.hpp"
#include "btl/rpc/rpc_server.hpp"
#include "rpc_test_rig.hpp"

using namespace btl;
using namespace btl::rpc;

namespace {

// No torrents; the download directory is "/".
struct EmptyBackend : testing::StubBackend {
    SessionFacts facts() const override {
        SessionFacts f;
        f.download_dir = "/";
        return f;
    }
};

struct Log : EventSink {
    std::vector<std::string> lines;
    void log(LogLevel, const std::string&, const std::string& m) override { lines.push_back(m); }
};

// One request on a fresh connection; the whole answer (the server closes or
// we stop reading once Content-Length bytes of body are in).
std::string round_trip(uint16_t port, const std::string& req) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return "connect failed";
    }
    (void)!::write(fd, req.data(), req.size());
    std::string got;
    char buf[4096];
    for (;;) {
        size_t he = got.find("\r\n\r\n");
        if (he != std::string::npos) {
            size_t cl = got.find("Content-Length: ");
            if (cl != std::string::npos && got.size() >= he + 4 + std::stoul(got.substr(cl + 16))) break;
        }
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, size_t(n));
    }
    ::close(fd);
    return got;
}

std::string post(const std::string& host, const std::string& extra, const std::string& body) {
    return "POST /transmission/rpc HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("rpc server: Host, password, session id and method are checked in order, over TCP") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    EmptyBackend backend;
    Log log;
    RpcServerOptions o;
    o.port = 0;
    o.auth = "u:p";
    // Port 0 means "no TCP port" to the program; pick a free one here.
    {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        o.port = ntohs(a.sin_port);
        ::close(fd);
    }
    auto server = std::make_unique<RpcServer>(&loop, backend, o, &log);
    REQUIRE(server->start().ok());
    const uint16_t port = server->tcp_port();
    const std::string sid = server->session_id();
    const std::string good = "Authorization: Basic " + base64_encode("u:p") + "\r\n";
    std::vector<std::string> answers;
    std::atomic<bool> done{false};
    std::thread client([&] {
        answers.push_back(round_trip(port, post("evil.example", good, "{}")));                    // 0: Host first
        answers.push_back(round_trip(port, post("127.0.0.1", "", "{}")));                         // 1: no password
        auto t0 = std::chrono::steady_clock::now();
        answers.push_back(round_trip(port, post("127.0.0.1", "Authorization: Basic " + base64_encode("u:x") + "\r\n", "{}")));
        answers.push_back(std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - t0).count()));  // 3: delay
        answers.push_back(round_trip(port, post("localhost:1", good, "{}")));                      // 4: no session id
        answers.push_back(round_trip(port, post("localhost", good + "X-Transmission-Session-Id: " + sid + "\r\n",
                                              R"({"method":"session-stats","tag":9})")));          // 5: served
        answers.push_back(round_trip(port, "GET /transmission/rpc HTTP/1.1\r\nHost: localhost\r\n" + good +
                                             "X-Transmission-Session-Id: " + sid + "\r\n\r\n"));  // 6: GET
        answers.push_back(round_trip(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n" + good + "\r\n"));  // 7
        answers.push_back(round_trip(port, "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n"));           // 8
        done = true;
    });
    while (!done) uv_run(&loop, UV_RUN_NOWAIT), std::this_thread::sleep_for(std::chrono::milliseconds(1));
    client.join();
    server.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    REQUIRE(answers.size() == 9);
    CHECK(answers[0].rfind("HTTP/1.1 421", 0) == 0);
    CHECK(answers[1].rfind("HTTP/1.1 401", 0) == 0);
    CHECK(answers[1].find("WWW-Authenticate: Basic") != std::string::npos);
    CHECK(answers[2].rfind("HTTP/1.1 401", 0) == 0);
    CHECK(std::stoi(answers[3]) >= 450);  // a wrong password is answered late
    CHECK(answers[4].rfind("HTTP/1.1 409", 0) == 0);
    CHECK(answers[4].find("X-Transmission-Session-Id: " + sid) != std::string::npos);
    CHECK(answers[5].rfind("HTTP/1.1 200", 0) == 0);
    CHECK(answers[5].find(R"("result":"success","tag":9})") != std::string::npos);
    CHECK(answers[6].rfind("HTTP/1.1 405", 0) == 0);
    CHECK(answers[7].rfind("HTTP/1.1 200", 0) == 0);
    CHECK(answers[7].find("# TYPE btl_torrents gauge") != std::string::npos);
    // The loop's own handles: at least the listening socket and a connection.
    const size_t lh = answers[7].find("\nbtl_loop_handles ");
    REQUIRE(lh != std::string::npos);
    CHECK(std::stol(answers[7].substr(lh + 18)) >= 2);
    CHECK(answers[7].find("\nbtl_loop_timers ") != std::string::npos);
    CHECK(answers[8].rfind("HTTP/1.1 404", 0) == 0);
    REQUIRE(log.lines.size() == 1);
    CHECK(log.lines[0].find("wrong user name or password from 127.0.0.1") != std::string::npos);
}

TEST_CASE("rpc server: thousands of tiny pipelined requests are answered in order without deep recursion") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    EmptyBackend backend;
    RpcServerOptions o;
    {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        o.port = ntohs(a.sin_port);
        ::close(fd);
    }
    auto server = std::make_unique<RpcServer>(&loop, backend, o, nullptr);
    REQUIRE(server->start().ok());
    const uint16_t port = server->tcp_port();
    constexpr int kRequests = 20000;
    std::string many;
    for (int i = 0; i < kRequests; ++i) many += "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n";
    int answered = -1;
    std::atomic<bool> done{false};
    std::thread client([&] {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval tv{10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            std::thread writer([&] { (void)!::write(fd, many.data(), many.size()); });
            std::string got;
            char buf[65536];
            answered = 0;
            while (answered < kRequests) {
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, size_t(n));
                size_t pos;
                while ((pos = got.find("HTTP/1.1 404")) != std::string::npos) {
                    ++answered;
                    got.erase(0, pos + 12);
                }
            }
            writer.join();
        }
        ::close(fd);
        done = true;
    });
    while (!done) uv_run(&loop, UV_RUN_NOWAIT), std::this_thread::sleep_for(std::chrono::microseconds(200));
    client.join();
    server.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    CHECK(answered == kRequests);
}
