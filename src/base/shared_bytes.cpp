#include "btl/base/shared_bytes.hpp"

#include <atomic>
#include <mutex>

namespace btl {

namespace {

// A bounded free list; never destroyed (a buffer may be released during
// static destruction).
template <class T>
struct FreeList {
    std::mutex m;
    std::vector<T*> free;
    T* take() {
        std::lock_guard lk(m);
        if (free.empty()) return nullptr;
        T* t = free.back();
        free.pop_back();
        return t;
    }
    bool give(T* t, size_t limit) {
        std::lock_guard lk(m);
        if (free.size() >= limit) return false;
        free.push_back(t);
        return true;
    }
    size_t size() {
        std::lock_guard lk(m);
        return free.size();
    }
};

FreeList<std::vector<uint8_t>>& copies() {
    static auto* f = new FreeList<std::vector<uint8_t>>;
    return *f;
}
FreeList<uint8_t>& slabs() {
    static auto* f = new FreeList<uint8_t>;
    return *f;
}
std::atomic<int64_t> g_live_slabs{0};
std::atomic<uint64_t> g_copies{0};

// Bigger copies (a block is 16 KiB) are not worth keeping.
constexpr size_t kMaxKeptCapacity = 64 * 1024;

}  // namespace

SharedBytes copy_shared_bytes(const void* data, size_t len) {
    ++g_copies;
    std::vector<uint8_t>* v = copies().take();
    if (!v) v = new std::vector<uint8_t>;
    const auto* p = static_cast<const uint8_t*>(data);
    v->assign(p, p + len);
    std::shared_ptr<std::vector<uint8_t>> owner(v, [](std::vector<uint8_t>* b) {
        if (b->capacity() > kMaxKeptCapacity || !copies().give(b, kIdleCopyBuffers)) delete b;
    });
    return SharedBytes(std::move(owner), v->data(), len, v->capacity());
}

size_t idle_copy_buffers() { return copies().size(); }

std::shared_ptr<uint8_t> take_recv_slab(size_t size) {
    if (size != kRecvSlabSize) return std::shared_ptr<uint8_t>(new uint8_t[size], std::default_delete<uint8_t[]>());
    uint8_t* s = slabs().take();
    if (!s) s = new uint8_t[kRecvSlabSize];  // not zeroed: the socket writes before anyone reads
    ++g_live_slabs;
    return std::shared_ptr<uint8_t>(s, [](uint8_t* b) {
        --g_live_slabs;
        if (!slabs().give(b, kIdleRecvSlabs)) delete[] b;
    });
}

size_t idle_recv_slabs() { return slabs().size(); }
int64_t live_recv_slabs() { return g_live_slabs.load(); }
uint64_t shared_bytes_copies() { return g_copies.load(); }

}  // namespace btl
