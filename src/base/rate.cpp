#include "btl/base/rate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace btl {

TokenBucket::TokenBucket(double rate_bytes_per_s, double burst_seconds)
    : rate_(rate_bytes_per_s > 0 ? rate_bytes_per_s : 0),
      burst_seconds_(burst_seconds > 0 ? burst_seconds : 1.0) {
    // Start full so the first burst is not delayed.
    tokens_ = rate_ * burst_seconds_;
}

void TokenBucket::set_rate(double rate_bytes_per_s) {
    bool was_unlimited = unlimited();
    rate_ = rate_bytes_per_s > 0 ? rate_bytes_per_s : 0;
    double burst = rate_ * burst_seconds_;
    if (was_unlimited) tokens_ = burst;
    tokens_ = std::min(tokens_, burst);
}

void TokenBucket::refill(int64_t now_ms) {
    if (!started_) {
        started_ = true;
        last_ms_ = now_ms;
        return;
    }
    if (now_ms <= last_ms_) return;  // clocks that step back give nothing
    int64_t dt = now_ms - last_ms_;
    last_ms_ = now_ms;
    if (unlimited()) return;
    tokens_ = std::min(tokens_ + rate_ * double(dt) / 1000.0, rate_ * burst_seconds_);
}

int64_t TokenBucket::available() const {
    if (unlimited()) return std::numeric_limits<int64_t>::max();
    return int64_t(std::floor(tokens_));
}

bool TokenBucket::consume(int64_t n) {
    if (unlimited()) return true;
    if (n < 0) return false;
    if (double(n) > tokens_) return false;
    tokens_ -= double(n);
    return true;
}

void TokenBucket::force_consume(int64_t n) {
    if (unlimited() || n <= 0) return;
    tokens_ -= double(n);
}

int64_t TokenBucket::ms_until(int64_t n) const {
    if (unlimited() || double(n) <= tokens_) return 0;
    double missing = double(n) - tokens_;
    double ms = std::ceil(missing * 1000.0 / rate_);
    if (ms > 1e15) return int64_t(1e15);
    return int64_t(ms);
}

// Buckets are indexed by second modulo kBuckets+1; head_second_ is the newest
// second written.  Advancing zeroes the buckets of skipped seconds.
void RateMeter::advance(int64_t second) const {
    if (head_second_ == INT64_MIN || second - head_second_ > kBuckets) {
        buckets_.fill(0);
        head_second_ = second;
        return;
    }
    while (head_second_ < second) {
        ++head_second_;
        buckets_[size_t(head_second_ % (kBuckets + 1))] = 0;
    }
}

void RateMeter::add(int64_t bytes, int64_t now_ms) {
    if (bytes <= 0 || now_ms < 0) return;
    if (first_ms_ < 0) first_ms_ = now_ms;
    int64_t sec = now_ms / 1000;
    if (head_second_ != INT64_MIN && sec < head_second_) sec = head_second_;  // time went back
    advance(sec);
    buckets_[size_t(sec % (kBuckets + 1))] += bytes;
    total_ += bytes;
}

// The window is the kBuckets complete seconds before the current one plus the
// current partial second; dividing by the real elapsed span (not a fixed 5 s)
// keeps the figure right just after the first byte and smooth afterwards.
double RateMeter::rate(int64_t now_ms) const {
    if (first_ms_ < 0 || now_ms < 0) return 0;
    int64_t sec = now_ms / 1000;
    if (sec < head_second_) sec = head_second_;
    advance(sec);
    int64_t sum = 0;
    for (int64_t s = sec - kBuckets; s <= sec; ++s) {
        if (s < 0) continue;
        sum += buckets_[size_t(s % (kBuckets + 1))];
    }
    // Oldest bucket counted is second sec-kBuckets, which starts at this ms.
    int64_t window_start = std::max<int64_t>((sec - kBuckets) * 1000, first_ms_);
    int64_t span_ms = std::max<int64_t>(now_ms - window_start, 1000);
    return double(sum) * 1000.0 / double(span_ms);
}

}  // namespace btl
