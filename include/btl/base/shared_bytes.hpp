// SharedBytes: a read-only byte range kept alive by a shared owner, either a
// buffer of its own or a slice of a bigger one.  A received block travels
// as a slice of the socket's read slab (net/peer_connection.hpp) from the
// socket to its write and hash on the pool, without being copied.
//
// Recycled memory: buffers are handed back to a bounded free list when the
// last reference goes (any thread) instead of to malloc.  Freed in bursts of
// a write job's worth, they let malloc trim the top of the heap and fault it
// in again for the next blocks (measured: copying into fresh pages cost
// twice the socket's own copy, and brk churned).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace btl {

class SharedBytes {
public:
    SharedBytes() = default;
    // A slice [data, data+size) of memory `owner` keeps alive; `footprint`
    // is what the owner holds in all (the whole slab for a slice).
    SharedBytes(std::shared_ptr<const void> owner, const uint8_t* data, size_t size, size_t footprint)
        : owner_(std::move(owner)), data_(data), size_(size), footprint_(footprint) {}
    // A whole vector.
    SharedBytes(std::shared_ptr<std::vector<uint8_t>> v)  // NOLINT: implicit on purpose
        : data_(v ? v->data() : nullptr), size_(v ? v->size() : 0), footprint_(v ? v->capacity() : 0) {
        owner_ = std::move(v);
    }

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
    // Bytes the owner keeps alive for this range (>= size()).
    size_t footprint() const { return footprint_; }
    explicit operator bool() const { return owner_ != nullptr; }
    void reset() { *this = SharedBytes(); }

private:
    std::shared_ptr<const void> owner_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0, footprint_ = 0;
};

// A copy of [data, data+len) in a recycled buffer (up to kIdleCopyBuffers
// of them wait for reuse, buffers up to 64 KiB).
SharedBytes copy_shared_bytes(const void* data, size_t len);
constexpr size_t kIdleCopyBuffers = 256;  // 4 MiB of 16 KiB blocks
size_t idle_copy_buffers();               // for tests

// Read slabs: kRecvSlabSize bytes, uninitialised (every byte read is
// written by the socket first), recycled like the copies (up to
// kIdleRecvSlabs).  Any other size is a plain allocation.
constexpr size_t kRecvSlabSize = 4 * (13 + 16384);  // four piece messages of a 16 KiB block
constexpr size_t kIdleRecvSlabs = 64;
std::shared_ptr<uint8_t> take_recv_slab(size_t size);
size_t idle_recv_slabs();  // for tests
// For tests: slabs of kRecvSlabSize handed out and not yet released (a
// leak shows here), and copies made by copy_shared_bytes so far.
int64_t live_recv_slabs();
uint64_t shared_bytes_copies();

}  // namespace btl
