#include "btl/core/bitfield.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

namespace btl {

Bitfield::Bitfield(uint32_t nbits, bool value)
    : bytes_((size_t(nbits) + 7) / 8, value ? 0xFF : 0x00), nbits_(nbits), count_(value ? nbits : 0) {
    fix_spare_bits();
}

// Keeps the invariant that bits past nbits_ are zero, so to_bytes(), ==
// and counting never see them.
void Bitfield::fix_spare_bits() {
    if (nbits_ % 8 != 0) bytes_.back() &= uint8_t(0xFF << (8 - nbits_ % 8));
}

void Bitfield::set(uint32_t i) {
    assert(i < nbits_);
    uint8_t mask = uint8_t(0x80 >> (i & 7));
    uint8_t& b = bytes_[i >> 3];
    if (!(b & mask)) {
        b |= mask;
        ++count_;
    }
}

void Bitfield::clear(uint32_t i) {
    assert(i < nbits_);
    uint8_t mask = uint8_t(0x80 >> (i & 7));
    uint8_t& b = bytes_[i >> 3];
    if (b & mask) {
        b &= uint8_t(~mask);
        --count_;
    }
}

void Bitfield::set_all() {
    std::fill(bytes_.begin(), bytes_.end(), 0xFF);
    fix_spare_bits();
    count_ = nbits_;
}

void Bitfield::clear_all() {
    std::fill(bytes_.begin(), bytes_.end(), 0x00);
    count_ = 0;
}

void Bitfield::resize(uint32_t nbits) {
    if (nbits < nbits_) {
        for (uint32_t i = nbits; i < nbits_; ++i) clear(i);
    }
    nbits_ = nbits;
    bytes_.resize((size_t(nbits) + 7) / 8, 0);
    fix_spare_bits();
}

std::string Bitfield::to_bytes() const {
    return std::string(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
}

Result<Bitfield> Bitfield::from_bytes(std::string_view bytes, uint32_t nbits) {
    size_t expected = (size_t(nbits) + 7) / 8;
    if (bytes.size() != expected) {
        return make_error("bitfield has " + std::to_string(bytes.size()) + " bytes, expected " +
                          std::to_string(expected));
    }
    Bitfield bf;
    bf.nbits_ = nbits;
    bf.bytes_.assign(bytes.begin(), bytes.end());
    if (nbits % 8 != 0) {
        uint8_t spare = uint8_t(0xFF >> (nbits % 8));
        if (bf.bytes_.back() & spare) return make_error("bitfield has spare bits set");
    }
    uint32_t n = 0;
    for (uint8_t b : bf.bytes_) n += uint32_t(std::popcount(b));
    bf.count_ = n;
    return bf;
}

}  // namespace btl
