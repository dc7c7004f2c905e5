// A simulated link between two UtpManagers for the uTP tests: each
// direction has a one-way delay, optional loss, duplication and reordering
// (extra random delay), and an optional bottleneck (bytes per second) whose
// queue adds delay.  Time is simulated; everything is deterministic.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "btl/net/peer_connection.hpp"
#include "btl/net/utp_manager.hpp"

namespace btl::test {

struct LinkParams {
    uint64_t delay_us = 10000;
    double loss = 0, dup = 0, reorder = 0;  // probabilities
    uint64_t reorder_us = 30000;            // extra delay of a reordered packet
    uint64_t bytes_per_sec = 0;             // 0: no bottleneck
    std::function<bool(std::string_view)> drop;  // extra drop rule (true: drop)
};

// Collects what a connection delivers.
struct Sink : UtpSocketEvents {
    std::shared_ptr<UtpSocket> sock;
    std::string got;
    bool connected = false, closed = false, reading = true;
    std::string reason;
    size_t acked = 0;
    void utp_connected() override { connected = true; }
    void utp_readable() override { drain(); }
    void utp_acked(size_t n) override { acked += n; }
    void utp_closed(const std::string& r) override {
        drain();
        closed = true;
        reason = r;
    }
    void drain() {
        if (!reading || !sock) return;
        auto v = sock->received();
        got.append(v);
        sock->consume(v.size());
    }
};

class UtpSim {
public:
    uint64_t now = 1000000;
    LinkParams link[2];  // [0]: a -> b, [1]: b -> a
    std::unique_ptr<UtpManager> a, b;
    sockaddr_storage addr_a{}, addr_b{};
    std::mt19937 rng{12345};
    uint64_t queue_free[2] = {0, 0};
    uint64_t max_queue_delay[2] = {0, 0};
    std::vector<uint64_t> queue_samples[2];  // queueing delay per packet, µs
    size_t datagrams[2] = {0, 0}, max_datagram = 0;
    std::vector<std::shared_ptr<Sink>> accepted_b;
    uint32_t accept_seq = 0;  // 0: random

    explicit UtpSim(UtpManagerConfig cfg = {}) {
        ip_to_sockaddr("127.0.0.1", 1000, addr_a);
        ip_to_sockaddr("127.0.0.2", 2000, addr_b);
        auto clock = [this] { return now; };
        a = std::make_unique<UtpManager>(
            cfg, clock, [this](const sockaddr* to, std::string_view d) { route(0, to, d); }, [this] { return rng(); });
        b = std::make_unique<UtpManager>(
            cfg, clock, [this](const sockaddr* to, std::string_view d) { route(1, to, d); },
            [this] { return accept_seq ? accept_seq : uint32_t(rng()); });
        b->set_accept([this](std::shared_ptr<UtpSocket> s, const sockaddr*) {
            auto sink = std::make_shared<Sink>();
            sink->sock = s;
            s->set_events(sink.get());
            sink->connected = true;
            sink->drain();
            accepted_b.push_back(sink);
            return true;
        });
    }

    // The managers go first: their sockets' last RESETs still use the link.
    ~UtpSim() {
        a.reset();
        b.reset();
    }

    std::shared_ptr<Sink> dial() {
        auto sink = std::make_shared<Sink>();
        sink->sock = a->dial(reinterpret_cast<const sockaddr*>(&addr_b));
        sink->sock->set_events(sink.get());
        return sink;
    }

    // Only datagrams for the other end travel; the rest leave the simulation.
    void route(int dir, const sockaddr* to, std::string_view d) {
        if (utp_addr_key(to) == utp_addr_key(reinterpret_cast<const sockaddr*>(dir == 0 ? &addr_b : &addr_a)))
            send(dir, d);
        else
            ++elsewhere;
    }
    size_t elsewhere = 0;

    void send(int dir, std::string_view d) {
        ++datagrams[dir];
        max_datagram = std::max(max_datagram, d.size());
        LinkParams& l = link[dir];
        std::uniform_real_distribution<double> u(0, 1);
        if (l.drop && l.drop(d)) return;
        if (l.loss > 0 && u(rng) < l.loss) return;
        uint64_t t = now;
        if (l.bytes_per_sec) {
            const uint64_t start = std::max(now, queue_free[dir]);
            queue_free[dir] = start + (d.size() + 28) * 1000000 / l.bytes_per_sec;
            queue_samples[dir].push_back(queue_free[dir] - now);
            max_queue_delay[dir] = std::max(max_queue_delay[dir], queue_free[dir] - now);
            t = queue_free[dir];
        }
        t += l.delay_us;
        if (l.reorder > 0 && u(rng) < l.reorder) t += l.reorder_us;
        events_.emplace(std::make_pair(t, seq_++), Pkt{dir, std::string(d)});
        if (l.dup > 0 && u(rng) < l.dup) events_.emplace(std::make_pair(t + 1000, seq_++), Pkt{dir, std::string(d)});
    }

    // Runs until `until` (simulated µs from now) or until done() holds.
    void run(uint64_t for_us, const std::function<bool()>& done = {}) {
        const uint64_t end = now + for_us;
        while (now < end) {
            if (done && done()) return;
            const uint64_t next_tick = (now / 100000 + 1) * 100000;
            if (!events_.empty() && events_.begin()->first.first <= next_tick) {
                now = std::max(now, events_.begin()->first.first);
                // every datagram due now, then the end-of-turn flush
                while (!events_.empty() && events_.begin()->first.first <= now) {
                    Pkt p = std::move(events_.begin()->second);
                    events_.erase(events_.begin());
                    if (p.dir == 0)
                        b->incoming(reinterpret_cast<const sockaddr*>(&addr_a), p.bytes);
                    else
                        a->incoming(reinterpret_cast<const sockaddr*>(&addr_b), p.bytes);
                }
                a->flush();
                b->flush();
            } else {
                now = next_tick;
                a->tick();
                b->tick();
                a->flush();
                b->flush();
            }
        }
    }

    // Delivers a raw datagram to b as if it came from `from`.
    void inject_to_b(const sockaddr* from, std::string_view d) { b->incoming(from, d); }

private:
    struct Pkt {
        int dir;
        std::string bytes;
    };
    std::map<std::pair<uint64_t, uint64_t>, Pkt> events_;
    uint64_t seq_ = 0;
};

inline std::string pattern(size_t n, uint32_t seed) {
    std::string s(n, '\0');
    std::mt19937 r(seed);
    for (auto& c : s) c = char(r());
    return s;
}

}  // namespace btl::test
