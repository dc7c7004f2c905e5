// /metrics: the DHT's routing tables by address family (BEP 5 IPv4, BEP 32 IPv6).
#include <doctest/doctest.h>

#include <string>

#include "btl/rpc/metrics.hpp"

using namespace btl;

TEST_CASE("metrics: btl_dht_nodes gives each family's table, and nothing when the DHT is off") {
    rpc::MetricsInput in;
    std::string t = rpc::prometheus_text(in);
    CHECK(t.find("btl_dht_nodes") == std::string::npos);  // dht_nodes -1: off
    in.session.dht_nodes = 120;
    in.session.dht_nodes6 = 45;
    t = rpc::prometheus_text(in);
    CHECK(t.find("# TYPE btl_dht_nodes gauge\n") != std::string::npos);
    CHECK(t.find("btl_dht_nodes{family=\"ipv4\"} 75\n") != std::string::npos);
    CHECK(t.find("btl_dht_nodes{family=\"ipv6\"} 45\n") != std::string::npos);
}

TEST_CASE("metrics: btl_dht_packets_total counts the DHT's datagrams each way, only with the DHT on") {
    rpc::MetricsInput in;
    in.session.dht_packets_in = 5;  // a stale count with the DHT off is not shown
    CHECK(rpc::prometheus_text(in).find("btl_dht_packets_total") == std::string::npos);
    in.session.dht_nodes = 3;
    in.session.dht_nodes6 = 0;
    in.session.dht_packets_in = 1234;
    in.session.dht_packets_out = 987;
    std::string t = rpc::prometheus_text(in);
    CHECK(t.find("# TYPE btl_dht_packets_total counter\n") != std::string::npos);
    CHECK(t.find("btl_dht_packets_total{direction=\"in\"} 1234\n") != std::string::npos);
    CHECK(t.find("btl_dht_packets_total{direction=\"out\"} 987\n") != std::string::npos);
}
