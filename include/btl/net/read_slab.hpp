// ReadSlab: the read buffer of one peer connection, built so received
// blocks need not be copied out of it.
//
// Reads land in a slab (base/shared_bytes.hpp, kRecvSlabSize: four piece
// messages of a 16 KiB block).  The handler looks at the unconsumed bytes
// and may keep() a range of them (an accepted block): a SharedBytes slice
// that holds the slab alive, with no copy.  Bytes once read are never
// overwritten while anything shares the slab: reads only go after them,
// and when the slab is full its unconsumed tail (a partial message) is
// carried to a fresh slab, so the slices handed out stay valid on any
// thread.  An unshared slab is reused in place, as a plain buffer would be.
//
// A stream of piece messages that starts a slab at a message boundary
// fills it exactly at one, so nothing is carried: in steady state every
// block is a slice of the slab it was read into.  A message longer than the
// slab (a bitfield of a large torrent) grows the buffer, up to max_size.
//
// Memory: a slice holds its whole slab, so a peer interleaving requested
// blocks with other messages can keep up to a slab per block alive while
// the block waits for its write (bounded by the write backlog, which
// pauses reading); blocks held longer (ahead of a hash gap) are copied by
// disk/block_assembler.  Loop thread only, except the slices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "btl/base/shared_bytes.hpp"

namespace btl {

class ReadSlab {
public:
    explicit ReadSlab(size_t max_size) : max_(max_size) {}

    // Where the next read may write and how much (0: the unconsumed bytes
    // fill max_size; the caller drops the connection).
    uint8_t* space(size_t* len);
    // `n` bytes were read into the last space().
    void filled(size_t n) { end_ += n; }
    // The bytes read and not yet consumed.
    std::string_view pending() const {
        return {reinterpret_cast<const char*>(slab_.get()) + start_, end_ - start_};
    }
    void consume(size_t n);
    // `bytes` (inside pending()) as a slice of the slab; a copy if they are
    // not in it.
    SharedBytes keep(std::string_view bytes) const;

    size_t capacity() const { return cap_; }
    // Bytes read into the current slab (for tests: where the next read goes).
    size_t filled_to() const { return end_; }

private:
    std::shared_ptr<uint8_t> slab_;
    size_t cap_ = 0, start_ = 0, end_ = 0, max_;
};

}  // namespace btl
