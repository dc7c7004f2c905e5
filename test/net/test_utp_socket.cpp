// uTP connections end to end over a simulated link (test/net/utp_sim.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "btl/net/utp_manager.hpp"
#include "utp_sim.hpp"

using namespace btl;
using namespace btl::test;

namespace {

// Sends `n` bytes each way between a dialler and the acceptor; returns the sim.
void exchange(UtpSim& sim, size_t n, uint64_t limit_us) {
    auto a = sim.dial();
    REQUIRE(a->sock);
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    REQUIRE(sim.accepted_b.size() == 1);
    auto b = sim.accepted_b[0];
    CHECK(a->connected);
    const std::string up = pattern(n, 1), down = pattern(n, 2);
    a->sock->write(up);
    b->sock->write(down);
    sim.run(limit_us, [&] { return a->got.size() >= n && b->got.size() >= n; });
    CHECK(b->got.size() == n);
    CHECK(a->got.size() == n);
    CHECK(b->got == up);
    CHECK(a->got == down);
}

}  // namespace

TEST_CASE("utp: a clean link delivers both directions byte for byte, in MTU-sized packets") {
    UtpSim sim;
    exchange(sim, 2 << 20, 60000000);
    CHECK(sim.max_datagram <= 1400 + 20 + 2 + 128);
    CHECK(sim.max_datagram >= 1400 + 20);
    // Deferred ACKs: far fewer datagrams than one ACK per data packet.
    const size_t data_packets = (2 << 20) / 1400;
    CHECK(sim.datagrams[0] < 2 * data_packets - data_packets / 4);
}

TEST_CASE("utp: loss, reordering and duplication still deliver every byte in order") {
    UtpSim sim;
    for (auto& l : sim.link) {
        l.loss = 0.05;
        l.dup = 0.03;
        l.reorder = 0.05;
        l.delay_us = 20000;
    }
    exchange(sim, 1 << 20, 300000000);
    CHECK(sim.a->connections() == 1);
}

TEST_CASE("utp: sequence numbers wrap around 65535 on both sides") {
    UtpSim sim;
    sim.accept_seq = 65500;  // the acceptor's data crosses the wrap
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    REQUIRE(sim.accepted_b.size() == 1);
    auto b = sim.accepted_b[0];
    const std::string down = pattern(400 * 1400, 3);
    sim.link[1].loss = 0.02;
    b->sock->write(down);
    sim.run(120000000, [&] { return a->got.size() >= down.size(); });
    CHECK(a->got == down);
}

TEST_CASE("utp: the close is reported on both ends after the last byte") {
    UtpSim sim;
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    REQUIRE(sim.accepted_b.size() == 1);
    auto b = sim.accepted_b[0];
    const std::string up = pattern(100000, 4);
    a->sock->write(up);
    a->sock->close();
    sim.run(30000000, [&] { return a->closed && b->closed; });
    CHECK(b->got == up);
    CHECK(b->reason == "peer closed the connection");
    CHECK(a->reason == "closed");
    sim.run(500000);
    CHECK(sim.a->connections() == 0);
    CHECK(sim.b->connections() == 0);
}

TEST_CASE("utp: a RESET ends the connection at once") {
    UtpSim sim;
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    REQUIRE(sim.accepted_b.size() == 1);
    sim.accepted_b[0]->sock->abort("test");
    sim.run(1000000, [&] { return a->closed; });
    CHECK(a->closed);
    CHECK(a->reason == "connection reset by peer");
}

TEST_CASE("utp: a dial to nobody times out after its SYN retries") {
    UtpSim sim;
    sim.link[0].loss = 1.0;
    auto a = sim.dial();
    sim.run(60000000, [&] { return a->closed; });
    CHECK(a->closed);
    CHECK(a->reason == "connection timed out");
    CHECK(sim.datagrams[0] == 3);  // one SYN and two retries
}

