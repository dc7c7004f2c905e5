// Result<T>: a value or an Error (a human-readable message plus, for parsers,
// the byte offset where the input went wrong).  Parsing and protocol code
// returns these instead of throwing, because errors must never unwind through
// libuv callbacks and every user-caused error must reach the user as one line.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace btl {

struct Error {
    static constexpr size_t no_offset = static_cast<size_t>(-1);
    std::string message;
    size_t offset = no_offset;
    // For operating-system failures: the errno behind it (0 otherwise), so
    // callers can tell a full disk from a missing file without parsing text.
    int sys_errno = 0;

    // "message" or "message (at byte N)"
    std::string describe() const {
        if (offset == no_offset) return message;
        return message + " (at byte " + std::to_string(offset) + ")";
    }
};

inline Error make_error(std::string msg, size_t offset = Error::no_offset) {
    return Error{std::move(msg), offset};
}

inline Error make_sys_error(std::string msg, int sys_errno) {
    return Error{std::move(msg), Error::no_offset, sys_errno};
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T v) : v_(std::move(v)) {}                // NOLINT: implicit by design
    Result(Error e) : v_(std::move(e)) {}            // NOLINT
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

// For operations that produce nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace btl
