// uTP on a real libuv loop over 127.0.0.1: two UtpContexts on their own
// UDP sockets talk through the PeerTransport interface, and
// FallbackTransport replaces a dial that does not connect.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>

#include "btl/net/peer_connection.hpp"
#include "btl/net/udp_socket.hpp"
#include "btl/net/utp_transport.hpp"

using namespace btl;

namespace {

struct Handler : PeerConnectionHandler {
    PeerTransport* t = nullptr;
    std::string got;
    bool connected = false, closed = false;
    std::string reason;
    size_t sent = 0;
    std::function<void()> on_any;
    void on_connected() override {
        connected = true;
        if (on_any) on_any();
    }
    size_t on_data(std::string_view b) override {
        got.append(b);
        if (on_any) on_any();
        return b.size();
    }
    void on_sent(size_t n) override { sent += n; }
    void on_closed(const std::string& r) override {
        closed = true;
        reason = r;
        if (on_any) on_any();
    }
};

struct Node {
    UdpSocket mux;
    std::unique_ptr<UtpContext> ctx;
    std::unique_ptr<PeerTransport> accepted;
    explicit Node(uv_loop_t* loop) : mux(loop) {
        REQUIRE(mux.open("127.0.0.1", 0) == 0);
        ctx = std::make_unique<UtpContext>(loop, [this](const sockaddr* to, std::string_view d) { mux.send(to, d); });
        for (uint8_t type = 0; type <= 4; ++type)
            mux.route(uint8_t(type << 4 | 1), [this](const sockaddr* f, std::string_view d) { ctx->incoming(f, d); });
        ctx->set_accept([this](std::unique_ptr<PeerTransport> t) { accepted = std::move(t); });
    }
    sockaddr_storage addr() const {
        sockaddr_storage ss{};
        ip_to_sockaddr("127.0.0.1", mux.port(), ss);
        return ss;
    }
};

// Runs the loop until pred holds or ms pass.
void run_until(uv_loop_t* loop, const std::function<bool()>& pred, uint64_t ms) {
    const uint64_t end = uv_now(loop) + ms;
    UvHandle<uv_timer_t> t = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop, h); });
    uv_timer_start(t.get(), [](uv_timer_t*) {}, 10, 10);
    while (!pred() && uv_now(loop) < end) uv_run(loop, UV_RUN_ONCE);
}

}  // namespace

