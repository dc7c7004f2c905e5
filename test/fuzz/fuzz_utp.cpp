// uTP packets (BEP 29): any datagram either fails with a message or decodes
// to what its bytes say (header fields, a selective ACK of 1..128 bytes,
// the payload at the end), and re-encoding the decoded
// packet decodes to the same fields.  The rest of the input then drives a
// connection: a socket that accepted a SYN takes every further packet the
// input holds, and its counters stay within their bounds.
#include <algorithm>
#include <string>
#include <string_view>

#include "btl/net/utp_socket.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

void check_round_trip(std::string_view pkt, const UtpPacket& p) {
    BTL_FUZZ_CHECK(pkt.size() >= kUtpHeaderSize);
    BTL_FUZZ_CHECK(utp_first_byte(uint8_t(pkt[0])));
    BTL_FUZZ_CHECK(p.sack.size() <= kUtpMaxSackBytes);
    BTL_FUZZ_CHECK(p.payload.data() + p.payload.size() == pkt.data() + pkt.size());
    std::string again;
    encode_utp_packet(p.h, p.sack, p.payload, again);
    auto q = parse_utp_packet(again);
    BTL_FUZZ_CHECK(q.ok());
    BTL_FUZZ_CHECK(q->h.type == p.h.type && q->h.conn_id == p.h.conn_id && q->h.ts_us == p.h.ts_us);
    BTL_FUZZ_CHECK(q->h.ts_diff_us == p.h.ts_diff_us && q->h.wnd == p.h.wnd);
    BTL_FUZZ_CHECK(q->h.seq == p.h.seq && q->h.ack == p.h.ack);
    BTL_FUZZ_CHECK(q->sack == p.sack && q->payload == p.payload);
}

}  // namespace

// Input: a sequence of (2-byte big-endian length, packet) records.
BTL_FUZZ_DECLARE(fuzz_utp) {
    ByteReader in(data, size);
    uint64_t clock = 1000000;
    UtpConfig cfg;
    cfg.recv_window = 16 * 1024;
    size_t sent = 0;
    UtpSocket sock(cfg, [&] { return clock; }, [&](std::string_view) { ++sent; });
    bool accepted = false;
    while (in.remaining() > 0) {
        const size_t hi = in.u8();
        const size_t lo = in.u8();
        const size_t len = std::min<size_t>((hi << 8 | lo) % 1600, in.remaining());
        std::string_view pkt(reinterpret_cast<const char*>(in.rest()), len);
        for (size_t i = 0; i < len; ++i) in.u8();
        auto r = parse_utp_packet(pkt);
        if (!r.ok()) {
            BTL_FUZZ_CHECK(!r.error().message.empty());
            continue;
        }
        check_round_trip(pkt, *r);
        if (!accepted && r->h.type == UtpType::Syn) {
            sock.accept(*r, 100);
            accepted = true;
        } else if (accepted) {
            sock.incoming(*r);
            sock.write(std::string(300, 'x'));
            sock.flush();
        }
        clock += 50000;
        sock.tick();
        BTL_FUZZ_CHECK(sock.received().size() <= cfg.recv_window + 65536);
        BTL_FUZZ_CHECK(sock.in_flight() <= sock.pending_bytes());
        BTL_FUZZ_CHECK(sock.cwnd() >= cfg.max_payload && sock.cwnd() <= cfg.max_cwnd);
    }
    return 0;
}

BTL_FUZZ_ENTRY(fuzz_utp)

}  // namespace btl::fuzz
