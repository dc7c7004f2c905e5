// Rate limiting and measurement, pure: the caller passes the time in (ms on
// any monotonic clock), so tests need no clock.
//
// TokenBucket: a classic token bucket.  Tokens accrue at `rate` bytes/s up to
// a burst of rate*burst_seconds; consume() takes tokens if enough are there,
// force_consume() takes them anyway (the balance may go negative, e.g. when a
// whole 16 KiB block must go out), and ms_until() says how long to wait.  A
// rate of 0 means unlimited: consume() always succeeds.
//
// RateMeter: bytes/s over a sliding window of 5 whole seconds plus the
// current partial one (1 s buckets), divided by the time that window really
// covers, so the figure neither saw-tooths at second boundaries nor reads
// low just after the first byte.  Memory is constant.
#pragma once
#include <array>
#include <cstdint>

namespace btl {

class TokenBucket {
public:
    explicit TokenBucket(double rate_bytes_per_s = 0, double burst_seconds = 1.0);

    // Changing the rate keeps the current balance (clamped to the new burst).
    void set_rate(double rate_bytes_per_s);
    double rate() const { return rate_; }
    bool unlimited() const { return rate_ <= 0; }

    // Adds the tokens accrued since the last refill.  Time going backwards
    // is ignored.  The first call only records the time.
    void refill(int64_t now_ms);
    // Whole tokens available now (may be negative after force_consume);
    // INT64_MAX when unlimited.
    int64_t available() const;
    bool consume(int64_t n);
    void force_consume(int64_t n);
    // Milliseconds until n tokens will be available (0 if now; 0 when
    // unlimited).  n larger than the burst still gets a finite answer.
    int64_t ms_until(int64_t n) const;

private:
    double rate_ = 0;
    double burst_seconds_ = 1.0;
    double tokens_ = 0;
    int64_t last_ms_ = 0;
    bool started_ = false;
};

class RateMeter {
public:
    static constexpr int kBuckets = 5;       // seconds of history
    void add(int64_t bytes, int64_t now_ms);
    double rate(int64_t now_ms) const;       // bytes per second
    int64_t total() const { return total_; }

private:
    void advance(int64_t second) const;
    mutable std::array<int64_t, kBuckets + 1> buckets_{};  // ring, by second
    mutable int64_t head_second_ = INT64_MIN;              // second of the newest bucket
    int64_t first_ms_ = -1;
    int64_t total_ = 0;
};

}  // namespace btl
