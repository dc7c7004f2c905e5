// The DHT's saved state (dht.dat: our id, "nodes" and the IPv6 "nodes6",
// BEP 32): any file either is refused or gives back only usable addresses
// of the right family, and what we write from that reads back the same.
#include <string>
#include <string_view>

#include "btl/dht/dht_node.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_dht_state) {
    std::string_view d(reinterpret_cast<const char*>(data), size);
    dht::SavedState st;
    if (!dht::decode_saved(d, st)) return 0;
    for (const auto& n : st.nodes) BTL_FUZZ_CHECK(!n.addr.v6 && n.addr.usable());
    for (const auto& n : st.nodes6) BTL_FUZZ_CHECK(n.addr.v6 && n.addr.usable());
    std::string again = dht::encode_saved(st);
    dht::SavedState st2;
    BTL_FUZZ_CHECK(dht::decode_saved(again, st2));
    BTL_FUZZ_CHECK(st2.id == st.id && st2.nodes.size() == st.nodes.size() && st2.nodes6.size() == st.nodes6.size());
    BTL_FUZZ_CHECK(dht::encode_saved(st2) == again);
    // Each node takes only its own family from it.
    dht::DhtConfig c6;
    c6.ipv6 = true;
    dht::DhtNode n4(st.id, {}, [](const dht::NodeAddr&, std::string_view) {}, 1);
    dht::DhtNode n6(st.id, c6, [](const dht::NodeAddr&, std::string_view) {}, 2);
    n4.add_saved(st.nodes6, 0);
    n6.add_saved(st.nodes, 0);
    BTL_FUZZ_CHECK(n4.table().size() == 0 && n6.table().size() == 0);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_dht_state)
