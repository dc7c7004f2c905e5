#include <doctest/doctest.h>

#include "btl/core/bitfield.hpp"

using namespace btl;

TEST_CASE("bitfield: set, clear, count") {
    Bitfield b(10);
    CHECK(b.size() == 10);
    CHECK(b.none());
    CHECK(b.byte_size() == 2);
    b.set(0);
    b.set(9);
    b.set(9);  // idempotent: count stays right
    CHECK(b.count() == 2);
    CHECK(b.get(0));
    CHECK(b.get(9));
    CHECK_FALSE(b.get(5));
    b.clear(9);
    b.clear(9);
    CHECK(b.count() == 1);
    b.set_all();
    CHECK(b.all());
    CHECK(b.count() == 10);
    b.clear_all();
    CHECK(b.none());
}

TEST_CASE("bitfield: wire format is MSB first with zero spare bits") {
    Bitfield b(10, true);
    CHECK(b.to_bytes() == std::string("\xFF\xC0", 2));
    Bitfield c(10);
    c.set(0);
    c.set(8);
    CHECK(c.to_bytes() == std::string("\x80\x80", 2));
    Bitfield e;
    CHECK(e.to_bytes().empty());
    CHECK(e.all());  // vacuously
    CHECK(Bitfield(16, true).to_bytes() == std::string("\xFF\xFF", 2));
}

TEST_CASE("bitfield: from_bytes round trip and errors") {
    Bitfield b(13);
    b.set(1);
    b.set(12);
    auto r = Bitfield::from_bytes(b.to_bytes(), 13);
    REQUIRE(r.ok());
    CHECK(*r == b);
    CHECK(r->count() == 2);
    CHECK(Bitfield::from_bytes(std::string(3, '\0'), 13).error().message == "bitfield has 3 bytes, expected 2");
    CHECK(Bitfield::from_bytes(std::string(1, '\0'), 13).error().message == "bitfield has 1 bytes, expected 2");
    CHECK(Bitfield::from_bytes(std::string("\x00\x04", 2), 13).error().message == "bitfield has spare bits set");
    CHECK(Bitfield::from_bytes(std::string("\x00\x08", 2), 13).ok());
    CHECK(Bitfield::from_bytes("", 0).ok());
}

TEST_CASE("bitfield: equality and resize") {
    Bitfield a(9), b(9);
    CHECK(a == b);
    a.set(8);
    CHECK(a != b);
    CHECK(Bitfield(8) != Bitfield(9));
    a.resize(20);
    CHECK(a.get(8));
    CHECK(a.count() == 1);
    a.resize(8);
    CHECK(a.count() == 0);
    CHECK(a.byte_size() == 1);
}
