#include "btl/core/wire.hpp"

#include <cstring>

namespace btl {

namespace {

constexpr std::string_view kProtocol = "BitTorrent protocol";

void put32(std::string& out, uint32_t v) {
    char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    out.append(b, 4);
}

uint32_t get32(const char* p) {
    auto u = reinterpret_cast<const unsigned char*>(p);
    return uint32_t(u[0]) << 24 | uint32_t(u[1]) << 16 | uint32_t(u[2]) << 8 | uint32_t(u[3]);
}

void append_header(std::string& out, uint32_t payload_len, MsgId id) {
    put32(out, payload_len + 1);
    out.push_back(char(id));
}

void append_triple(std::string& out, MsgId id, uint32_t a, uint32_t b, uint32_t c) {
    append_header(out, 12, id);
    put32(out, a);
    put32(out, b);
    put32(out, c);
}

uint64_t splitmix(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct ClientCode {
    const char* code;
    const char* name;
};
constexpr ClientCode kAzureusClients[] = {
    {"AZ", "Azureus"},   {"BC", "BitComet"},   {"BL", "BitBlinder"},  {"BM", "btlaunchmany"}, {"BT", "BitTorrent"},
    {"DE", "Deluge"},    {"KT", "KTorrent"},   {"LT", "libtorrent"},   {"lt", "libTorrent (rtorrent)"},
    {"qB", "qBittorrent"}, {"TR", "Transmission"}, {"UT", "uTorrent"}, {"UM", "uTorrent Mac"},
    {"UW", "uTorrent Web"}, {"WW", "WebTorrent"}, {"BI", "BiglyBT"},   {"FD", "Free Download Manager"},
    {"PI", "PicoTorrent"}, {"TX", "Tixati"},    {"XL", "Xunlei"},       {"SD", "Thunder"},
    {"AG", "Ares"},      {"BF", "BitFlu"},     {"FW", "FrostWire"},    {"VG", "Vagaa"},
};

bool is_alnum(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Printable ASCII kept, everything else as \xNN, so a peer id can never put
// control characters on the user's terminal.
std::string escaped(const uint8_t* p, size_t n) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            s.push_back(char(c));
        } else {
            s += "\\x";
            s.push_back(hex[c >> 4]);
            s.push_back(hex[c & 15]);
        }
    }
    return s;
}

// Azureus version digits: 0-9, then A-Z for 10-35 (some clients).
int version_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    return -1;
}

}  // namespace

const char* msg_name(MsgId id) {
    switch (id) {
        case MsgId::choke: return "choke";
        case MsgId::unchoke: return "unchoke";
        case MsgId::interested: return "interested";
        case MsgId::not_interested: return "not_interested";
        case MsgId::have: return "have";
        case MsgId::bitfield: return "bitfield";
        case MsgId::request: return "request";
        case MsgId::piece: return "piece";
        case MsgId::cancel: return "cancel";
        case MsgId::port: return "port";
        case MsgId::suggest: return "suggest";
        case MsgId::have_all: return "have_all";
        case MsgId::have_none: return "have_none";
        case MsgId::reject: return "reject";
        case MsgId::allowed_fast: return "allowed_fast";
        case MsgId::extended: return "extended";
    }
    return "unknown";
}

PeerId make_peer_id(std::string_view prefix, uint64_t random_seed) {
    static constexpr char kChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    PeerId id{};
    size_t n = std::min(prefix.size(), id.size());
    std::memcpy(id.data(), prefix.data(), n);
    uint64_t s = random_seed;
    for (size_t i = n; i < id.size(); ++i) id[i] = uint8_t(kChars[splitmix(s) % 62]);
    return id;
}

