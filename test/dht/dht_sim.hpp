#pragma once
// DHT nodes on a fake network for the node tests: what a node sends waits in
// a queue until deliver() hands it to the node at the destination address;
// run() advances a simulated clock in 100 ms steps.
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "btl/dht/dht_node.hpp"

namespace btl::dht::testing {

inline NodeId random_id(std::mt19937_64& r) {
    NodeId id;
    for (auto& b : id) b = uint8_t(r());
    return id;
}

struct DhtSim {
    struct Packet {
        NodeAddr from, to;
        std::string data;
    };
    std::mt19937_64 rng;
    std::vector<std::unique_ptr<DhtNode>> nodes;
    std::vector<NodeAddr> addrs;  // addrs[i] is nodes[i]'s
    std::deque<Packet> queue;
    int64_t now = 1'000;
    size_t sent = 0;

    explicit DhtSim(uint64_t seed) : rng(seed) {}
    DhtNode& make(const NodeId& id, const NodeAddr& me, const DhtConfig& cfg) {
        nodes.push_back(std::make_unique<DhtNode>(id, cfg, [this, me](const NodeAddr& to, std::string_view p) {
            ++sent;
            queue.push_back(Packet{me, to, std::string(p)});
        }, rng()));
        addrs.push_back(me);
        return *nodes.back();
    }
    void deliver() {
        while (!queue.empty()) {
            Packet p = std::move(queue.front());
            queue.pop_front();
            for (size_t i = 0; i < addrs.size(); ++i)
                if (addrs[i] == p.to) nodes[i]->on_packet(p.from, p.data, now);
        }
    }
    void run(int64_t ms) {
        for (int64_t t = 0; t < ms; t += 100) {
            now += 100;
            for (auto& n : nodes) n->tick(now);
            deliver();
        }
    }
};

}  // namespace btl::dht::testing
