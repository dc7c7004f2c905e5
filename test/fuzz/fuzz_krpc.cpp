// KRPC decoder (DHT): any datagram either fails cleanly or decodes to a
// message whose canonical encoding decodes to the same message; and a node
// fed the datagram never answers with more than its reply bound (an IPv4
// node, and the IPv6 node of a dual-stack pair, BEP 32).
#include <string>
#include <string_view>

#include "btl/dht/dht_node.hpp"
#include "btl/dht/krpc.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

int fuzz_krpc(const uint8_t* data, size_t size) {
    std::string_view pkt(reinterpret_cast<const char*>(data), size);
    auto m = dht::decode_krpc(pkt);
    if (m.ok()) {
        BTL_FUZZ_CHECK(!m->tid.empty() && m->tid.size() <= 16);
        BTL_FUZZ_CHECK(m->nodes.size() <= 64 && m->nodes6.size() <= 64 && m->values.size() <= 200);
        for (const auto& n : m->nodes6) BTL_FUZZ_CHECK(n.addr.v6 && n.addr.usable());
        if (m->kind != dht::MsgKind::query || (m->method != dht::Method::unknown && m->method != dht::Method::invalid)) {
            std::string again = dht::encode_krpc(*m);
            auto m2 = dht::decode_krpc(again);
            BTL_FUZZ_CHECK(m2.ok());
            BTL_FUZZ_CHECK(dht::encode_krpc(*m2) == again);
        }
    }
    size_t biggest = 0, sent = 0;
    dht::NodeId id{};
    dht::DhtNode node(id, {}, [&](const dht::NodeAddr&, std::string_view p) {
        ++sent;
        if (p.size() > biggest) biggest = p.size();
    }, 1);
    node.tick(0);
    node.on_packet(dht::NodeAddr{0x7f000002, 6881}, pkt, 1);
    BTL_FUZZ_CHECK(biggest <= dht::DhtNode::kMaxReply);
    BTL_FUZZ_CHECK(sent <= 2);  // one answer, perhaps one ping back
    BTL_FUZZ_CHECK(node.stats().malformed + node.stats().queries_in + node.stats().unexpected == 1);

    // BEP 32: the same datagram to the IPv6 node of a dual-stack pair, from ::1.
    dht::DhtConfig c6;
    c6.ipv6 = true;
    size_t sent6 = 0, biggest6 = 0;
    auto count = [&](const dht::NodeAddr&, std::string_view p) {
        ++sent6;
        if (p.size() > biggest6) biggest6 = p.size();
    };
    dht::DhtNode n4(id, {}, count, 2), n6(id, c6, count, 3);
    n4.set_other(&n6);
    n6.set_other(&n4);
    n4.tick(0);
    n6.tick(0);
    dht::Ip6 lo{};
    lo[15] = 1;
    n6.on_packet(dht::NodeAddr::make6(lo, 6881), pkt, 1);
    BTL_FUZZ_CHECK(biggest6 <= dht::DhtNode::kMaxReply);
    BTL_FUZZ_CHECK(sent6 <= 2);
    BTL_FUZZ_CHECK(n6.stats().malformed + n6.stats().queries_in + n6.stats().unexpected == 1);
    BTL_FUZZ_CHECK(n4.stats().packets_in == 0);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_krpc)
