// BEP 5 in the peer wire protocol: the DHT bit of our handshake, the `port`
// message to peers that set theirs, and the nodes peers tell us about.
#include <doctest/doctest.h>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {

std::string port_message(uint16_t port) {
    std::string m;
    append_port(m, port);
    return m;
}

// Dials one peer whose handshake sets (or not) the DHT bit; returns its transport.
ScriptedTransport& dial(Harness& h, bool peer_dht) {
    h.t->add_peers({{"10.0.0.5", 7000}});
    REQUIRE(!h.host.dialled.empty());
    ScriptedTransport& tr = *h.host.dialled.back();
    tr.connected();
    std::string hs;
    append_handshake(hs, h.t->info_hash(), make_peer_id("-XX0001-", 9), true, false, peer_dht);
    tr.feed(hs);
    return tr;
}

}  // namespace

TEST_CASE("peer dht: with a DHT our handshake sets bit 0x01 of byte 7 and a DHT peer gets our port") {
    Harness h(make_content(4, 32768));
    h.host.dht = 6999;
    ScriptedTransport& tr = dial(h, true);
    const std::string& out = tr.raw_sent();
    REQUIRE(out.size() >= kHandshakeSize);
    CHECK((uint8_t(out[27]) & 0x01) == 0x01);
    CHECK(out.find(port_message(6999), kHandshakeSize) != std::string::npos);
    // The peer's own port message names its node: handed to the DHT.
    tr.feed(port_message(7001));
    REQUIRE(h.host.dht_hints.size() == 1);
    CHECK(h.host.dht_hints[0].first == "10.0.0.200");
    CHECK(h.host.dht_hints[0].second == 7001);
}

TEST_CASE("peer dht: no port message to a peer without the DHT bit, none at all without a DHT") {
    {
        Harness h(make_content(4, 32768));
        h.host.dht = 6999;
        ScriptedTransport& tr = dial(h, false);
        CHECK(tr.raw_sent().find(port_message(6999)) == std::string::npos);
    }
    {
        Harness h(make_content(4, 32768));
        ScriptedTransport& tr = dial(h, true);
        CHECK((uint8_t(tr.raw_sent()[27]) & 0x01) == 0);
        CHECK(tr.raw_sent().find(port_message(6999)) == std::string::npos);
        tr.feed(port_message(7001));
        CHECK(h.host.dht_hints.empty());
    }
}

TEST_CASE("peer dht: a private torrent never says or learns DHT ports") {
    TestContent c = make_content(4, 32768);
    c.mi.is_private = true;
    Harness h(std::move(c));
    h.host.dht = 6999;
    ScriptedTransport& tr = dial(h, true);
    CHECK((uint8_t(tr.raw_sent()[27]) & 0x01) == 0);
    CHECK(tr.raw_sent().find(port_message(6999)) == std::string::npos);
    tr.feed(port_message(7001));
    CHECK(h.host.dht_hints.empty());
}
