// IPv6 and dual stack: the listen port's TCP listener and UDP socket on
// both stacks, UDP tracker replies through the shared socket (UdpTrackerMux)
// over IPv6 with 18-byte peers, and ICMP "port unreachable" reported for
// the destination it answers.  Everything on 127.0.0.1 and ::1.
#include <doctest/doctest.h>

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "btl/net/peer_connection.hpp"
#include "btl/net/udp_socket.hpp"
#include "btl/net/udp_tracker_client.hpp"
#include "btl/net/udp_tracker_mux.hpp"
#include "test_loop.hpp"

using namespace btl;

namespace {

using testing::Loop;

sockaddr_storage addr(const std::string& ip, uint16_t port) {
    sockaddr_storage ss{};
    REQUIRE(ip_to_sockaddr(ip, port, ss));
    return ss;
}
const sockaddr* sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr*>(&ss); }

void wr32(std::string& o, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) o.push_back(char(v >> s));
}
uint32_t rd32(std::string_view b, size_t at) {
    auto u = [&](size_t i) { return uint32_t(uint8_t(b[at + i])); };
    return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}

}  // namespace

TEST_CASE("dual stack: one UDP port number on 0.0.0.0 and [::], each family answered from its own socket") {
    Loop l;
    {
        UdpSocket dual(&l.loop), v4(&l.loop), v6(&l.loop);
        REQUIRE(dual.open("", 0) == 0);
        REQUIRE(dual.has_family(AF_INET));
        REQUIRE(dual.has_family(AF_INET6));  // the test host has ::1
        REQUIRE(v4.open("127.0.0.1", 0) == 0);
        REQUIRE(v6.open("::1", 0) == 0);
        CHECK_FALSE(v4.has_family(AF_INET6));
        CHECK_FALSE(v6.has_family(AF_INET));
        std::vector<std::string> froms;
        dual.route('d', [&](const sockaddr* from, std::string_view d) {
            std::string ip;
            uint16_t port = 0;
            sockaddr_to_ip(from, ip, port);
            froms.push_back(ip + " " + std::string(d));
            dual.send(from, "dpong");  // back through the socket of the sender's family
        });
        std::vector<std::string> pongs;
        v4.route('d', [&](const sockaddr*, std::string_view d) { pongs.emplace_back("v4 " + std::string(d)); });
        v6.route('d', [&](const sockaddr*, std::string_view d) { pongs.emplace_back("v6 " + std::string(d)); });
        CHECK(v4.send(sa(addr("127.0.0.1", dual.port())), "dping4") == 0);
        CHECK(v6.send(sa(addr("::1", dual.port())), "dping6") == 0);
        REQUIRE(l.run_until([&] { return pongs.size() == 2; }));
        std::sort(froms.begin(), froms.end());
        CHECK(froms == std::vector<std::string>{"127.0.0.1 dping4", "::1 dping6"});
        std::sort(pongs.begin(), pongs.end());
        CHECK(pongs == std::vector<std::string>{"v4 dpong", "v6 dpong"});
        // A family with no socket: an error and a counted drop, no crash.
        CHECK(v4.send(sa(addr("::1", dual.port())), "dx") == UV_EAFNOSUPPORT);
        CHECK(v4.send_drops() == 1);
    }
}

TEST_CASE("dual stack: ICMP port unreachable names the destination it answers") {
    Loop l;
    UdpSocket s(&l.loop), closed(&l.loop);
    REQUIRE(s.open("", 0) == 0);
    REQUIRE(closed.open("::1", 0) == 0);
    const uint16_t gone = closed.port();
    closed.close();  // nothing listens there now
    std::vector<std::string> refused;
    s.set_refused_handler([&](const sockaddr* to) {
        std::string ip;
        uint16_t port = 0;
        sockaddr_to_ip(to, ip, port);
        refused.push_back(ip + "/" + std::to_string(port));
    });
    s.send(sa(addr("::1", gone)), "dx");
    s.send(sa(addr("127.0.0.1", gone)), "dx");
    REQUIRE(l.run_until([&] { return refused.size() == 2; }));
    std::sort(refused.begin(), refused.end());
    CHECK(refused[0] == "127.0.0.1/" + std::to_string(gone));
    CHECK(refused[1] == "::1/" + std::to_string(gone));
    CHECK(s.icmp_errors() == 2);
}

