// ReadSlab: the read buffer whose ranges a handler may keep without a copy.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "btl/net/read_slab.hpp"

using namespace btl;

namespace {
// Reads `bytes` into the slab the way the transport does: as much as
// space() offers per read.  Returns false if the slab refused (full).
bool read_into(ReadSlab& s, std::string_view bytes) {
    while (!bytes.empty()) {
        size_t room = 0;
        uint8_t* at = s.space(&room);
        if (room == 0) return false;
        size_t n = std::min(room, bytes.size());
        std::memcpy(at, bytes.data(), n);
        s.filled(n);
        bytes.remove_prefix(n);
    }
    return true;
}
std::string pattern(size_t n, char seed) {
    std::string s(n, 0);
    for (size_t i = 0; i < n; ++i) s[i] = char(seed + i * 7);
    return s;
}
constexpr size_t kMsg = 13 + 16384;  // a piece message of a 16 KiB block
}  // namespace

TEST_CASE("read slab: a kept range is a slice, and later reads never overwrite it") {
    const int64_t live0 = live_recv_slabs();
    const uint64_t copies0 = shared_bytes_copies();
    ReadSlab s(1 << 20);
    std::vector<SharedBytes> kept;
    std::vector<std::string> want;
    // Eight messages, consumed one at a time, each payload kept.
    for (int i = 0; i < 8; ++i) {
        std::string m = pattern(kMsg, char('a' + i));
        REQUIRE(read_into(s, m));
        auto p = s.pending();
        REQUIRE(p.size() == kMsg);
        kept.push_back(s.keep(p.substr(13)));
        want.push_back(m.substr(13));
        s.consume(p.size());
    }
    CHECK(shared_bytes_copies() == copies0);  // no copy made
    for (size_t i = 0; i < kept.size(); ++i) {
        CHECK(kept[i].view() == want[i]);
        CHECK(kept[i].footprint() == kRecvSlabSize);
    }
    // Four messages fill a slab exactly: two slabs in use, nothing carried.
    CHECK(live_recv_slabs() - live0 == 2);
    kept.clear();
    CHECK(live_recv_slabs() - live0 == 1);  // the current one, held by the reader
}

TEST_CASE("read slab: an unshared slab is reused in place; a shared one is left alone") {
    ReadSlab s(1 << 20);
    REQUIRE(read_into(s, pattern(100, 'x')));
    const char* first = s.pending().data();
    s.consume(100);
    size_t room = 0;
    CHECK(reinterpret_cast<char*>(s.space(&room)) == first);  // back to the start
    CHECK(room == kRecvSlabSize);
    REQUIRE(read_into(s, pattern(100, 'y')));
    SharedBytes k = s.keep(s.pending().substr(10, 50));
    s.consume(100);
    CHECK(reinterpret_cast<char*>(s.space(&room)) == first + 100);  // after the kept bytes
    CHECK(room == kRecvSlabSize - 100);
    CHECK(k.view() == pattern(100, 'y').substr(10, 50));
}

TEST_CASE("read slab: a partial message at the end is carried to a fresh slab when the old one is shared") {
    ReadSlab s(1 << 20);
    std::string a = pattern(kRecvSlabSize - 1000, 'a'), b = pattern(3000, 'b');
    REQUIRE(read_into(s, a));
    SharedBytes k = s.keep(s.pending().substr(0, 500));
    s.consume(a.size() - 200);  // 200 bytes of a partial message left
    REQUIRE(read_into(s, b));   // fills the slab, then carries
    CHECK(s.pending() == a.substr(a.size() - 200) + b);
    CHECK(k.view() == a.substr(0, 500));
    // Unshared, the carry is a move within the same slab.
    k.reset();
    s.consume(s.pending().size() - 10);
    const std::string rest(s.pending());
    REQUIRE(read_into(s, pattern(kRecvSlabSize, 'c')));
    CHECK(s.pending().substr(0, 10) == rest);
}

TEST_CASE("read slab: one message longer than the slab grows it, up to the bound") {
    ReadSlab s(3 * kRecvSlabSize);
    std::string big = pattern(2 * kRecvSlabSize + 5, 'g');
    REQUIRE(read_into(s, big));
    CHECK(s.pending() == big);
    CHECK(s.capacity() >= big.size());
    CHECK_FALSE(read_into(s, pattern(kRecvSlabSize, 'h')));  // past 3 slabs unconsumed: refused
    // Once consumed, the next carry goes back to a slab of the usual size.
    s.consume(s.pending().size() - 4);
    REQUIRE(read_into(s, pattern(s.capacity() - s.filled_to() + 1, 'i')));
    CHECK(s.capacity() == kRecvSlabSize);
}

TEST_CASE("read slab: bytes outside the slab are copied when kept") {
    ReadSlab s(1 << 20);
    REQUIRE(read_into(s, "abc"));
    const uint64_t c0 = shared_bytes_copies();
    std::string other = "elsewhere";
    SharedBytes k = s.keep(other);
    CHECK(shared_bytes_copies() == c0 + 1);
    other[0] = 'E';
    CHECK(k.view() == "elsewhere");
}
