// SHA-1 through OpenSSL's EVP interface (which uses SHA-NI where the CPU has
// it).  Sha1Hasher is incremental so pieces can be hashed block by block as
// they arrive; one hasher must only be used from one thread at a time.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace btl {

using Sha1Digest = std::array<uint8_t, 20>;

class Sha1Hasher {
public:
    Sha1Hasher();
    ~Sha1Hasher();
    Sha1Hasher(const Sha1Hasher&) = delete;
    Sha1Hasher& operator=(const Sha1Hasher&) = delete;

    void reset();
    void update(const void* data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    Sha1Digest finish();  // also resets, ready for the next message

private:
    void* ctx_;  // EVP_MD_CTX*, kept opaque so callers need no OpenSSL headers
};

Sha1Digest sha1(const void* data, size_t len);
inline Sha1Digest sha1(std::string_view s) { return sha1(s.data(), s.size()); }

// 40 lowercase hex digits.
std::string to_hex(const Sha1Digest& d);
std::string to_hex(std::string_view bytes);
// Parses 40 hex digits (either case); false on anything else.
bool from_hex(std::string_view hex, Sha1Digest& out);

}  // namespace btl
