// TrackerServer delivers an answer larger than its write bound to a client
// that reads it slowly (a full scrape of many torrents), and still drops a
// client that stops reading.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "btl/net/http_request.hpp"
#include "btl/tracker/server.hpp"
#include "btl/tracker/service.hpp"

using namespace btl;

namespace {

// Announces n torrents straight into the service (no sockets).
void populate(TrackerService& svc, int n) {
    HttpRequestParser parser;
    PeerAddr addr;
    REQUIRE(PeerAddr::parse("203.0.113.5", addr));
    std::string out;
    int parsed = 0;
    for (int i = 0; i < n; ++i) {
        char ih[64];
        std::snprintf(ih, sizeof ih, "%%%02x%%%02x%%%02x01234567890123456", i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff);
        std::string raw = std::string("GET /announce?info_hash=") + ih +
                          "&peer_id=-XX0001-abcdefghijkl&port=6881&left=0 HTTP/1.1\r\nHost: t\r\n\r\n";
        parser.reset();
        if (parser.parse(raw) != HttpParse::complete) continue;
        ++parsed;
        out.clear();
        svc.handle(parser.request(), addr, 1000, out);
    }
    REQUIRE(parsed == n);
}

// A client with a small receive buffer: sends one request, waits, then reads
// until EOF; returns what it read.
std::string slow_client(int port, int wait_ms, size_t stop_after = SIZE_MAX) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(uint16_t(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string got;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
        const std::string req = "GET /scrape HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        (void)!::write(fd, req.data(), req.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
        char buf[2048];  // small reads: the server's output stays queued a while
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, size_t(n));
            if (got.size() >= stop_after) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // stop reading
                stop_after = SIZE_MAX;
            }
        }
    }
    ::close(fd);
    return got;
}

struct ServerRig {
    uv_loop_t loop;
    TrackerRegistry reg;
    TrackerService svc{reg};
    std::unique_ptr<TrackerServer> server;
    explicit ServerRig(ServerConfig cfg) {
        uv_loop_init(&loop);
        populate(svc, 80000);  // a full scrape of ~5.6 MB: more than the kernel's socket buffers hold
        server = std::make_unique<TrackerServer>(&loop, svc, cfg);
        REQUIRE(server->start().ok());
    }
    // Runs the loop while the client runs on its own thread.
    std::string run(int wait_ms, size_t stop_after = SIZE_MAX) {
        std::atomic<bool> done{false};
        std::string got;
        std::thread t([&] {
            got = slow_client(server->bound_port(), wait_ms, stop_after);
            done = true;
        });
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done && std::chrono::steady_clock::now() < end) uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
        t.join();
        return got;
    }
    ~ServerRig() {
        server->stop();
        server.reset();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
};

ServerConfig small_bounds() {
    ServerConfig cfg;
    cfg.bind = "127.0.0.1";
    cfg.port = 0;
    cfg.max_write_queue = 4096;  // far below the answer
    cfg.drain_ms = 50;           // far below the client's wait
    cfg.timeout_ms = 800;
    return cfg;
}

}  // namespace

TEST_CASE("tracker server: a full scrape larger than the write bound reaches a slow reader whole") {
    ServerRig rig(small_bounds());
    std::string got = rig.run(400);
    size_t sep = got.find("\r\n\r\n");
    REQUIRE(sep != std::string::npos);
    const size_t body = got.size() - sep - 4;
    CHECK(body > 5'000'000);  // 80,000 torrents: more than the socket buffers and the bound
    CHECK(got.find("Content-Length: " + std::to_string(body) + "\r\n") != std::string::npos);
}

TEST_CASE("tracker server: a client that stops reading a large answer is dropped after timeout_ms") {
    ServerRig rig(small_bounds());
    std::string got = rig.run(0, 8192);  // reads 8 KiB, then stalls 1.5 s (> timeout_ms 800)
    size_t sep = got.find("\r\n\r\n");
    REQUIRE(sep != std::string::npos);
    const size_t len_at = got.find("Content-Length: ");
    REQUIRE(len_at != std::string::npos);
    const size_t want = std::stoul(got.substr(len_at + 16));
    CHECK(got.size() - sep - 4 < want);  // cut short
    CHECK(rig.server->stats().timed_out >= 1);
}
