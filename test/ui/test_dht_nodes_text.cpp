// The views' DHT count: both routing tables, the IPv6 share labelled (BEP 32).
#include <doctest/doctest.h>

#include "btl/ui/table.hpp"

using namespace btl;
using btl::ui::dht_nodes_text;

TEST_CASE("ui: the DHT node count names the IPv6 table's share, and is empty with the DHT off") {
    SessionStatus s;
    CHECK(dht_nodes_text(s).empty());
    s.dht_nodes = 12;
    s.dht_nodes6 = 0;
    CHECK(dht_nodes_text(s) == "DHT 12 nodes");
    s.dht_nodes = 120;
    s.dht_nodes6 = 45;
    CHECK(dht_nodes_text(s) == "DHT 120 nodes (45 IPv6)");
}
