// HttpGet against scripted HTTP servers (a blocking socket on 127.0.0.1 in a
// thread, one script per test): every bound a lying tracker could push on —
// size (also decoded, past gzip), redirects, total time — ends the request
// with a clear error, and a complete answer is taken without waiting for the
// server to hang up.  These cases were written for the hand-written client
// and are kept as the contract of the libcurl one; the CurlLoop sharing and
// cancellation cases follow.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "btl/net/http_client.hpp"
#include "test_loop.hpp"

using namespace btl;

namespace {

using testing::Loop;

// Accepts connections until destroyed; script(fd, request) answers each.
struct FakeHttp {
    int lfd = -1;
    uint16_t port = 0;
    std::atomic<int> requests{0};
    std::atomic<bool> quit{false};
    std::thread th;

    explicit FakeHttp(std::function<void(int, const std::string&)> script) {
        lfd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(lfd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        REQUIRE(::listen(lfd, 8) == 0);
        th = std::thread([this, script] {
            while (!quit) {
                int fd = ::accept(lfd, nullptr, nullptr);
                if (fd < 0) return;
                std::string req;
                char buf[4096];
                while (req.find("\r\n\r\n") == std::string::npos) {
                    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                    if (n <= 0) break;
                    req.append(buf, size_t(n));
                }
                ++requests;
                if (!quit) script(fd, req);
                ::close(fd);
            }
        });
    }
    ~FakeHttp() {
        quit = true;
        ::shutdown(lfd, SHUT_RDWR);
        ::close(lfd);
        th.join();
    }
    std::string url(const std::string& path = "/announce") const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }
};

bool send_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += size_t(n);
    }
    return true;
}

struct Outcome {
    std::optional<Result<HttpResponse>> r;
    bool done() const { return r.has_value(); }
    std::string error() const { return r && !r->ok() ? r->error().message : ""; }
};

}  // namespace

TEST_CASE("http client: a body past max_bytes is cut off, not buffered") {
    std::atomic<size_t> sent{0};
    FakeHttp srv([&](int fd, const std::string&) {
        if (!send_all(fd, "HTTP/1.0 200 OK\r\nContent-Length: 500000000\r\n\r\n")) return;
        std::string chunk(65536, 'x');
        while (sent < 500'000'000 && send_all(fd, chunk)) sent += chunk.size();
    });
    Loop l;
    HttpOptions o;
    o.max_bytes = 256 << 10;
    HttpGet get(&l.loop, o);
    Outcome out;
    get.start(srv.url(), [&](Result<HttpResponse> r) { out.r = std::move(r); });
    REQUIRE(l.run_until([&] { return out.done(); }));
    CHECK(out.error() == "response too large (over 256 KiB), stopped reading");
    CHECK(sent < 64u << 20);  // the server was stopped, not drained
}

TEST_CASE("http client: redirects are followed a few times, a loop is an error") {
    FakeHttp loop_srv([](int fd, const std::string&) {
        send_all(fd, "HTTP/1.0 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n");
    });
    Loop l;
    HttpGet get(&l.loop);
    Outcome out;
    get.start(loop_srv.url(), [&](Result<HttpResponse> r) { out.r = std::move(r); });
    REQUIRE(l.run_until([&] { return out.done(); }));
    CHECK(out.error() == "too many redirects (more than 3)");
    CHECK(loop_srv.requests == 4);

    // Two hops to a real answer are fine (relative and absolute Location).
    FakeHttp target([](int fd, const std::string& req) {
        if (req.rfind("GET /final", 0) == 0)
            send_all(fd, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nde");
        else
            send_all(fd, "HTTP/1.0 301 Moved\r\nLocation: /final\r\n\r\n");
    });
    FakeHttp first([&](int fd, const std::string&) {
        send_all(fd, "HTTP/1.0 302 Found\r\nLocation: " + target.url("/step") + "\r\n\r\n");
    });
    Outcome ok;
    get.start(first.url(), [&](Result<HttpResponse> r) { ok.r = std::move(r); });
    REQUIRE(l.run_until([&] { return ok.done(); }));
    REQUIRE(ok.r->ok());
    CHECK((*ok.r)->status == 200);
    CHECK((*ok.r)->body == "de");
}

TEST_CASE("http client: an answer complete by Content-Length does not wait for the hang-up") {
    std::atomic<bool> release{false};
    FakeHttp srv([&](int fd, const std::string&) {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\nd8:intervali60ee");  // 16 of 19
        uv_sleep(50);
        send_all(fd, "xyz");
        while (!release) uv_sleep(5);  // keeps the connection open
    });
    Loop l;
    HttpOptions o;
    o.timeout_ms = 3000;
    HttpGet get(&l.loop, o);
    Outcome out;
    auto t0 = std::chrono::steady_clock::now();
    get.start(srv.url(), [&](Result<HttpResponse> r) { out.r = std::move(r); });
    bool done = l.run_until([&] { return out.done(); }, 2500);
    release = true;
    REQUIRE(done);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2500));
    REQUIRE(out.r->ok());
    CHECK((*out.r)->body == "d8:intervali60eexyz");
}

