#include "btl/ext/extension.hpp"

#include "btl/core/bencode.hpp"

namespace btl {

const char* ext_name(ExtMsg m) {
    switch (m) {
        case ExtMsg::ut_pex: return "ut_pex";
        case ExtMsg::ut_metadata: return "ut_metadata";
        case ExtMsg::handshake: break;
    }
    return "";
}

std::string encode_ext_handshake(const ExtHandshake& h) {
    // Keys in sorted order (BEP 3): m, metadata_size, p, reqq, upload_only, v, yourip.
    std::string out;
    BEncoder e(out);
    e.begin_dict();
    e.string("m").begin_dict();
    for (ExtMsg m : {ExtMsg::ut_metadata, ExtMsg::ut_pex})  // sorted by name
        if (h.ids[size_t(m)] > 0) e.string(ext_name(m)).integer(h.ids[size_t(m)]);
    e.end();
    if (h.metadata_size >= 0) e.string("metadata_size").integer(h.metadata_size);
    if (h.listen_port > 0) e.string("p").integer(h.listen_port);
    if (h.reqq > 0) e.string("reqq").integer(h.reqq);
    if (h.upload_only >= 0) e.string("upload_only").integer(h.upload_only);
    if (!h.client.empty()) e.string("v").string(h.client);
    if (h.yourip.size() == 4 || h.yourip.size() == 16) e.string("yourip").string(h.yourip);
    e.end();
    return out;
}

namespace {

Error bad(const std::string& what) { return make_error("extended handshake: " + what); }

// An integer field within [lo, hi], or -1 when absent.
Result<int64_t> int_field(BNode root, std::string_view key, int64_t lo, int64_t hi) {
    BNode n = root.find(key);
    if (!n) return int64_t(-1);
    if (!n.is_int()) return bad(std::string(key) + " is not an integer");
    if (n.int_value() < lo || n.int_value() > hi)
        return bad(std::string(key) + " " + std::to_string(n.int_value()) + " is out of range");
    return n.int_value();
}

Status read_m(BNode root, ExtHandshake& h) {
    BNode m = root.find("m");
    if (!m) return Ok{};
    if (!m.is_dict()) return bad("m is not a dictionary");
    for (auto [name, id] : m.dict_items()) {
        if (!id.is_int()) return bad("m." + std::string(name.substr(0, 40)) + " is not an integer");
        for (ExtMsg x : {ExtMsg::ut_pex, ExtMsg::ut_metadata}) {
            if (name != ext_name(x)) continue;
            if (id.int_value() < 0 || id.int_value() > 255)
                return bad("m." + std::string(name) + " id " + std::to_string(id.int_value()) + " is out of range");
            h.ids[size_t(x)] = int(id.int_value());
        }
    }
    return Ok{};
}

}  // namespace

Result<ExtHandshake> parse_ext_handshake(std::string_view payload) {
    if (payload.size() > kMaxExtHandshake) return bad(std::to_string(payload.size()) + " bytes is too long");
    DecodeLimits lim;
    lim.max_size = kMaxExtHandshake;
    lim.max_depth = 4;
    lim.max_tokens = 2000;
    auto doc = decode(payload, lim);
    if (!doc) return bad(doc.error().message);
    BNode root = doc->root();
    if (!root.is_dict()) return bad("not a dictionary");
    ExtHandshake h;
    if (Status s = read_m(root, h); !s) return s.error();
    auto port = int_field(root, "p", 0, 65535);
    auto reqq = int_field(root, "reqq", 0, int64_t(1) << 31);
    auto msize = int_field(root, "metadata_size", 0, int64_t(1) << 40);
    auto upload_only = int_field(root, "upload_only", 0, int64_t(1) << 40);
    for (auto* r : {&port, &reqq, &msize, &upload_only})
        if (!*r) return r->error();
    h.listen_port = int(*port);
    h.reqq = *reqq;
    h.metadata_size = *msize;
    h.upload_only = *upload_only < 0 ? -1 : *upload_only > 0 ? 1 : 0;
    if (BNode v = root.find("v")) {
        if (!v.is_string()) return bad("v is not a string");
        h.client = std::string(v.string().substr(0, 100));
    }
    if (BNode ip = root.find("yourip")) {
        if (!ip.is_string()) return bad("yourip is not a string");
        if (ip.string().size() == 4 || ip.string().size() == 16) h.yourip = std::string(ip.string());
    }
    return h;
}

void merge_ext_handshake(ExtHandshake& s, const ExtHandshake& u) {
    for (size_t i = 0; i < kExtMsgCount; ++i)
        if (u.ids[i] >= 0) s.ids[i] = u.ids[i];
    if (u.listen_port >= 0) s.listen_port = u.listen_port;
    if (!u.client.empty()) s.client = u.client;
    if (!u.yourip.empty()) s.yourip = u.yourip;
    if (u.reqq >= 0) s.reqq = u.reqq;
    if (u.metadata_size >= 0) s.metadata_size = u.metadata_size;
    if (u.upload_only >= 0) s.upload_only = u.upload_only;
}

}  // namespace btl
