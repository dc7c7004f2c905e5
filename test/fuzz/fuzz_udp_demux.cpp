// UDP tracker replies on the shared listen-port socket (net/udp_tracker_mux):
// any datagram reaches exactly the request waiting for its transaction id
// (bytes 4..8, big-endian), or none and is counted; a handler that forgets
// its id while it runs (every request does once answered) is safe.
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
    for (int i = 0; i < n; ++i) {
        for (int b = 0; b < 4; ++b) ids[i] = ids[i] << 8 | in.u8();
        const bool fresh = mux.expect(ids[i], [&, i](const sockaddr*, std::string_view d) {
            ++hits[i];
            BTL_FUZZ_CHECK(d.size() >= 8);
            mux.forget(ids[i]);  // what an answered request does, inside the call
        });
        bool dup = false;
        for (int j = 0; j < i; ++j) dup = dup || ids[j] == ids[i];
        BTL_FUZZ_CHECK(fresh == !dup);
    }
    const size_t waiting = mux.waiting();
    std::string_view pkt(reinterpret_cast<const char*>(in.rest()), in.remaining());
    sockaddr_storage from{};
    mux.on_datagram(reinterpret_cast<const sockaddr*>(&from), pkt);
    int total = 0;
    for (int i = 0; i < n; ++i) total += hits[i];
    BTL_FUZZ_CHECK(total <= 1);
    BTL_FUZZ_CHECK(uint64_t(1 - total) == mux.unmatched());
    BTL_FUZZ_CHECK(mux.waiting() == waiting - size_t(total));
    if (total == 1) {
        uint32_t tid = 0;
        for (size_t i = 4; i < 8; ++i) tid = tid << 8 | uint8_t(pkt[i]);
        for (int i = 0; i < n; ++i)
            if (hits[i]) BTL_FUZZ_CHECK(ids[i] == tid);
    }
    // The same datagram again: its id was forgotten, so nobody hears it.
    mux.on_datagram(reinterpret_cast<const sockaddr*>(&from), pkt);
    int again = 0;
    for (int i = 0; i < n; ++i) again += hits[i];
    BTL_FUZZ_CHECK(again == total);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_udp_demux)
