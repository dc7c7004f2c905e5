// Issue 12, defect 4: how many requests we keep in flight to one peer.
// The pure sizing rules, then a real Torrent and a scripted seed that
// answers everything at once (so slow start would grow without a cap).
#include <doctest/doctest.h>

#include "btl/engine/peer.hpp"
#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

TEST_CASE("peer queue: the cap stays strictly below the peer's reqq, 250 until it says one") {
    CHECK(request_queue_cap(0) == 250);
    CHECK(request_queue_cap(512) == 511);  // Transmission 3.00
    CHECK(request_queue_cap(250) == 249);
    CHECK(request_queue_cap(2) == 1);
    CHECK(request_queue_cap(1) == 1);  // one request must still be possible
    CHECK(request_queue_cap(100000) == kRequestQueueMax);
}

TEST_CASE("peer queue: the target is about 1.5 s of the measured rate, within [16, cap]") {
    // 10 MB/s: 1.5 s is ~915 blocks, capped.
    CHECK(request_queue_target(10e6, 16, 250) == 250);
    CHECK(request_queue_target(10e6, 16, 511) == 511);
    // 1 MB/s: 1.5 s is 91 blocks.
    CHECK(request_queue_target(1e6, 16, 250) == 91);
    // Idle: decays by half per tick, never below the minimum.
    CHECK(request_queue_target(0, 200, 250) == 100);
    CHECK(request_queue_target(0, 16, 250) == 16);
    CHECK(request_queue_target(0, 1, 1) == 1);
    // A lower cap (a reqq learned later) wins over the current size.
    CHECK(request_queue_target(0, 400, 100) == 100);
}

TEST_CASE("peer queue: slow start between ticks does not push a steady peer past ~1.5 s of data") {
    // A peer delivering R blocks a second: each block received adds one to
    // the target (slow start), each 1 s tick recomputes it.  The settled
    // queue is what a shared seed sees in flight from each leecher.
    for (double r : {30.0, 120.0}) {
        size_t q = kRequestQueueMin;
        for (int tick = 0; tick < 50; ++tick) {
            q = std::min<size_t>(q + size_t(r), 1000);  // one more per block received
            q = request_queue_target(r * 16384, q, 1000);
        }
        CAPTURE(r);
        CHECK(q >= size_t(r * kRequestQueueSeconds) - 1);  // the pipe stays full
        CHECK(q <= size_t(r * kRequestQueueSeconds) + 1);  // and no deeper (was 3 R)
    }
}

TEST_CASE("peer queue: a seed that answers every request at once never has more than 250 in flight") {
    constexpr uint32_t kB = 16384;
    constexpr uint32_t kPieces = 400;  // 800 blocks, more than the cap
    Harness h(make_content(kPieces, 2 * kB));
    RemotePeer p(h.host, *h.t, "10.0.0.9");
    Bitfield all(kPieces);
    all.set_all();
    p.bitfield(all);
    p.simple(MsgId::unchoke);
    size_t in_flight = 0, most = 0, answered = 0;
    std::vector<SentMessage> pending;
    for (int round = 0; round < 2000 && answered < 2 * kPieces; ++round) {
        for (const auto& r : RemotePeer::of(p.sent(), MsgId::request)) pending.push_back(r);
        in_flight = pending.size();
        most = std::max(most, in_flight);
        REQUIRE(in_flight <= kRequestQueueUnknownCap);
        if (pending.empty()) {
            h.host.now += 1000;
            h.t->tick(h.host.now);
            h.host.pump();
            continue;
        }
        // Answer half of what is outstanding, so the refill happens while
        // the queue is still deep.
        size_t n = std::max<size_t>(1, pending.size() / 2);
        for (size_t i = 0; i < n; ++i) {
            const auto& r = pending[i];
            p.block(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
            ++answered;
        }
        pending.erase(pending.begin(), pending.begin() + long(n));
        h.host.pump();
    }
    CHECK(answered == 2 * kPieces);
    CHECK(most > 200);  // it did grow (slow start) up to near the cap
    CHECK(h.t->status(false).pieces_have == kPieces);
}
