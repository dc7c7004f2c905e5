// uTP (BEP 29) packets: the 20-byte header, the extension chain and the
// selective-ACK bitmask.
//
// Layout (big-endian): type<<4|version, first extension, connection id,
// timestamp (µs), timestamp difference (µs), receive window, seq_nr, ack_nr,
// then extensions as (next, length, bytes) and the payload.  The decoder is
// strict and bounded: version 1 only, types 0-4, at most kMaxExtensions
// extensions that must fit the datagram, a selective ACK of 1..kMaxSackBytes
// bytes (BEP 29 says multiples of 4, but libtorrent sends any length — it
// sends one byte); unknown extensions are skipped.  We send multiples of 4.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "btl/base/result.hpp"

namespace btl {

enum class UtpType : uint8_t { Data = 0, Fin = 1, State = 2, Reset = 3, Syn = 4 };

inline constexpr size_t kUtpHeaderSize = 20;
inline constexpr size_t kUtpMaxExtensions = 8;
inline constexpr size_t kUtpMaxSackBytes = 128;  // 1024 packets past ack_nr+1

struct UtpHeader {
    UtpType type = UtpType::Data;
    uint16_t conn_id = 0;
    uint32_t ts_us = 0;
    uint32_t ts_diff_us = 0;
    uint32_t wnd = 0;
    uint16_t seq = 0;
    uint16_t ack = 0;
};

struct UtpPacket {
    UtpHeader h;
    std::string_view sack;     // selective-ACK bitmask (empty: none)
    std::string_view payload;  // views into the datagram
};

// True when the first byte looks like uTP: type 0-4 in the high nibble,
// version 1 in the low one (other UDP traffic on the port starts otherwise).
inline bool utp_first_byte(uint8_t b) { return (b & 0x0f) == 1 && (b >> 4) <= 4; }

Result<UtpPacket> parse_utp_packet(std::string_view datagram);

// Appends the encoded packet to out (header, a selective ACK if sack is not
// empty — its size must be a multiple of 4 — then the payload).
void encode_utp_packet(const UtpHeader& h, std::string_view sack, std::string_view payload, std::string& out);

// Bit i of a selective-ACK mask stands for seq ack_nr + 2 + i.
inline bool utp_sack_bit(std::string_view sack, size_t i) {
    return i / 8 < sack.size() && (uint8_t(sack[i / 8]) >> (i % 8)) & 1;
}

}  // namespace btl