TEST_CASE("http client: a slow drip hits the total deadline") {
    std::atomic<bool> stop{false};
    FakeHttp srv([&](int fd, const std::string&) {
        send_all(fd, "HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n");
        while (!stop && send_all(fd, "d")) uv_sleep(20);  // always "making progress"
    });
    Loop l;
    HttpOptions o;
    o.timeout_ms = 400;
    HttpGet get(&l.loop, o);
    Outcome out;
    get.start(srv.url(), [&](Result<HttpResponse> r) { out.r = std::move(r); });
    bool done = l.run_until([&] { return out.done(); }, 3000);
    stop = true;
    REQUIRE(done);
    CHECK(out.error() == "timed out after 400 ms");
}

TEST_CASE("http client: a header trickled in tiny pieces, never ended, is bounded") {
    FakeHttp srv([](int fd, const std::string&) {
        send_all(fd, "HTTP/1.0 200 OK\r\n");
        std::string line = "X-Junk: " + std::string(90, 'j') + "\r\n";
        for (int i = 0; i < 20000 && send_all(fd, line); ++i) {
        }
    });
    Loop l;
    HttpOptions o;
    o.max_bytes = 1 << 20;
    HttpGet get(&l.loop, o);
    Outcome out;
    get.start(srv.url(), [&](Result<HttpResponse> r) { out.r = std::move(r); });
    REQUIRE(l.run_until([&] { return out.done(); }));
    // libcurl stops headers at 300 KiB of its own, below max_bytes here.
    CHECK(out.error() == "response too large (headers over 300 KiB), stopped reading");
}

TEST_CASE("http client: a hang-up without an answer and a garbled status line are errors") {
    FakeHttp mute([](int, const std::string&) {});
    FakeHttp garbled([](int fd, const std::string&) { send_all(fd, "SPAM\r\n\r\nbody"); });
    Loop l;
    HttpGet get(&l.loop);
    Outcome a, b;
    get.start(mute.url(), [&](Result<HttpResponse> r) { a.r = std::move(r); });
    REQUIRE(l.run_until([&] { return a.done(); }));
    CHECK(a.error() == "connection closed without a response");
    get.start(garbled.url(), [&](Result<HttpResponse> r) { b.r = std::move(r); });
    REQUIRE(l.run_until([&] { return b.done(); }));
    CHECK(b.error() == "malformed HTTP response (bad status line)");
}

