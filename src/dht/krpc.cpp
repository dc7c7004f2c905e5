#include "btl/dht/krpc.hpp"

#include <cstring>

#include "btl/core/bencode.hpp"

namespace btl::dht {

namespace {

constexpr size_t kMaxTid = 16, kMaxToken = 64, kMaxNodes = 64, kMaxValues = 200;

bool copy_id(BNode n, NodeId& out) {
    if (!n.is_string() || n.string().size() != kIdLen) return false;
    std::memcpy(out.data(), n.string().data(), kIdLen);
    return true;
}

Method method_of(std::string_view q) {
    if (q == "ping") return Method::ping;
    if (q == "find_node") return Method::find_node;
    if (q == "get_peers") return Method::get_peers;
    if (q == "announce_peer") return Method::announce_peer;
    return Method::unknown;
}

// Fills the arguments of a known method; a missing or malformed one makes
// the query invalid (answered with 203), never a decode failure.
void read_query_args(BNode a, KrpcMessage& m) {
    auto invalid = [&](const char* why) {
        m.method = Method::invalid;
        m.error_msg = why;
    };
    if (!copy_id(a.find("id"), m.id)) return invalid("missing or bad id");
    if (BNode ro = a.find("ro"); ro.is_int()) m.read_only = ro.int_value() == 1;
    if (BNode w = a.find("want"); w.is_list())
        for (BNode f : w.list_items()) {
            if (!f.is_string()) continue;
            if (f.string() == "n4") m.want |= kWantN4;
            if (f.string() == "n6") m.want |= kWantN6;
        }
    switch (m.method) {
        case Method::find_node:
            if (!copy_id(a.find("target"), m.target)) return invalid("missing or bad target");
            break;
        case Method::get_peers:
            if (!copy_id(a.find("info_hash"), m.target)) return invalid("missing or bad info_hash");
            break;
        case Method::announce_peer: {
            if (!copy_id(a.find("info_hash"), m.target)) return invalid("missing or bad info_hash");
            BNode tok = a.find_string("token");
            if (!tok || tok.string().empty() || tok.string().size() > kMaxToken) return invalid("missing or bad token");
            m.token = std::string(tok.string());
            BNode ip = a.find_int("implied_port");
            m.implied_port = ip && ip.int_value() != 0;
            BNode port = a.find_int("port");
            if (port && port.int_value() >= 1 && port.int_value() <= 65535)
                m.port = uint16_t(port.int_value());
            else if (!m.implied_port)
                return invalid("missing or bad port");
            break;
        }
        default: break;
    }
}

Status read_response(BNode r, KrpcMessage& m) {
    if (!copy_id(r.find("id"), m.id)) return make_error("response without a 20-byte id");
    if (BNode n = r.find("nodes")) {
        std::string_view s = n.string();
        if (!n.is_string() || s.size() % 26 != 0) return make_error("nodes is not a multiple of 26 bytes");
        if (s.size() / 26 > kMaxNodes) return make_error("too many nodes");
        for (size_t i = 0; i < s.size(); i += 26) {
            NodeEntry e;
            std::memcpy(e.id.data(), s.data() + i, kIdLen);
            e.addr = read_compact_addr(s.data() + i + kIdLen);
            m.nodes.push_back(e);
        }
    }
    // BEP 32: a malformed nodes6 is left out, not fatal (the nodes and
    // values beside it are still good); IPv4-mapped entries are dropped.
    if (BNode n = r.find("nodes6"); n.is_string() && n.string().size() % 38 == 0 && n.string().size() / 38 <= kMaxNodes) {
        std::string_view s = n.string();
        for (size_t i = 0; i < s.size(); i += 38) {
            NodeEntry e;
            std::memcpy(e.id.data(), s.data() + i, kIdLen);
            e.addr = read_compact_addr6(s.data() + i + kIdLen);
            if (e.addr.usable()) m.nodes6.push_back(e);
        }
    }
    if (BNode v = r.find("values")) {
        if (!v.is_list() || v.size() > kMaxValues) return make_error("values is not a list of at most 200");
        for (BNode p : v.list_items()) {
            if (p.is_string() && p.string().size() == 18) {  // an IPv6 peer (BEP 32)
                NodeAddr a = read_compact_addr6(p.string().data());
                if (a.usable()) m.values.push_back(a);
                continue;
            }
            if (!p.is_string() || p.string().size() != 6) return make_error("a value is not a 6- or 18-byte peer");
            m.values.push_back(read_compact_addr(p.string().data()));
        }
    }
    if (BNode t = r.find("token")) {
        if (!t.is_string() || t.string().size() > kMaxToken) return make_error("bad token");
        m.token = std::string(t.string());
    }
    return Ok{};
}

Status read_error(BNode e, KrpcMessage& m) {
    if (!e.is_list() || e.size() < 1) return make_error("error is not a list");
    BNode code = e.at(0);
    if (!code.is_int()) return make_error("error code is not an integer");
    m.error_code = int(code.int_value() < 0 || code.int_value() > 999 ? 0 : code.int_value());
    if (BNode msg = e.at(1); msg.is_string()) m.error_msg = std::string(msg.string().substr(0, 200));
    return Ok{};
}

void encode_query_args(BEncoder& b, const KrpcMessage& m) {
    auto id = [](const NodeId& x) { return std::string_view(reinterpret_cast<const char*>(x.data()), x.size()); };
    b.begin_dict();
    b.string("id").string(id(m.id));
    if (m.method == Method::announce_peer) b.string("implied_port").integer(m.implied_port ? 1 : 0);
    if (m.method == Method::get_peers || m.method == Method::announce_peer)
        b.string("info_hash").string(id(m.target));
    if (m.method == Method::announce_peer) b.string("port").integer(m.port);
    if (m.read_only) b.string("ro").integer(1);
    if (m.method == Method::find_node) b.string("target").string(id(m.target));
    if (m.method == Method::announce_peer) b.string("token").string(m.token);
    if (m.want) {
        b.string("want").begin_list();
        if (m.want & kWantN4) b.string("n4");
        if (m.want & kWantN6) b.string("n6");
        b.end();
    }
    b.end();
}

void encode_response(BEncoder& b, const KrpcMessage& m) {
    b.begin_dict();
    b.string("id").string(std::string_view(reinterpret_cast<const char*>(m.id.data()), kIdLen));
    if (!m.nodes.empty()) {
        std::string s;
        for (const auto& n : m.nodes) append_compact(s, n);
        b.string("nodes").string(s);
    }
    if (!m.nodes6.empty()) {
        std::string s;
        for (const auto& n : m.nodes6) append_compact(s, n);
        b.string("nodes6").string(s);
    }
    if (!m.token.empty()) b.string("token").string(m.token);
    if (!m.values.empty()) {
        b.string("values").begin_list();
        std::string s;
        for (const auto& v : m.values) {
            s.clear();
            append_compact(s, v);
            b.string(s);
        }
        b.end();
    }
    b.end();
}

}  // namespace

const char* method_name(Method m) {
    switch (m) {
        case Method::ping: return "ping";
        case Method::find_node: return "find_node";
        case Method::get_peers: return "get_peers";
        case Method::announce_peer: return "announce_peer";
        case Method::unknown: return "unknown";
        case Method::invalid: return "invalid";
        default: return "none";
    }
}

Result<KrpcMessage> decode_krpc(std::string_view packet) {
    if (packet.size() > kMaxPacket) return make_error("packet over " + std::to_string(kMaxPacket) + " bytes");
    DecodeLimits lim;
    lim.max_size = kMaxPacket;
    lim.max_depth = 4;
    lim.max_tokens = 512;
    auto doc = decode(packet, lim);
    if (!doc.ok()) return make_error("not bencode: " + doc.error().message);
    BNode root = doc->root();
    if (!root.is_dict()) return make_error("not a dictionary");
    KrpcMessage m;
    BNode t = root.find_string("t");
    if (!t || t.string().empty() || t.string().size() > kMaxTid) return make_error("missing or bad transaction id");
    m.tid = std::string(t.string());
    BNode y = root.find_string("y");
    if (!y || y.string().size() != 1) return make_error("missing or bad message type");
    switch (y.string()[0]) {
        case 'q': {
            m.kind = MsgKind::query;
            BNode q = root.find_string("q");
            if (!q) return make_error("query without a method");
            m.method = method_of(q.string());
            BNode a = root.find_dict("a");
            if (!a) {
                if (m.method != Method::unknown) {
                    m.method = Method::invalid;
                    m.error_msg = "query without arguments";
                }
                return m;
            }
            if (m.method != Method::unknown) read_query_args(a, m);
            return m;
        }
        case 'r': {
            m.kind = MsgKind::response;
            BNode r = root.find_dict("r");
            if (!r) return make_error("response without r");
            if (auto st = read_response(r, m); !st.ok()) return st.error();
            return m;
        }
        case 'e': {
            m.kind = MsgKind::error;
            if (auto st = read_error(root.find("e"), m); !st.ok()) return st.error();
            return m;
        }
        default: return make_error("unknown message type");
    }
}

std::string encode_krpc(const KrpcMessage& m) {
    std::string out;
    BEncoder b(out);
    b.begin_dict();
    switch (m.kind) {
        case MsgKind::query:
            b.string("a");
            encode_query_args(b, m);
            b.string("q").string(method_name(m.method));
            b.string("t").string(m.tid).string("y").string("q");
            break;
        case MsgKind::response:
            b.string("r");
            encode_response(b, m);
            b.string("t").string(m.tid).string("y").string("r");
            break;
        case MsgKind::error:
            b.string("e").begin_list().integer(m.error_code).string(m.error_msg).end();
            b.string("t").string(m.tid).string("y").string("e");
            break;
    }
    b.end();
    return out;
}

}  // namespace btl::dht
