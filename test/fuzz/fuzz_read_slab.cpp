// The read slab under any sequence of reads, consumes and kept ranges (the
// input chooses them): what is pending is always the stream's unconsumed
// bytes in order, every kept range keeps its bytes whatever is read after
// it, the buffer never holds more than its bound, and a refusal (no room)
// only happens when the unconsumed bytes fill that bound.
#include <string>
#include <vector>

#include "btl/net/read_slab.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_read_slab) {
    ByteReader in(data, size);
    const size_t bound = 4096 + size_t(in.u8()) * 1024;  // up to ~260 KiB, around the slab size
    ReadSlab slab(bound);
    std::string model;          // unconsumed bytes, as they should be
    uint64_t produced = 0;      // stream position of the next byte read
    struct Kept {
        SharedBytes bytes;
        std::string want;
    };
    std::vector<Kept> kept;
    for (int ops = 0; ops < 400 && in.remaining() > 0; ++ops) {
        const uint8_t op = in.u8();
        if (op < 128) {  // a read of up to ~32 KiB
            size_t want = (size_t(op) << 8 | in.u8()) + 1;
            size_t room = 0;
            uint8_t* at = slab.space(&room);
            if (room == 0) {
                BTL_FUZZ_CHECK(model.size() >= bound);
                break;
            }
            const size_t n = std::min(room, want);
            for (size_t i = 0; i < n; ++i) at[i] = uint8_t(produced + i) ^ uint8_t((produced + i) >> 8);
            std::string added(reinterpret_cast<const char*>(at), n);
            slab.filled(n);
            produced += n;
            model += added;
        } else if (op < 200) {  // consume part of what is pending
            size_t n = model.empty() ? 0 : (size_t(in.u8()) << 8 | in.u8()) % (model.size() + 1);
            slab.consume(n);
            model.erase(0, n);
        } else if (op < 250) {  // keep a range of what is pending
            auto p = slab.pending();
            if (p.empty()) continue;
            size_t from = (size_t(in.u8()) << 8 | in.u8()) % p.size();
            size_t len = (size_t(in.u8()) << 8 | in.u8()) % (p.size() - from) + 1;
            kept.push_back({slab.keep(p.substr(from, len)), std::string(p.substr(from, len))});
        } else if (!kept.empty()) {  // release one
            kept.erase(kept.begin() + in.u8() % kept.size());
        }
        BTL_FUZZ_CHECK(slab.pending() == model);
        BTL_FUZZ_CHECK(slab.capacity() <= bound);
        for (const auto& k : kept) BTL_FUZZ_CHECK(k.bytes.view() == k.want);
    }
    return 0;
}
BTL_FUZZ_ENTRY(fuzz_read_slab)

}  // namespace btl::fuzz
