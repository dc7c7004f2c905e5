#include <doctest/doctest.h>

#include <cmath>

#include "btl/base/rate.hpp"

using namespace btl;

TEST_CASE("token bucket: unlimited") {
    TokenBucket t;
    CHECK(t.unlimited());
    CHECK(t.consume(1'000'000'000));
    CHECK(t.ms_until(1 << 30) == 0);
    t.force_consume(5);
    CHECK(t.available() > 1'000'000'000);
}

TEST_CASE("token bucket: refill, burst cap, consume") {
    TokenBucket t(1000, 2.0);  // 1000 B/s, burst 2000
    t.refill(0);
    CHECK(t.available() == 2000);  // starts full
    CHECK(t.consume(1500));
    CHECK_FALSE(t.consume(600));
    CHECK(t.available() == 500);
    t.refill(100);  // +100
    CHECK(t.available() == 600);
    CHECK(t.consume(600));
    t.refill(100000);
    CHECK(t.available() == 2000);  // capped at burst
    t.refill(50000);               // time going back: ignored
    CHECK(t.available() == 2000);
}

TEST_CASE("token bucket: force_consume goes negative, ms_until") {
    TokenBucket t(1000, 1.0);
    t.refill(0);
    t.force_consume(3000);
    CHECK(t.available() == -2000);
    CHECK_FALSE(t.consume(1));
    CHECK(t.ms_until(0) == 2000);
    CHECK(t.ms_until(1000) == 3000);
    t.refill(2000);
    CHECK(t.available() == 0);
    CHECK(t.ms_until(0) == 0);
    // Asking for more than the burst still has an answer.
    CHECK(t.ms_until(5000) == 5000);
}

TEST_CASE("token bucket: set_rate") {
    TokenBucket t(0);
    t.refill(0);
    t.set_rate(100);
    CHECK_FALSE(t.unlimited());
    CHECK(t.available() == 100);
    t.set_rate(10);
    CHECK(t.available() == 10);  // clamped to the smaller burst
    t.set_rate(0);
    CHECK(t.unlimited());
}

TEST_CASE("rate meter: steady rate, decay, total") {
    RateMeter m;
    CHECK(m.rate(0) == 0);
    for (int64_t ms = 0; ms < 20000; ms += 100) m.add(1000, ms);  // 10 kB/s
    CHECK(m.total() == 200 * 1000);
    double r = m.rate(20000);
    CHECK(std::abs(r - 10000) < 1000);
    r = m.rate(19950);
    CHECK(std::abs(r - 10000) < 1000);
    // Silence: the rate falls to zero once the window has passed.
    CHECK(m.rate(23000) < r);
    CHECK(m.rate(27000) == 0);
    CHECK(m.total() == 200 * 1000);
}

TEST_CASE("rate meter: first second is not inflated") {
    RateMeter m;
    m.add(5000, 10'000);
    double r = m.rate(10'100);
    CHECK(r <= 5000.0 + 1e-9);
    CHECK(r > 0);
    m.add(-5, 10'200);  // ignored
    CHECK(m.total() == 5000);
    m.add(10, 5'000);  // time going back: counted in the current second
    CHECK(m.total() == 5010);
}
