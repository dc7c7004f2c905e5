// UDP tracker replies on the shared listen-port socket (net/udp_tracker_mux):
// a datagram of 8 bytes or more whose transaction id (bytes 4..8,
// big-endian) is awaited reaches exactly that request; any other is counted
// and shown to every waiting request (each checks source and id itself); a
// handler that forgets its id while it runs (as an answered request does)
// is safe.
//
// Input layout: byte 0 = how many transaction ids wait (0..7), then 4 bytes
// per id, the rest is the datagram.
#include <memory>
#include <string>
#include <string_view>

#include "btl/net/udp_tracker_mux.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_udp_demux) {
    ByteReader in(data, size);
    UdpTrackerMux mux{std::shared_ptr<UdpSocket>()};
    const int n = in.u8() & 7;
    uint32_t ids[8] = {};
    int hits[8] = {};
    int own[8] = {};  // datagrams carrying the handler's own id
    uint32_t tid = 0;
    std::string_view pkt;
    for (int i = 0; i < n; ++i) {
        for (int b = 0; b < 4; ++b) ids[i] = ids[i] << 8 | in.u8();
        const bool fresh = mux.expect(ids[i], [&, i](const sockaddr*, std::string_view d) {
            ++hits[i];
            if (d.size() >= 8 && tid == ids[i]) {
                ++own[i];
                mux.forget(ids[i]);  // what an answered request does, inside the call
            }
        });
        bool dup = false;
        for (int j = 0; j < i; ++j) dup = dup || ids[j] == ids[i];
        BTL_FUZZ_CHECK(fresh == !dup);
    }
    const size_t waiting = mux.waiting();
    pkt = std::string_view(reinterpret_cast<const char*>(in.rest()), in.remaining());
    if (pkt.size() >= 8)
        for (size_t i = 4; i < 8; ++i) tid = tid << 8 | uint8_t(pkt[i]);
    sockaddr_storage from{};
    mux.on_datagram(reinterpret_cast<const sockaddr*>(&from), pkt);
    int matched = 0, heard = 0;
    for (int i = 0; i < n; ++i) matched += own[i], heard += hits[i] > 0;
    BTL_FUZZ_CHECK(matched <= 1);
    BTL_FUZZ_CHECK(mux.unmatched() == uint64_t(1 - matched));
    BTL_FUZZ_CHECK(mux.waiting() == waiting - size_t(matched));
    // Matched: that one handler alone; unmatched: every distinct waiter once.
    if (matched == 1)
        BTL_FUZZ_CHECK(heard == 1);
    else if (pkt.size() >= 8)
        BTL_FUZZ_CHECK(size_t(heard) == waiting);
    else
        BTL_FUZZ_CHECK(heard == 0);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_udp_demux)
