#include <doctest/doctest.h>

#include "btl/core/peer_book.hpp"

using namespace btl;

namespace {
PeerEndpoint ep(const std::string& ip, uint16_t port = 6881) { return PeerEndpoint{ip, port}; }
constexpr int64_t T0 = 1'000'000;
}  // namespace

TEST_CASE("peer book: an offered address is dialled once, not again while the dial runs") {
    PeerBook b;
    CHECK(b.offered(ep("10.0.0.1"), T0));
    auto a = b.next_eligible(T0);
    REQUIRE(a);
    CHECK(a->to_string() == "10.0.0.1:6881");
    CHECK(b.state("10.0.0.1:6881") == PeerBook::State::dialling);
    CHECK(b.last_attempt("10.0.0.1:6881") == T0);
    CHECK_FALSE(b.next_eligible(T0 + 3'600'000));
    CHECK_FALSE(b.offered(ep("10.0.0.1"), T0 + 1));  // a tracker repeating it starts no second dial
    CHECK_FALSE(b.next_eligible(T0 + 1));
}

TEST_CASE("peer book: a failed dial is retried after 10 s, doubling to 30 min") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    int64_t now = T0;
    const int64_t waits[] = {10'000, 20'000, 40'000, 80'000, 160'000, 320'000, 640'000, 1'280'000, 1'800'000, 1'800'000};
    for (int64_t w : waits) {
        REQUIRE(b.next_eligible(now));
        b.closed("10.0.0.1:6881", now + 100);
        CHECK_FALSE(b.next_eligible(now + 100 + w - 1));
        now = now + 100 + w;
    }
    CHECK(b.next_eligible(now));
}

