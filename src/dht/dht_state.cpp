// The DHT's saved state (dht.dat): our node id and the nodes of both
// tables, bencoded.  "nodes" holds the IPv4 table (26-byte entries, always
// written, so files stay readable by versions without IPv6); "nodes6" the
// IPv6 table (38-byte entries, BEP 32), absent in older files.
#include <algorithm>

#include "btl/core/bencode.hpp"
#include "btl/dht/dht_node.hpp"

namespace btl::dht {

namespace {

template <size_t Len>
void read_entries(std::string_view s, std::vector<NodeEntry>& out) {
    for (size_t k = 0; k + Len <= s.size(); k += Len) {
        NodeEntry e;
        std::copy(s.begin() + std::ptrdiff_t(k), s.begin() + std::ptrdiff_t(k + kIdLen), e.id.begin());
        e.addr = Len == 38 ? read_compact_addr6(s.data() + k + kIdLen) : read_compact_addr(s.data() + k + kIdLen);
        if (e.addr.usable()) out.push_back(e);
    }
}

}  // namespace

std::string encode_saved(const SavedState& st) {
    std::string out, nodes, nodes6;
    for (const auto& n : st.nodes)
        if (!n.addr.v6) append_compact(nodes, n);
    for (const auto& n : st.nodes6)
        if (n.addr.v6) append_compact(nodes6, n);
    BEncoder b(out);
    b.begin_dict();
    b.string("id").string(std::string_view(reinterpret_cast<const char*>(st.id.data()), kIdLen));
    b.string("nodes").string(nodes);
    if (!nodes6.empty()) b.string("nodes6").string(nodes6);
    b.end();
    return out;
}

bool decode_saved(std::string_view data, SavedState& st) {
    auto doc = decode(data, DecodeLimits{1u << 20, 4, 64});
    if (!doc.ok() || !doc->root().is_dict()) return false;
    BNode i = doc->root().find_string("id"), n = doc->root().find_string("nodes");
    if (!i || i.string().size() != kIdLen || !n || n.string().size() % 26 != 0) return false;
    std::copy(i.string().begin(), i.string().end(), st.id.begin());
    st.nodes.clear();
    st.nodes6.clear();
    read_entries<26>(n.string(), st.nodes);
    // A damaged nodes6 costs the IPv6 table only.
    if (BNode n6 = doc->root().find_string("nodes6"); n6 && n6.string().size() % 38 == 0)
        read_entries<38>(n6.string(), st.nodes6);
    return true;
}

std::string DhtNode::save() const {
    SavedState st;
    st.id = table_.self();
    (cfg_.ipv6 ? st.nodes6 : st.nodes) = table_.all();
    if (other_) (cfg_.ipv6 ? st.nodes : st.nodes6) = other_->table().all();
    return encode_saved(st);
}

bool DhtNode::parse_saved(std::string_view data, NodeId& id, std::vector<NodeEntry>& nodes) {
    SavedState st;
    if (!decode_saved(data, st)) return false;
    id = st.id;
    nodes = std::move(st.nodes);
    return true;
}

void DhtNode::add_saved(const std::vector<NodeEntry>& nodes, int64_t now) {
    for (const auto& n : nodes)
        if (n.addr.v6 == cfg_.ipv6) table_.add_unverified(n, now);
}

}  // namespace btl::dht