TEST_CASE("utp: retransmission timeouts start at 500 ms or more and double until the connection fails") {
    UtpSim sim;
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    REQUIRE(sim.accepted_b.size() == 1);
    std::vector<uint64_t> sends;
    sim.link[0].drop = [&](std::string_view d) {
        if (d.size() > 20) sends.push_back(sim.now);
        return true;  // the link is gone
    };
    a->sock->write("hello");
    sim.run(200000000, [&] { return a->closed; });
    CHECK(a->closed);
    CHECK(a->reason == "timed out");
    REQUIRE(sends.size() == 7);  // the first send and six retransmissions
    for (size_t i = 1; i < sends.size(); ++i) {
        const uint64_t gap = sends[i] - sends[i - 1];
        // timers run every 100 ms, so each gap may be up to 100 ms late
        if (i == 1) CHECK(gap >= 500000);
        if (i >= 2) {
            const uint64_t prev = sends[i - 1] - sends[i - 2];
            CHECK(gap + 250000 >= 2 * prev);
            CHECK(gap <= 2 * prev + 100000);
        }
    }
}

TEST_CASE("utp: three duplicate ACKs resend the hole and halve the window") {
    UtpSim sim;
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    auto b = sim.accepted_b.at(0);
    const std::string up = pattern(3 << 20, 5);
    size_t data_seen = 0;
    bool dropped = false;
    size_t cwnd_at_drop = 0;
    sim.link[0].drop = [&](std::string_view d) {
        if (d.size() < 1000 || dropped) return false;
        if (++data_seen == 600) {
            dropped = true;
            cwnd_at_drop = a->sock->cwnd();
            return true;
        }
        return false;
    };
    a->sock->write(up);
    size_t prev = 0;
    double first_cut = 0;  // new / old at the first decrease after the drop
    sim.run(60000000, [&] {
        const size_t c = a->sock->cwnd();
        if (dropped && first_cut == 0 && prev && c < prev) first_cut = double(c) / double(prev);
        prev = c;
        return b->got.size() >= up.size();
    });
    CHECK(b->got == up);
    REQUIRE(dropped);
    CHECK(cwnd_at_drop > 100000);
    CHECK(a->sock->resent_packets() >= 1);
    CHECK(first_cut > 0.45);  // halved, not collapsed to one packet
    CHECK(first_cut < 0.55);
}

TEST_CASE("utp: LEDBAT keeps the queueing delay of a bottleneck near the 100 ms target") {
    UtpSim sim;
    sim.link[0].bytes_per_sec = 500000;  // 500 kB/s bottleneck, deep queue
    sim.link[0].delay_us = 20000;
    sim.link[1].delay_us = 20000;
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    auto b = sim.accepted_b.at(0);
    const std::string up = pattern(40 << 20, 6);  // more than 60 s of the link
    a->sock->write(up);
    sim.run(30000000);
    const size_t mid = b->got.size();
    const uint64_t start = sim.now;
    sim.run(30000000);
    const double secs = double(sim.now - start) / 1e6;
    const double rate = double(b->got.size() - mid) / secs;  // over the second half
    MESSAGE("resent " << a->sock->resent_packets() << " cwnd " << a->sock->cwnd());
    CHECK(rate > 0.8 * 500000);  // the bottleneck stays busy
    // queueing delay over the second half of the run
    auto& q = sim.queue_samples[0];
    REQUIRE(q.size() > 1000);
    const size_t half = q.size() / 2;
    const double mean = std::accumulate(q.begin() + long(half), q.end(), 0.0) / double(q.size() - half);
    MESSAGE("mean queueing delay " << mean / 1000 << " ms, " << rate / 1000 << " kB/s");
    CHECK(mean > 50000);
    CHECK(mean < 150000);
    CHECK(b->got == up.substr(0, b->got.size()));
}

TEST_CASE("utp: packets with a forged connection id or address are refused and do not disturb") {
    UtpSim sim;
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    auto b = sim.accepted_b.at(0);
    const uint16_t id = b->sock->recv_id();
    sockaddr_storage other{};
    ip_to_sockaddr("127.0.0.9", 1000, other);
    const size_t dropped_before = sim.b->dropped_packets();
    for (int i = 0; i < 50; ++i) {
        UtpHeader h;
        h.type = UtpType::Data;
        h.seq = uint16_t(i);
        std::string d;
        h.conn_id = uint16_t(id + 1 + i);  // wrong id, right address
        encode_utp_packet(h, {}, "forged", d);
        sim.inject_to_b(reinterpret_cast<const sockaddr*>(&sim.addr_a), d);
        d.clear();
        h.conn_id = id;  // right id, wrong address
        encode_utp_packet(h, {}, "forged", d);
        sim.inject_to_b(reinterpret_cast<const sockaddr*>(&other), d);
        d.clear();
        h.type = UtpType::Reset;  // a forged RESET from elsewhere
        encode_utp_packet(h, {}, {}, d);
        sim.inject_to_b(reinterpret_cast<const sockaddr*>(&other), d);
    }
    CHECK(sim.b->dropped_packets() == dropped_before + 150);
    CHECK(sim.b->connections() == 1);
    const std::string up = pattern(200000, 7);
    a->sock->write(up);
    sim.run(30000000, [&] { return b->got.size() >= up.size(); });
    CHECK(b->got == up);
    CHECK(!b->closed);
}

