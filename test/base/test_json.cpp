// base/json: the one JSON string escaper.  Whatever bytes go in, what comes
// out is one valid JSON string literal in valid UTF-8 whose decoded value is
// the input with its invalid bytes written as "%XX" (what metainfo does to
// names and btshowmetainfo --json prints).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "btl/base/json.hpp"
#include "btl/base/utf8.hpp"
#include "json_check.hpp"

using namespace btl;

namespace {
// Bytes a .torrent file name, a tracker or a file system can hand us.
std::vector<std::string> hostile_strings() {
    return {
        "caf\xe9",                            // Latin-1, from a Windows share
        "\xff",                               // a lone byte that is never UTF-8
        "\xe2\x82",                           // a sequence cut at the end
        "\xe2\x82x\xf0\x9f\x98",              // cut in the middle, cut at the end
        "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80",  // overlong, surrogate, past U+10FFFF
        "a\x01" "b\x1f\x7f\n\r\t\b\f",       // control characters
        std::string("nul\0inside", 10),       // an embedded NUL
        "\"quoted\" \\back\\slash/",          // the JSON metacharacters
        "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",  // valid UTF-8 stays as it is
        "100%E9 literal percent",             // already looks escaped: unchanged
        "",
    };
}
}  // namespace

TEST_CASE("json: the string escaper writes valid UTF-8 JSON for any bytes and round-trips") {
    for (const auto& raw : hostile_strings()) {
        INFO("raw = '", raw, "'");
        std::string lit = json_string(raw);
        CHECK(is_valid_utf8(lit));
        auto v = test::parse_json(lit);
        REQUIRE(v.has_value());
        REQUIRE(v->kind == test::JsonValue::string);
        CHECK(v->text == escape_invalid_utf8(raw));
        // Appending writes the same literal after what is there.
        std::string out = "x";
        append_json_string(out, raw);
        CHECK(out == "x" + lit);
    }
}

TEST_CASE("json: invalid bytes are written as %XX, the rest as it was") {
    CHECK(json_string("caf\xe9") == "\"caf%E9\"");
    CHECK(json_string("\xff") == "\"%FF\"");
    CHECK(json_string("a\xe2\x82") == "\"a%E2%82\"");
    CHECK(json_string("\xc3\xa9") == "\"\xc3\xa9\"");
    CHECK(json_string("a\"b\\c\n\x01\x7f") == "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
    CHECK(json_string(std::string("\0", 1)) == "\"\\u0000\"");
}

TEST_CASE("json check: the test reader refuses what is not JSON") {
    CHECK(test::parse_json("{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\\ud83d\\ude00\"]}").has_value());
    CHECK(test::parse_json("{\"a\":\"\\u00e9\"}")->members.at("a").text == "\xc3\xa9");
    CHECK(!test::parse_json("\"caf\xe9\""));          // invalid UTF-8
    CHECK(!test::parse_json("\"a\tb\""));             // raw control character
    CHECK(!test::parse_json("\"\\x41\""));            // no such escape
    CHECK(!test::parse_json("\"\\udc00\""));          // lone low surrogate
    CHECK(!test::parse_json("{\"a\":1,}"));           // trailing comma
    CHECK(!test::parse_json("{\"a\":1,\"a\":2}"));    // duplicate key
    CHECK(!test::parse_json("{\"a\":inf}"));          // not a number
    CHECK(!test::parse_json("{} x"));                 // trailing garbage
    CHECK(!test::parse_json("[01]"));                 // leading zero... is "0" then garbage
}