TEST_CASE("peer book: a peer that dropped after a long connection is retried 10 s later") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    for (int i = 0; i < 5; ++i) {  // five quick failures first: a long wait
        REQUIRE(b.next_eligible(T0 + 10'000'000 * i));
        b.closed("10.0.0.1:6881", T0 + 10'000'000 * i);
    }
    int64_t now = T0 + 60'000'000;
    REQUIRE(b.next_eligible(now));
    b.connected("10.0.0.1:6881", now);
    b.closed("10.0.0.1:6881", now + 120'000);  // a seed restarting
    CHECK_FALSE(b.next_eligible(now + 120'000 + 9'999));
    CHECK(b.next_eligible(now + 130'000));
}

TEST_CASE("peer book: a connection that ends quickly counts as a failure") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    REQUIRE(b.next_eligible(T0));
    b.connected("10.0.0.1:6881", T0);
    b.closed("10.0.0.1:6881", T0 + 1000);
    REQUIRE(b.next_eligible(T0 + 11'000));
    b.connected("10.0.0.1:6881", T0 + 11'000);
    b.closed("10.0.0.1:6881", T0 + 12'000);
    CHECK(b.failures("10.0.0.1:6881") == 2);
    CHECK_FALSE(b.next_eligible(T0 + 12'000 + 19'999));
    CHECK(b.next_eligible(T0 + 32'000));
}

TEST_CASE("peer book: a tracker offering a backed-off address again makes it eligible at once") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    for (int i = 0; i < 6; ++i) {
        REQUIRE(b.next_eligible(T0 + 100'000'000 * i));
        b.closed("10.0.0.1:6881", T0 + 100'000'000 * i);
    }
    int64_t now = T0 + 500'001'000;  // 1 s after the sixth failure: 5+ min to wait
    CHECK_FALSE(b.next_eligible(now));
    CHECK(b.offered(ep("10.0.0.1"), now));
    CHECK(b.failures("10.0.0.1:6881") == 0);
    CHECK(b.next_eligible(now));
    b.closed("10.0.0.1:6881", now);  // and the backoff starts again from 10 s
    CHECK_FALSE(b.next_eligible(now + 9'999));
    CHECK(b.next_eligible(now + 10'000));
}

TEST_CASE("peer book: re-check or resume makes every idle address eligible") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    b.offered(ep("10.0.0.2"), T0);
    b.offered(ep("10.0.0.3"), T0);
    for (int i = 0; i < 3; ++i) REQUIRE(b.next_eligible(T0));
    b.closed("10.0.0.1:6881", T0);
    b.closed("10.0.0.2:6881", T0);
    b.connected("10.0.0.3:6881", T0);  // still connected: not dialled twice
    CHECK_FALSE(b.next_eligible(T0 + 1));
    b.make_all_eligible(T0 + 1);
    CHECK(b.next_eligible(T0 + 1));
    CHECK(b.next_eligible(T0 + 1));
    CHECK_FALSE(b.next_eligible(T0 + 1));
    CHECK(b.state("10.0.0.3:6881") == PeerBook::State::connected);
}

TEST_CASE("peer book: the address that waited longest is dialled first") {
    PeerBook b;
    b.offered(ep("10.0.0.9"), T0);
    b.offered(ep("10.0.0.1"), T0 + 5);
    CHECK(b.next_eligible(T0 + 10)->ip == "10.0.0.9");
    CHECK(b.next_eligible(T0 + 10)->ip == "10.0.0.1");
}

TEST_CASE("peer book: a banned address is never dialled, even when offered again") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    b.ban("10.0.0.1:6881");
    CHECK_FALSE(b.next_eligible(T0));
    CHECK_FALSE(b.offered(ep("10.0.0.1"), T0 + 1));
    b.make_all_eligible(T0 + 2);
    CHECK_FALSE(b.next_eligible(T0 + 2));
}

TEST_CASE("peer book: a held duplicate waits until released") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    REQUIRE(b.next_eligible(T0));
    b.hold("10.0.0.1:6881", T0);
    b.closed("10.0.0.1:6881", T0);  // the dropped duplicate's close changes nothing
    CHECK_FALSE(b.offered(ep("10.0.0.1"), T0 + 1));
    CHECK_FALSE(b.next_eligible(T0 + 100'000'000));
    b.release("10.0.0.1:6881", T0 + 5);
    CHECK(b.next_eligible(T0 + 5));
}

TEST_CASE("peer book: an address not seen for an hour is forgotten, a connected one is not") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    b.offered(ep("10.0.0.2"), T0);
    b.offered(ep("10.0.0.3"), T0 + 3'000'000);
    auto first = b.next_eligible(T0);
    REQUIRE(first);
    b.connected(first->to_string(), T0);
    b.prune(T0 + 3'600'000);
    CHECK(b.size() == 2);
    CHECK(b.state(first->to_string()) == PeerBook::State::connected);
    CHECK(b.state("10.0.0.3:6881"));
}

TEST_CASE("peer book: past the cap the addresses seen longest ago are forgotten") {
    PeerBookPolicy p;
    p.max_entries = 100;
    PeerBook b(p);
    for (int i = 0; i < 1000; ++i) b.offered(ep("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)), T0 + i);
    CHECK(b.size() <= 100);
    CHECK(b.waiting() == b.size());
    CHECK(b.state("10.0.3.249:6881"));       // the newest stays
    CHECK_FALSE(b.state("10.0.0.0:6881"));   // the oldest went
}

TEST_CASE("peer book: past the cap, of addresses offered at one moment the first named stay") {
    // A tracker answer of many addresses at once: the real seed among the
    // first must not go for an address order (127.0.0.2 sorts early).
    PeerBookPolicy p;
    p.max_entries = 100;
    PeerBook b(p);
    b.offered(ep("10.9.9.9"), T0);
    b.offered(ep("10.0.0.1"), T0);
    for (int i = 0; i < 1000; ++i) b.offered(ep("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)), T0);
    CHECK(b.size() <= 100);
    CHECK(b.state("10.9.9.9:6881"));
    CHECK(b.state("10.0.0.1:6881"));
    CHECK(b.state("10.1.0.0:6881"));
    CHECK_FALSE(b.state("10.1.2.0:6881"));  // one from the middle of the flood went
}

TEST_CASE("peer book: past the cap, addresses that failed go before untried ones seen earlier") {
    PeerBookPolicy p;
    p.max_entries = 10;
    PeerBook b(p);
    b.offered(ep("10.0.0.1"), T0);  // untried, seen first
    for (int i = 2; i <= 10; ++i) b.offered(ep("10.0.0." + std::to_string(i)), T0 + 100);
    for (int i = 0; i < 10; ++i) {
        auto e = b.next_eligible(T0 + 200);
        REQUIRE(e);
        // The first (seen longest ago) we close ourselves: no failure.
        b.closed(e->to_string(), T0 + 200, e->to_string() == "10.0.0.1:6881");
    }
    REQUIRE(b.failures("10.0.0.1:6881") == 0);
    REQUIRE(b.failures("10.0.0.2:6881") == 1);
    b.offered(ep("10.0.1.1"), T0 + 300);
    CHECK(b.size() <= 10);
    CHECK(b.state("10.0.0.1:6881"));
    CHECK(b.state("10.0.1.1:6881"));
}

TEST_CASE("peer book: a connection we closed ourselves is no failure") {
    PeerBook b;
    b.offered(ep("10.0.0.1"), T0);
    REQUIRE(b.next_eligible(T0));
    b.connected("10.0.0.1:6881", T0);
    b.closed("10.0.0.1:6881", T0 + 10, true);  // re-check, pause
    CHECK(b.failures("10.0.0.1:6881") == 0);
    CHECK(b.next_eligible(T0 + 10));
}
