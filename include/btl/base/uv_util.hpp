// Ownership of libuv handles.  libuv handles may not move and may be freed
// only in their close callback, so UvHandle<T> keeps the handle on the heap
// and, when the owner lets go, calls uv_close() with a callback that deletes
// it.  The handle's `data` pointer is cleared first so a late callback can
// see that its owner is gone.
#pragma once
#include <uv.h>

#include <string>
#include <utility>

namespace btl {

template <class T>
class UvHandle {
public:
    UvHandle() = default;
    // Allocates a handle and runs `init(T*)` (e.g. uv_timer_init); returns an
    // empty UvHandle if init reports an error (the handle is freed directly,
    // since an uninitialised handle cannot be uv_close()d).
    template <class Init>
    static UvHandle create(Init&& init, int* err = nullptr) {
        T* h = new T{};
        int rc = init(h);
        if (err) *err = rc;
        if (rc != 0) {
            delete h;
            return UvHandle();
        }
        return UvHandle(h);
    }
    ~UvHandle() { reset(); }
    UvHandle(const UvHandle&) = delete;
    UvHandle& operator=(const UvHandle&) = delete;
    UvHandle(UvHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    UvHandle& operator=(UvHandle&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }

    T* get() const { return h_; }
    T* operator->() const { return h_; }
    explicit operator bool() const { return h_ != nullptr; }
    uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(h_); }
    uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(h_); }

    void reset() {
        if (!h_) return;
        auto* h = reinterpret_cast<uv_handle_t*>(h_);
        h->data = nullptr;
        if (!uv_is_closing(h)) uv_close(h, [](uv_handle_t* p) { delete reinterpret_cast<T*>(p); });
        h_ = nullptr;
    }

private:
    explicit UvHandle(T* h) : h_(h) {}
    T* h_ = nullptr;
};

inline std::string uv_error_string(int err) { return uv_strerror(err); }

}  // namespace btl