std::string client_name(const PeerId& id) {
    if (std::memcmp(id.data(), "-aria2-", 7) == 0) return "aria2";
    // Azureus style: '-' XX VVVV '-'
    if (id[0] == '-' && id[7] == '-' && is_alnum(id[1]) && is_alnum(id[2])) {
        std::string code{char(id[1]), char(id[2])};
        std::string name;
        for (const auto& c : kAzureusClients) {
            if (code == c.code) name = c.name;
        }
        if (name.empty()) name = code;
        std::string ver;
        bool ok = true;
        for (int i = 3; i < 7; ++i) {
            int d = version_digit(id[size_t(i)]);
            if (d < 0) {
                ok = false;
                break;
            }
            if (!ver.empty()) ver.push_back('.');
            ver += std::to_string(d);
        }
        return ok ? name + " " + ver : name + " " + escaped(id.data() + 3, 4);
    }
    // aria2: "A2-1-36-0-" followed by random bytes.
    if (id[0] == 'A' && id[1] == '2' && id[2] == '-') {
        size_t i = 3;
        std::string out = "aria2 ";
        int parts = 0;
        while (i < id.size() && parts < 3) {
            std::string part;
            while (i < id.size() && id[i] >= '0' && id[i] <= '9' && part.size() < 3) part.push_back(char(id[i++]));
            if (part.empty()) break;
            if (parts) out.push_back('.');
            out += part;
            ++parts;
            if (i < id.size() && id[i] == '-') ++i;
        }
        if (parts > 0) return out;
        return "aria2";
    }
    // Mainline style: "M7-2-2--" / Shad0w style would go here; fall back to
    // the printable prefix.
    if (id[0] == 'M' && is_alnum(id[1]) && id[2] == '-') {
        size_t end = 1;
        while (end < 8 && (id[end] == '-' || (id[end] >= '0' && id[end] <= '9'))) ++end;
        std::string v;
        for (size_t i = 1; i < end; ++i) v.push_back(id[i] == '-' ? '.' : char(id[i]));
        while (!v.empty() && v.back() == '.') v.pop_back();
        return "BitTorrent " + v;
    }
    size_t n = id.size();
    // Trim trailing random-looking bytes is guesswork; show at most 8 bytes.
    n = std::min<size_t>(n, 8);
    return "unknown " + escaped(id.data(), n);
}

void append_handshake(std::string& out, const Sha1Digest& info_hash, const PeerId& peer_id, bool fast,
                      bool extended, bool dht) {
    out.push_back(char(kProtocol.size()));
    out.append(kProtocol);
    char reserved[8] = {};
    if (extended) reserved[5] |= 0x10;
    if (fast) reserved[7] |= 0x04;
    if (dht) reserved[7] |= 0x01;  // BEP 5: we run a DHT node (port message follows)
    out.append(reserved, 8);
    out.append(reinterpret_cast<const char*>(info_hash.data()), info_hash.size());
    out.append(reinterpret_cast<const char*>(peer_id.data()), peer_id.size());
}

Result<Handshake> parse_handshake(std::string_view in) {
    if (in.size() < kHandshakeSize) return make_error("handshake too short");
    if (uint8_t(in[0]) != kProtocol.size() || in.substr(1, kProtocol.size()) != kProtocol) {
        return make_error("not a BitTorrent handshake");
    }
    Handshake h;
    std::memcpy(h.reserved.data(), in.data() + 20, 8);
    std::memcpy(h.info_hash.data(), in.data() + 28, 20);
    std::memcpy(h.peer_id.data(), in.data() + 48, 20);
    return h;
}

void append_keepalive(std::string& out) { put32(out, 0); }
void append_simple(std::string& out, MsgId id) { append_header(out, 0, id); }

void append_have(std::string& out, uint32_t piece) {
    append_header(out, 4, MsgId::have);
    put32(out, piece);
}

void append_bitfield(std::string& out, const Bitfield& bf) {
    append_header(out, uint32_t(bf.byte_size()), MsgId::bitfield);
    out.append(reinterpret_cast<const char*>(bf.data()), bf.byte_size());
}

void append_request(std::string& out, uint32_t piece, uint32_t begin, uint32_t length) {
    append_triple(out, MsgId::request, piece, begin, length);
}
void append_cancel(std::string& out, uint32_t piece, uint32_t begin, uint32_t length) {
    append_triple(out, MsgId::cancel, piece, begin, length);
}
void append_reject(std::string& out, uint32_t piece, uint32_t begin, uint32_t length) {
    append_triple(out, MsgId::reject, piece, begin, length);
}

void append_allowed_fast(std::string& out, uint32_t piece) {
    append_header(out, 4, MsgId::allowed_fast);
    put32(out, piece);
}

void append_suggest(std::string& out, uint32_t piece) {
    append_header(out, 4, MsgId::suggest);
    put32(out, piece);
}

void append_port(std::string& out, uint16_t port) {
    append_header(out, 2, MsgId::port);
    out.push_back(char(port >> 8));
    out.push_back(char(port));
}

void append_extended(std::string& out, uint8_t ext_id, std::string_view payload) {
    append_header(out, uint32_t(payload.size() + 1), MsgId::extended);
    out.push_back(char(ext_id));
    out.append(payload);
}

void append_piece_header(std::string& out, uint32_t piece, uint32_t begin, uint32_t len) {
    append_header(out, 8 + len, MsgId::piece);
    put32(out, piece);
    put32(out, begin);
}

