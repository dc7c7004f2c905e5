#include "btl/base/sha1.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace btl {

Sha1Hasher::Sha1Hasher() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) std::abort();
    reset();
}

Sha1Hasher::~Sha1Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha1Hasher::reset() {
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha1(), nullptr);
}

void Sha1Hasher::update(const void* data, size_t len) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len);
}

Sha1Digest Sha1Hasher::finish() {
    Sha1Digest d{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &n);
    reset();
    return d;
}

Sha1Digest sha1(const void* data, size_t len) {
    Sha1Digest d{};
    unsigned int n = 0;
    EVP_Digest(data, len, d.data(), &n, EVP_sha1(), nullptr);
    return d;
}

std::string to_hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::string to_hex(const Sha1Digest& d) {
    return to_hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

bool from_hex(std::string_view hex, Sha1Digest& out) {
    if (hex.size() != 40) return false;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < 20; ++i) {
        int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return true;
}

}  // namespace btl
