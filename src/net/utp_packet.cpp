#include "btl/net/utp_packet.hpp"

namespace btl {

namespace {

uint16_t get16(std::string_view p, size_t at) { return uint16_t(uint8_t(p[at]) << 8 | uint8_t(p[at + 1])); }
uint32_t get32(std::string_view p, size_t at) { return uint32_t(get16(p, at)) << 16 | get16(p, at + 2); }
void put16(std::string& o, uint16_t v) {
    o.push_back(char(v >> 8));
    o.push_back(char(v));
}
void put32(std::string& o, uint32_t v) {
    put16(o, uint16_t(v >> 16));
    put16(o, uint16_t(v));
}

}  // namespace

Result<UtpPacket> parse_utp_packet(std::string_view d) {
    if (d.size() < kUtpHeaderSize) return make_error("uTP packet shorter than its 20-byte header", d.size());
    const uint8_t b0 = uint8_t(d[0]);
    if ((b0 & 0x0f) != 1) return make_error("uTP packet of unknown version " + std::to_string(b0 & 0x0f), 0);
    if ((b0 >> 4) > 4) return make_error("uTP packet of unknown type " + std::to_string(b0 >> 4), 0);
    UtpPacket p;
    p.h.type = UtpType(b0 >> 4);
    p.h.conn_id = get16(d, 2);
    p.h.ts_us = get32(d, 4);
    p.h.ts_diff_us = get32(d, 8);
    p.h.wnd = get32(d, 12);
    p.h.seq = get16(d, 16);
    p.h.ack = get16(d, 18);
    uint8_t ext = uint8_t(d[1]);
    size_t at = kUtpHeaderSize;
    for (size_t n = 0; ext != 0; ++n) {
        if (n == kUtpMaxExtensions) return make_error("uTP packet with too many extensions", at);
        if (d.size() - at < 2) return make_error("uTP extension header past the end of the packet", at);
        const uint8_t next = uint8_t(d[at]);
        const size_t len = uint8_t(d[at + 1]);
        if (d.size() - at - 2 < len) return make_error("uTP extension longer than the packet", at);
        if (ext == 1) {
            // BEP 29 asks for multiples of 4; libtorrent sends any length.
            if (len == 0 || len > kUtpMaxSackBytes)
                return make_error("uTP selective ACK of " + std::to_string(len) + " bytes", at);
            if (!p.sack.empty()) return make_error("uTP packet with two selective ACKs", at);
            p.sack = d.substr(at + 2, len);
        }
        ext = next;
        at += 2 + len;
    }
    p.payload = d.substr(at);
    return p;
}

void encode_utp_packet(const UtpHeader& h, std::string_view sack, std::string_view payload, std::string& out) {
    out.reserve(out.size() + kUtpHeaderSize + (sack.empty() ? 0 : 2 + sack.size()) + payload.size());
    out.push_back(char(uint8_t(h.type) << 4 | 1));
    out.push_back(char(sack.empty() ? 0 : 1));
    put16(out, h.conn_id);
    put32(out, h.ts_us);
    put32(out, h.ts_diff_us);
    put32(out, h.wnd);
    put16(out, h.seq);
    put16(out, h.ack);
    if (!sack.empty()) {
        out.push_back(0);
        out.push_back(char(sack.size()));
        out.append(sack);
    }
    out.append(payload);
}

}  // namespace btl