namespace {

std::string gzip_of(const std::string& plain) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);  // +16: gzip wrapper
    std::string out(deflateBound(&z, plain.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    z.avail_in = uInt(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

TEST_CASE("http client: gzip is decoded, and a gzip bomb stops at max_bytes of decoded data") {
    const std::string small = gzip_of("d8:intervali60e5:peers0:e");
    const std::string bomb = gzip_of(std::string(64u << 20, '\0'));  // 64 MiB of zeros in ~64 KiB
    FakeHttp srv([&](int fd, const std::string& req) {
        const std::string& body = req.rfind("GET /bomb", 0) == 0 ? bomb : small;
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body);
    });
    Loop l;
    HttpGet get(&l.loop);
    Outcome a, b;
    get.start(srv.url(), [&](Result<HttpResponse> r) { a.r = std::move(r); });
    REQUIRE(l.run_until([&] { return a.done(); }));
    REQUIRE(a.r->ok());
    CHECK((*a.r)->body == "d8:intervali60e5:peers0:e");
    CHECK(bomb.size() < (1u << 20));
    get.start(srv.url("/bomb"), [&](Result<HttpResponse> r) { b.r = std::move(r); });
    REQUIRE(l.run_until([&] { return b.done(); }));
    CHECK(b.error() == "response too large (over 4096 KiB), stopped reading");
}

TEST_CASE("http client: many requests share one loop; a destroyed request never calls back; the loop closes clean") {
    FakeHttp srv([](int fd, const std::string&) { send_all(fd, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        std::vector<std::unique_ptr<HttpGet>> gets;
        std::vector<Outcome> outs(6);
        bool cancelled_called = false;
        for (int i = 0; i < 6; ++i) gets.push_back(std::make_unique<HttpGet>(&loop));
        for (int i = 0; i < 5; ++i)
            gets[size_t(i)]->start(srv.url(), [&, i](Result<HttpResponse> r) { outs[size_t(i)].r = std::move(r); });
        gets[5]->start(srv.url(), [&](Result<HttpResponse>) { cancelled_called = true; });
        gets[5].reset();  // destruction cancels
        // A callback may destroy its own HttpGet.
        Outcome last;
        auto self_destruct = std::make_unique<HttpGet>(&loop);
        self_destruct->start(srv.url(), [&](Result<HttpResponse> r) {
            last.r = std::move(r);
            self_destruct.reset();
        });
        auto t0 = std::chrono::steady_clock::now();
        auto all_done = [&] {
            for (int i = 0; i < 5; ++i)
                if (!outs[size_t(i)].done()) return false;
            return last.done();
        };
        while (!all_done() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
            uv_run(&loop, UV_RUN_NOWAIT);
            uv_sleep(1);
        }
        REQUIRE(all_done());
        for (int i = 0; i < 5; ++i) {
            REQUIRE(outs[size_t(i)].r->ok());
            CHECK((*outs[size_t(i)].r)->body == "ok");
        }
        CHECK(last.r->ok());
        CHECK(!self_destruct);
        CHECK(!cancelled_called);
    }
    uv_run(&loop, UV_RUN_DEFAULT);  // the close callbacks of the last handles
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("http client: https to a server that does not speak TLS, and a scheme we do not speak, are clear errors") {
    // A plain-text server that answers a TLS ClientHello with HTTP at once.
    int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t alen = sizeof addr;
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);
    REQUIRE(::listen(lfd, 1) == 0);
    const uint16_t plain_port = ntohs(addr.sin_port);
    std::thread srv([lfd] {
        int fd = ::accept(lfd, nullptr, nullptr);
        if (fd < 0) return;
        char buf[512];
        (void)::recv(fd, buf, sizeof buf, 0);
        send_all(fd, "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        ::close(fd);
    });
    Loop l;
    HttpOptions o;
    o.timeout_ms = 3000;
    HttpGet get(&l.loop, o);
    Outcome a, b;
    get.start("https://127.0.0.1:" + std::to_string(plain_port) + "/announce",
              [&](Result<HttpResponse> r) { a.r = std::move(r); });
    REQUIRE(l.run_until([&] { return a.done(); }));
    CHECK(a.error().rfind("TLS handshake with 127.0.0.1 failed (", 0) == 0);
    get.start("ftp://127.0.0.1/announce", [&](Result<HttpResponse> r) { b.r = std::move(r); });
    REQUIRE(b.done());  // refused at once, before any I/O
    CHECK(b.error() == "bad tracker URL ftp://127.0.0.1/announce");
    srv.join();
    ::close(lfd);
}
