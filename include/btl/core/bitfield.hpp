// Bitfield: a fixed-size set of piece indices, stored in the BEP 3 wire
// layout (bit 0 is the most significant bit of byte 0) so it can be sent and
// received without conversion.  The number of set bits is maintained on every
// change, so count(), all() and none() are O(1); spare bits in the last byte
// are always zero (an invariant from_bytes() enforces on peer input).
// Out-of-range indices are a programming error (asserted in debug builds).
#pragma once
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"

namespace btl {

class Bitfield {
public:
    Bitfield() = default;
    explicit Bitfield(uint32_t nbits, bool value = false);

    uint32_t size() const { return nbits_; }
    bool get(uint32_t i) const {
        assert(i < nbits_);
        return (bytes_[i >> 3] >> (7 - (i & 7))) & 1u;
    }
    bool operator[](uint32_t i) const { return get(i); }
    void set(uint32_t i);
    void clear(uint32_t i);
    void assign(uint32_t i, bool v) { v ? set(i) : clear(i); }
    void set_all();
    void clear_all();
    // Changes the size; new bits are zero.
    void resize(uint32_t nbits);

    uint32_t count() const { return count_; }
    bool all() const { return count_ == nbits_; }
    bool none() const { return count_ == 0; }

    // BEP 3 wire format: ceil(nbits/8) bytes, MSB first, spare bits zero.
    std::string to_bytes() const;
    // Errors: "bitfield has N bytes, expected M", "bitfield has spare bits set".
    static Result<Bitfield> from_bytes(std::string_view bytes, uint32_t nbits);

    const uint8_t* data() const { return bytes_.data(); }
    size_t byte_size() const { return bytes_.size(); }

    bool operator==(const Bitfield& o) const { return nbits_ == o.nbits_ && bytes_ == o.bytes_; }
    bool operator!=(const Bitfield& o) const { return !(*this == o); }

private:
    void fix_spare_bits();
    std::vector<uint8_t> bytes_;
    uint32_t nbits_ = 0;
    uint32_t count_ = 0;
};

}  // namespace btl
