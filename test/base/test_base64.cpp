#include <doctest/doctest.h>

#include <string>

#include "btl/base/base64.hpp"

using namespace btl;

TEST_CASE("base64: RFC 4648 test vectors round-trip") {
    const char* const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char* const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; ++i) {
        CHECK(base64_encode(plain[i]) == coded[i]);
        auto d = base64_decode(coded[i]);
        REQUIRE(d);
        CHECK(*d == plain[i]);
    }
    std::string bin;
    for (int c = 0; c < 256; ++c) bin += char(c);
    CHECK(*base64_decode(base64_encode(bin)) == bin);
}

TEST_CASE("base64: unpadded and line-wrapped input decodes; junk does not") {
    CHECK(*base64_decode("Zm9vYg") == "foob");
    CHECK(*base64_decode("Zm9v\nYmFy\r\n") == "foobar");
    CHECK_FALSE(base64_decode("Zm9v!"));
    CHECK_FALSE(base64_decode("Z"));          // one digit cannot hold a byte
    CHECK_FALSE(base64_decode("Zg==Zg=="));   // data after padding
    CHECK_FALSE(base64_decode("Zh=="));       // leftover bits not zero
    CHECK_FALSE(base64_decode("Zg="));        // padding that does not complete the quad
}