TEST_CASE("utp: ACKs for data never sent are ignored whole") {
    UtpSim sim;
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    auto b = sim.accepted_b.at(0);
    const std::string down = pattern(300000, 8);
    b->sock->write(down);
    const size_t inflight = b->sock->in_flight();
    const size_t cwnd = b->sock->cwnd();
    REQUIRE(inflight > 0);
    for (uint16_t k = 1; k < 40; ++k) {
        UtpHeader h;
        h.type = UtpType::State;
        h.conn_id = b->sock->recv_id();
        h.wnd = 1 << 20;
        h.ack = uint16_t(b->sock->recv_id() * 0 + 30000 + k * 7);  // far beyond anything sent
        std::string d;
        encode_utp_packet(h, {}, {}, d);
        sim.inject_to_b(reinterpret_cast<const sockaddr*>(&sim.addr_a), d);
    }
    CHECK(b->sock->in_flight() == inflight);
    CHECK(b->sock->cwnd() == cwnd);
    CHECK(b->acked == 0);
    sim.run(30000000, [&] { return a->got.size() >= down.size(); });
    CHECK(a->got == down);
}

TEST_CASE("utp: a SYN flood from many addresses keeps the state bounded") {
    UtpManagerConfig cfg;
    cfg.max_connections = 100;
    cfg.max_half_open = 20;
    UtpSim sim(cfg);
    for (int i = 0; i < 5000; ++i) {
        sockaddr_storage from{};
        ip_to_sockaddr("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), 6881, from);
        UtpHeader h;
        h.type = UtpType::Syn;
        h.conn_id = uint16_t(i);
        h.seq = 1;
        std::string d;
        encode_utp_packet(h, {}, {}, d);
        sim.inject_to_b(reinterpret_cast<const sockaddr*>(&from), d);
        CHECK(sim.b->connections() <= 20);
    }
    CHECK(sim.b->half_open() == 20);
    CHECK(sim.b->refused_syns() == 4980);
    CHECK(sim.accepted_b.empty());  // nobody confirmed
    // The half-open ones expire; then a real dialler gets in.
    sim.run(6000000);
    CHECK(sim.b->connections() == 0);
    CHECK(sim.b->half_open() == 0);
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    CHECK(sim.accepted_b.size() == 1);
    CHECK(a->connected);
}

TEST_CASE("utp: a peer whose window stays zero forever is dropped; our buffer stays bounded") {
    UtpManagerConfig cfg;
    cfg.socket.recv_window = 64 * 1024;
    UtpSim sim(cfg);
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    auto b = sim.accepted_b.at(0);
    b->reading = false;  // the receiving application never reads
    const std::string up = pattern(1 << 20, 9);
    a->sock->write(up);
    sim.run(300000000, [&] { return a->closed; });
    CHECK(a->closed);
    CHECK(a->reason == "timed out");
    CHECK(b->sock->received().size() <= 64 * 1024 + 1400);
    CHECK(b->sock->received() == up.substr(0, b->sock->received().size()));
}

TEST_CASE("utp: a zero window that opens again resumes the transfer") {
    UtpManagerConfig cfg;
    cfg.socket.recv_window = 64 * 1024;
    UtpSim sim(cfg);
    auto a = sim.dial();
    sim.run(5000000, [&] { return !sim.accepted_b.empty(); });
    auto b = sim.accepted_b.at(0);
    b->reading = false;
    const std::string up = pattern(1 << 20, 10);
    a->sock->write(up);
    sim.run(3000000);
    CHECK(b->sock->received().size() >= 60 * 1024);
    b->reading = true;
    b->drain();
    sim.run(60000000, [&] { return b->got.size() >= up.size(); });
    CHECK(b->got == up);
    CHECK(!a->closed);
}