TEST_CASE("utp transport: a megabyte each way over loopback, then a close reported on both sides") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        Node a(&loop), b(&loop);
        Handler ha, hb;
        sockaddr_storage to = b.addr();
        auto ta = a.ctx->dial(reinterpret_cast<const sockaddr*>(&to), &ha);
        REQUIRE(ta);
        std::string up(1 << 20, '\0'), down(1 << 20, '\0');
        for (size_t i = 0; i < up.size(); ++i) {
            up[i] = char(i * 7 + 1);
            down[i] = char(i * 13 + 5);
        }
        ta->send(up.substr(0, 1000));  // queued before the connection exists
        run_until(&loop, [&] { return ha.connected && b.accepted; }, 5000);
        REQUIRE(ha.connected);
        REQUIRE(b.accepted);
        CHECK(b.accepted->remote_ip() == "127.0.0.1");
        CHECK(b.accepted->is_utp());
        CHECK(ta->is_utp());
        CHECK(b.ctx->knows_utp("127.0.0.1"));
        b.accepted->set_handler(&hb);
        ta->send(up.substr(1000));
        auto payload = std::make_shared<const std::vector<uint8_t>>(down.begin(), down.end());
        b.accepted->send_with_payload(std::string(), payload, 0, payload->size());
        run_until(&loop, [&] { return ha.got.size() >= down.size() && hb.got.size() >= up.size(); }, 20000);
        CHECK(hb.got == up);
        CHECK(ha.got == down);
        run_until(&loop, [&] { return ta->queued_bytes() == 0; }, 5000);
        CHECK(ha.sent == up.size());
        ta->close("done");
        CHECK(!ha.closed);  // reported later, from the loop
        run_until(&loop, [&] { return ha.closed && hb.closed; }, 5000);
        CHECK(ha.reason == "done");
        CHECK(hb.reason == "peer closed the connection");
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("utp transport: paused reading closes the window and resuming delivers the rest") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        Node a(&loop), b(&loop);
        Handler ha, hb;
        sockaddr_storage to = b.addr();
        auto ta = a.ctx->dial(reinterpret_cast<const sockaddr*>(&to), &ha);
        run_until(&loop, [&] { return bool(b.accepted); }, 5000);
        REQUIRE(b.accepted);
        b.accepted->set_handler(&hb);
        b.accepted->pause_reading();
        CHECK(!b.accepted->reading());
        const std::string up(3 << 20, 'u');
        ta->send(up);
        run_until(&loop, [] { return false; }, 500);
        CHECK(hb.got.empty());
        CHECK(ta->queued_bytes() > (1u << 20));  // the window holds the rest back
        b.accepted->resume_reading();
        run_until(&loop, [&] { return hb.got.size() >= up.size(); }, 20000);
        CHECK(hb.got == up);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("utp transport: a uTP dial nobody answers falls back to TCP within about a second") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        Node a(&loop);
        // a UDP port that never answers, whose TCP twin listens (drawn again if another process holds it)
        Listener lis(&loop);
        uv_tcp_t* accepted = nullptr;
        std::unique_ptr<UdpSocket> silent_p;
        for (int tries = 0; tries < 50 && !silent_p; ++tries) {
            silent_p = std::make_unique<UdpSocket>(&loop);
            REQUIRE(silent_p->open("127.0.0.1", 0) == 0);
            if (lis.listen("127.0.0.1", silent_p->port(), silent_p->port(), [&](uv_tcp_t* c) { accepted = c; }) != 0)
                silent_p.reset();
        }
        REQUIRE(silent_p);
        UdpSocket& silent = *silent_p;
        sockaddr_storage to{};
        ip_to_sockaddr("127.0.0.1", silent.port(), to);
        Handler h;
        auto utp = [&](PeerConnectionHandler* hh) { return a.ctx->dial(reinterpret_cast<const sockaddr*>(&to), hh); };
        auto tcp = [&](PeerConnectionHandler* hh) {
            auto c = std::make_unique<PeerConnection>(&loop, hh);
            c->connect(reinterpret_cast<const sockaddr*>(&to), "", 5000);
            return std::unique_ptr<PeerTransport>(std::move(c));
        };
        const uint64_t t0 = uv_now(&loop);
        FallbackTransport f(&loop, utp, tcp, 1000);
        f.set_handler(&h);
        run_until(&loop, [&] { return h.connected; }, 5000);
        CHECK(h.connected);
        CHECK(f.on_second());
        CHECK(!f.is_utp());  // now on TCP
        CHECK(uv_now(&loop) - t0 >= 900);
        CHECK(uv_now(&loop) - t0 < 2500);
        run_until(&loop, [&] { return accepted != nullptr; }, 2000);
        REQUIRE(accepted);
        uv_close(reinterpret_cast<uv_handle_t*>(accepted), [](uv_handle_t* x) { delete reinterpret_cast<uv_tcp_t*>(x); });
        lis.close();
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("utp transport: a refused TCP dial is replaced by uTP at once") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        Node a(&loop), b(&loop);  // b speaks uTP only: its TCP port is closed
        sockaddr_storage to = b.addr();
        Handler h;
        auto tcp = [&](PeerConnectionHandler* hh) {
            auto c = std::make_unique<PeerConnection>(&loop, hh);
            c->connect(reinterpret_cast<const sockaddr*>(&to), "", 5000);
            return std::unique_ptr<PeerTransport>(std::move(c));
        };
        auto utp = [&](PeerConnectionHandler* hh) { return a.ctx->dial(reinterpret_cast<const sockaddr*>(&to), hh); };
        const uint64_t t0 = uv_now(&loop);
        FallbackTransport f(&loop, tcp, utp, 10000);
        f.set_handler(&h);
        run_until(&loop, [&] { return h.connected; }, 5000);
        CHECK(h.connected);
        CHECK(f.on_second());
        CHECK(f.is_utp());
        CHECK(uv_now(&loop) - t0 < 1000);
        f.send("hello");
        run_until(&loop, [&] { return bool(b.accepted); }, 2000);
        REQUIRE(b.accepted);
        Handler hb;
        b.accepted->set_handler(&hb);
        run_until(&loop, [&] { return hb.got == "hello"; }, 2000);
        CHECK(hb.got == "hello");
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("utp transport: a TCP connection dropped before the remote spoke is replaced by uTP, handshake resent") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        Node a(&loop);
        // b's TCP port accepts and drops at once, as a uTP-only libtorrent does.  b's UDP port is
        // ephemeral and another process may hold the same TCP number: draw again until both are ours.
        Listener lis(&loop);
        int dropped = 0;
        std::unique_ptr<Node> bp;
        for (int tries = 0; tries < 50 && !bp; ++tries) {
            bp = std::make_unique<Node>(&loop);
            if (lis.listen("127.0.0.1", bp->mux.port(), bp->mux.port(), [&](uv_tcp_t* c) {
                    ++dropped;
                    uv_close(reinterpret_cast<uv_handle_t*>(c), [](uv_handle_t* x) { delete reinterpret_cast<uv_tcp_t*>(x); });
                }) != 0)
                bp.reset();
        }
        REQUIRE(bp);
        Node& b = *bp;
        sockaddr_storage to = b.addr();
        Handler h;
        auto tcp = [&](PeerConnectionHandler* hh) {
            auto c = std::make_unique<PeerConnection>(&loop, hh);
            c->connect(reinterpret_cast<const sockaddr*>(&to), "", 5000);
            return std::unique_ptr<PeerTransport>(std::move(c));
        };
        auto utp = [&](PeerConnectionHandler* hh) { return a.ctx->dial(reinterpret_cast<const sockaddr*>(&to), hh); };
        FallbackTransport f(&loop, tcp, utp, 10000);
        f.set_handler(&h);
        run_until(&loop, [&] { return h.connected; }, 5000);
        REQUIRE(h.connected);
        f.send("handshake");  // goes to the TCP connection that is about to be dropped
        run_until(&loop, [&] { return bool(b.accepted); }, 5000);
        REQUIRE(b.accepted);
        CHECK(dropped == 1);
        CHECK(f.on_second());
        Handler hb;
        b.accepted->set_handler(&hb);
        f.send("-more");
        run_until(&loop, [&] { return hb.got.size() >= 14; }, 3000);
        CHECK(hb.got == "handshake-more");
        CHECK(!h.closed);  // the handler never saw the first transport go
        b.accepted->send("reply");
        run_until(&loop, [&] { return h.got == "reply"; }, 3000);
        CHECK(h.got == "reply");
        lis.close();
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(uv_loop_close(&loop) == 0);
}