uint64_t frame_length_needed(std::string_view buf) {
    if (buf.size() < 4) return 0;
    return 4 + uint64_t(get32(buf.data()));
}

namespace {

ParseResult fail(std::string msg) {
    ParseResult r;
    r.status = ParseStatus::error;
    r.error = std::move(msg);
    return r;
}

// Payload size (after the id byte) a fixed-size message must have; -1 for
// variable-size or unknown ids.
int64_t fixed_payload(MsgId id) {
    switch (id) {
        case MsgId::choke:
        case MsgId::unchoke:
        case MsgId::interested:
        case MsgId::not_interested:
        case MsgId::have_all:
        case MsgId::have_none: return 0;
        case MsgId::have:
        case MsgId::suggest:
        case MsgId::allowed_fast: return 4;
        case MsgId::request:
        case MsgId::cancel:
        case MsgId::reject: return 12;
        case MsgId::port: return 2;
        default: return -1;
    }
}

bool known_id(uint8_t id) { return id <= 9 || (id >= 13 && id <= 17) || id == 20; }

}  // namespace

ParseResult parse_message(std::string_view buf, uint32_t max_message_length) {
    if (buf.size() < 4) return {};
    uint32_t len = get32(buf.data());
    if (len > max_message_length) {
        return fail("message length " + std::to_string(len) + " exceeds limit " + std::to_string(max_message_length));
    }
    if (len == 0) {
        ParseResult r;
        r.status = ParseStatus::message;
        r.consumed = 4;
        r.msg.keepalive = true;
        return r;
    }
    // Unknown ids are returned as messages (payload = everything after the
    // id) for the caller to skip: like libtorrent, a message we do not know
    // is ignored as long as it is within the length limit, so a peer using
    // an extension we never heard of is not cut off.
    if (buf.size() < 5) return {};
    uint8_t raw_id = uint8_t(buf[4]);
    MsgId id = MsgId(raw_id);
    int64_t fixed = fixed_payload(id);
    if (fixed >= 0 && int64_t(len) - 1 != fixed) {
        return fail(std::string(msg_name(id)) + " message of length " + std::to_string(len));
    }
    if (id == MsgId::piece && len < 9) return fail("piece message of length " + std::to_string(len));
    if (id == MsgId::extended && len < 2) return fail("extended message of length " + std::to_string(len));
    if (buf.size() - 4 < len) return {};

    ParseResult r;
    r.status = ParseStatus::message;
    r.consumed = 4 + size_t(len);
    Message& m = r.msg;
    m.id = id;
    const char* p = buf.data() + 5;
    size_t plen = len - 1;
    switch (id) {
        case MsgId::have:
        case MsgId::suggest:
        case MsgId::allowed_fast: m.piece = get32(p); break;
        case MsgId::request:
        case MsgId::cancel:
        case MsgId::reject:
            m.piece = get32(p);
            m.begin = get32(p + 4);
            m.length = get32(p + 8);
            break;
        case MsgId::port: m.port = uint16_t(uint8_t(p[0]) << 8 | uint8_t(p[1])); break;
        case MsgId::bitfield: m.payload = std::string_view(p, plen); break;
        case MsgId::piece:
            m.piece = get32(p);
            m.begin = get32(p + 4);
            m.payload = std::string_view(p + 8, plen - 8);
            m.length = uint32_t(plen - 8);
            break;
        case MsgId::extended:
            m.ext_id = uint8_t(p[0]);
            m.payload = std::string_view(p + 1, plen - 1);
            break;
        default:
            if (!known_id(raw_id)) m.payload = std::string_view(p, plen);
            break;
    }
    return r;
}

std::optional<std::string> check_block_request(uint32_t piece, uint32_t begin, uint32_t length, uint32_t num_pieces,
                                               int64_t piece_size_of_that_piece, uint32_t max_block) {
    if (piece >= num_pieces) {
        return "request for piece " + std::to_string(piece) + " of " + std::to_string(num_pieces);
    }
    if (length == 0) return std::string("request of length 0");
    if (length > max_block) {
        return "request of " + std::to_string(length) + " bytes exceeds " + std::to_string(max_block);
    }
    if (int64_t(begin) + int64_t(length) > piece_size_of_that_piece) {
        return "request " + std::to_string(begin) + "+" + std::to_string(length) + " past the end of piece " +
               std::to_string(piece) + " (" + std::to_string(piece_size_of_that_piece) + " bytes)";
    }
    return std::nullopt;
}

}  // namespace btl
