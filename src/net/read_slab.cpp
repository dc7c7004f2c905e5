#include "btl/net/read_slab.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace btl {

namespace {
// Nobody else holds the slab: only this thread makes new references (keep),
// others only drop theirs, so a count of 1 stays 1.  The fence orders our
// next writes after their last reads (their release of the reference).
bool sole_owner(const std::shared_ptr<uint8_t>& s) {
    if (s.use_count() != 1) return false;
    std::atomic_thread_fence(std::memory_order_acquire);
    return true;
}
}  // namespace

uint8_t* ReadSlab::space(size_t* len) {
    if (!slab_) {
        cap_ = std::min(kRecvSlabSize, max_);
        slab_ = take_recv_slab(cap_);
        start_ = end_ = 0;
    }
    if (end_ == cap_) {
        const size_t tail = end_ - start_;
        // One message fills the slab: grow.  Otherwise back to the usual
        // size, unless the tail needs the bigger one it is in.
        const size_t usual = std::min(kRecvSlabSize, max_);
        const size_t ncap = start_ == 0 ? std::min(cap_ * 2, max_) : tail < usual ? usual : cap_;
        if (tail == ncap) {
            *len = 0;
            return nullptr;
        }
        if (ncap == cap_ && sole_owner(slab_)) {
            std::memmove(slab_.get(), slab_.get() + start_, tail);
        } else {
            auto fresh = take_recv_slab(ncap);
            std::memcpy(fresh.get(), slab_.get() + start_, tail);
            slab_ = std::move(fresh);
            cap_ = ncap;
        }
        start_ = 0;
        end_ = tail;
    }
    *len = cap_ - end_;
    return slab_.get() + end_;
}

void ReadSlab::consume(size_t n) {
    start_ += std::min(n, end_ - start_);
    // Back to the start only when nobody holds a slice of what was read.
    if (start_ == end_ && sole_owner(slab_)) start_ = end_ = 0;
}

SharedBytes ReadSlab::keep(std::string_view bytes) const {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    if (slab_ && p >= slab_.get() && p + bytes.size() <= slab_.get() + end_)
        return SharedBytes(std::shared_ptr<const void>(slab_), p, bytes.size(), cap_);
    return copy_shared_bytes(bytes.data(), bytes.size());
}

}  // namespace btl