TEST_CASE("dual stack: the TCP listener accepts over 127.0.0.1 and ::1 on one port; addresses print as [v6]:port") {
    Loop l;
    Listener lis(&l.loop);
    std::vector<std::string> accepted;
    std::vector<std::unique_ptr<PeerConnection>> conns;
    REQUIRE(lis.listen("", 0, 0, [&](uv_tcp_t* c) {
        auto pc = std::make_unique<PeerConnection>(&l.loop, nullptr);
        pc->adopt(c);
        accepted.push_back(pc->remote_ip());
        conns.push_back(std::move(pc));
    }) == 0);
    REQUIRE(lis.port() != 0);
    CHECK(lis.dual_stack());
    struct H : PeerConnectionHandler {
        bool up = false;
        void on_connected() override { up = true; }
        size_t on_data(std::string_view d) override { return d.size(); }
        void on_sent(size_t) override {}
        void on_closed(const std::string&) override {}
    } h4, h6;
    PeerConnection c4(&l.loop, &h4), c6(&l.loop, &h6);
    auto a4 = addr("127.0.0.1", lis.port()), a6 = addr("::1", lis.port());
    c4.connect(sa(a4), "", 2000);
    c6.connect(sa(a6), "", 2000);
    REQUIRE(l.run_until([&] { return accepted.size() == 2 && h4.up && h6.up; }));
    std::sort(accepted.begin(), accepted.end());
    CHECK(accepted == std::vector<std::string>{"127.0.0.1", "::1"});
    CHECK(c6.remote() == "[::1]:" + std::to_string(lis.port()));
    CHECK(c4.remote() == "127.0.0.1:" + std::to_string(lis.port()));
    // A bind address listens on its own family alone.
    Listener only6(&l.loop);
    REQUIRE(only6.listen("::1", 0, 0, [](uv_tcp_t* c) {
        uv_close(reinterpret_cast<uv_handle_t*>(c), [](uv_handle_t* x) { delete reinterpret_cast<uv_tcp_t*>(x); });
    }) == 0);
    CHECK_FALSE(only6.dual_stack());
    for (auto& c : conns) c->close("done");
    c4.close("done");
    c6.close("done");
    lis.close();
    only6.close();
}

TEST_CASE("UDP tracker over IPv6 on the shared socket: replies found by transaction id, 18-byte peers") {
    Loop l;
    auto shared = std::make_shared<UdpSocket>(&l.loop);
    REQUIRE(shared->open("", 0) == 0);
    auto mux = std::make_shared<UdpTrackerMux>(shared);
    // The tracker: connect, then an announce answer with two IPv6 peers.
    UdpSocket tracker(&l.loop);
    REQUIRE(tracker.open("::1", 0) == 0);
    int connects = 0, announces = 0;
    // (Its requests start with a connection id, any first byte: all to one handler.)
    tracker.set_fallback([&](const sockaddr* from, std::string_view p) {
        REQUIRE(p.size() >= 16);
        const uint32_t action = rd32(p, 8), tid = rd32(p, 12);
        std::string o;
        if (action == 0) {
            ++connects;
            wr32(o, 0), wr32(o, tid), wr32(o, 0x01020304), wr32(o, 0x05060708);
        } else {
            ++announces;
            CHECK(p.size() == 98);
            wr32(o, 1), wr32(o, tid), wr32(o, 1800), wr32(o, 1), wr32(o, 2);
            o += std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x01" + "\x1a\xe1";  // [2001:db8::1]:6881
            o += std::string(15, '\0') + "\x01" + std::string("\x00\x50", 2);                                          // [::1]:80
        }
        tracker.send(from, o);
    });
    // Stray tracker-shaped datagrams nobody waits for are counted, not delivered.
    UdpSocket stray(&l.loop);
    REQUIRE(stray.open("::1", 0) == 0);
    std::string junk;
    wr32(junk, 1), wr32(junk, 0xdeadbeef);
    stray.send(sa(addr("::1", shared->port())), junk);
    REQUIRE(l.run_until([&] { return mux->unmatched() == 1; }));

    UdpTrackerOptions opt;
    opt.base_timeout_ms = 500;
    opt.mux = mux;
    UdpTrackerRequest req(&l.loop, opt);
    AnnounceRequest ar;
    ar.port = 6881;
    bool done = false;
    Result<AnnounceResponse> got = make_error("none");
    req.announce("udp://[::1]:" + std::to_string(tracker.port()) + "/announce", ar, [&](Result<AnnounceResponse> r) {
        got = std::move(r);
        done = true;
    });
    REQUIRE(l.run_until([&] { return done; }));
    const std::string why = got.ok() ? std::string() : got.error().message;
    INFO(why);
    REQUIRE(got.ok());
    REQUIRE(got->peers.size() == 2);
    CHECK(got->peers[0].to_string() == "[2001:db8::1]:6881");
    CHECK(got->peers[1].to_string() == "[::1]:80");
    CHECK(connects == 1);
    CHECK(announces == 1);
    CHECK(mux->waiting() == 0);  // answered: the transaction id is forgotten
}

TEST_CASE("UDP tracker on the shared socket: nothing listening fails at once (ICMP), not after the tries") {
    Loop l;
    auto shared = std::make_shared<UdpSocket>(&l.loop);
    REQUIRE(shared->open("", 0) == 0);
    auto mux = std::make_shared<UdpTrackerMux>(shared);
    UdpSocket closed(&l.loop);
    REQUIRE(closed.open("127.0.0.1", 0) == 0);
    const uint16_t gone = closed.port();
    closed.close();
    UdpTrackerOptions opt;
    opt.base_timeout_ms = 4000;
    opt.mux = mux;
    UdpTrackerRequest req(&l.loop, opt);
    bool done = false;
    std::string why;
    auto t0 = std::chrono::steady_clock::now();
    req.announce("udp://127.0.0.1:" + std::to_string(gone), AnnounceRequest{}, [&](Result<AnnounceResponse> r) {
        done = true;
        if (!r.ok()) why = r.error().message;
    });
    REQUIRE(l.run_until([&] { return done; }, 3000));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(3000));
    CHECK(why.find("refused") != std::string::npos);
    CHECK(mux->waiting() == 0);
}

TEST_CASE("dual stack: a pending ICMP error of an earlier datagram does not cost the next one") {
    Loop l;
    UdpSocket s(&l.loop), closed(&l.loop), live(&l.loop);
    REQUIRE(s.open("127.0.0.1", 0) == 0);
    REQUIRE(live.open("127.0.0.1", 0) == 0);
    REQUIRE(closed.open("127.0.0.1", 0) == 0);
    const uint16_t gone = closed.port();
    closed.close();
    int got = 0;
    live.route('d', [&](const sockaddr*, std::string_view) { ++got; });
    int refused = 0;
    s.set_refused_handler([&](const sockaddr*) { ++refused; });
    // Loopback answers the first datagram with ICMP at once; the second goes
    // out before the loop has read the error.
    CHECK(s.send(sa(addr("127.0.0.1", gone)), "dx") == 0);
    CHECK(s.send(sa(addr("127.0.0.1", live.port())), "dy") == 0);
    REQUIRE(l.run_until([&] { return got == 1 && refused == 1; }));
    CHECK(s.send_drops() == 0);
}
