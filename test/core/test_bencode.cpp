#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "btl/core/bencode.hpp"

using namespace btl;

static std::string err(std::string_view in) {
    auto r = decode(in);
    return r.ok() ? std::string("ok") : r.error().message;
}

TEST_CASE("bencode: integers") {
    CHECK(decode("i42e")->root().int_value() == 42);
    CHECK(decode("i-42e")->root().int_value() == -42);
    CHECK(decode("i0e")->root().int_value() == 0);
    CHECK(decode("i9223372036854775807e")->root().int_value() == INT64_MAX);
    CHECK(decode("i-9223372036854775808e")->root().int_value() == INT64_MIN);
    CHECK(err("i9223372036854775808e") == "integer overflow");
    CHECK(err("i-9223372036854775809e") == "integer overflow");
    CHECK(err("i99999999999999999999999e") == "integer overflow");
    CHECK(err("i03e") == "integer with leading zero");
    CHECK(err("i-0e") == "negative zero");
    CHECK(err("ie") == "integer without digits");
    CHECK(err("i-e") == "integer without digits");
    CHECK(err("i1x2e") == "invalid character in integer");
    CHECK(err("i12") == "truncated integer");
}

TEST_CASE("bencode: strings are zero-copy views") {
    std::string in = "4:spam";
    auto d = decode(in);
    REQUIRE(d.ok());
    CHECK(d->root().string() == "spam");
    CHECK(d->root().string().data() == in.data() + 2);
    CHECK(decode("0:")->root().string().empty());
    CHECK(err("04:spam") == "string length with leading zero");
    CHECK(err("5:spam").find("runs past the end") != std::string::npos);
    CHECK(err("99999999999999999999999:x") == "string length overflow");
    CHECK(err("4spam") == "invalid character in string length");
}

TEST_CASE("bencode: lists, dicts and raw spans") {
    std::string in = "d3:bar4:spam3:fooi42e4:listl1:ai1eee";
    auto d = decode(in);
    REQUIRE(d.ok());
    BNode r = d->root();
    CHECK(r.is_dict());
    CHECK(r.size() == 3);
    CHECK(r.find("bar").string() == "spam");
    CHECK(r.find("foo").int_value() == 42);
    CHECK(!r.find("nope"));
    CHECK(!r.find_string("foo"));
    BNode l = r.find_list("list");
    CHECK(l.size() == 2);
    CHECK(l.at(0).string() == "a");
    CHECK(l.at(1).int_value() == 1);
    CHECK(!l.at(2));
    CHECK(l.raw() == "l1:ai1ee");
    CHECK(r.raw() == in);
    int n = 0;
    for (auto [k, v] : r.dict_items()) {
        (void)v;
        CHECK(!k.empty());
        ++n;
    }
    CHECK(n == 3);
    CHECK(decode("le")->root().size() == 0);
    CHECK(decode("de")->root().size() == 0);
    // nested containers: siblings after a subtree are still found
    auto d2 = decode("d1:ad1:bl1:cee1:zi7ee");
    REQUIRE(d2.ok());
    CHECK(d2->root().find("z").int_value() == 7);
    CHECK(d2->root().find("a").find("b").at(0).string() == "c");
}

TEST_CASE("bencode: strictness") {
    CHECK(err("i1ei2e") == "trailing data after the end of the document");
    CHECK(err("") == "empty input");
    CHECK(err("e") == "unexpected 'e'");
    CHECK(err("l") == "truncated input");
    CHECK(err("d3:foo") == "truncated input");
    CHECK(err("d3:fooe") == "dictionary key without a value");
    CHECK(err("di1ei2ee") == "dictionary key is not a string");
    CHECK(err("d1:ai1e1:ai2ee") == "duplicate dictionary key");
    // unsorted keys are accepted, but duplicates among them are not
    CHECK(err("d1:bi1e1:ai2ee") == "ok");
    CHECK(err("d1:bi1e1:ai2e1:bi3ee") == "duplicate dictionary key");
    CHECK(err("x") == "invalid character 'x'");
    auto r = decode("l4:spamXe");
    REQUIRE(!r.ok());
    CHECK(r.error().offset == 7);
    CHECK(r.error().describe() == "invalid character 'X' (at byte 7)");
}

TEST_CASE("bencode: limits") {
    std::string deep(200, 'l');
    deep += std::string(200, 'e');
    CHECK(err(deep) == "nesting deeper than 100");
    DecodeLimits lim;
    lim.max_tokens = 3;
    CHECK(!decode("li1ei2ei3ee", lim).ok());
    CHECK(decode("li1ei2ee", lim).ok());
    lim = {};
    lim.max_size = 4;
    CHECK(!decode("4:spam", lim).ok());
}

TEST_CASE("bencode: truncation at every offset fails cleanly") {
    std::string in = "d8:announce3:url4:infod6:lengthi1000e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee";
    REQUIRE(decode(in).ok());
    for (size_t i = 0; i < in.size(); ++i) CHECK(!decode(std::string_view(in).substr(0, i)).ok());
}

TEST_CASE("bencode: decode_prefix reports the length used") {
    size_t used = 0;
    auto r = decode_prefix("d1:ai1eeTRAILER", used);
    REQUIRE(r.ok());
    CHECK(used == 8);
}

TEST_CASE("bencode: encoder round trip, sorted dicts") {
    BValue v = BValue::dict();
    v["z"] = 1;
    v["a"] = "x";
    v["m"] = BValue::list();
    v["m"].as_list().push_back(BValue(-5));
    v["m"].as_list().push_back(BValue("hi"));
    std::string s = encode(v);
    CHECK(s == "d1:a1:x1:mli-5e2:hie1:zi1ee");
    auto d = decode(s);
    REQUIRE(d.ok());
    CHECK(encode(to_value(d->root())) == s);
    std::string out;
    BEncoder(out).begin_list().integer(INT64_MIN).string("").end();
    CHECK(out == "li-9223372036854775808e0:e");
    CHECK(decode(out)->root().at(0).int_value() == INT64_MIN);
}

TEST_CASE("bencode: decoding a 20 MB torrent-like document is fast") {
    // A multi-file torrent: many file dicts plus a large pieces string.
    std::string s = "d4:infod5:filesl";
    for (int i = 0; i < 100000; ++i) {
        s += "d6:lengthi" + std::to_string(1000 + i) + "e4:pathl3:dir11:file" + std::to_string(1000000 + i) + "ee";
    }
    s += "e4:name4:test12:piece lengthi262144e6:pieces";
    size_t pieces = 20 * 800000;
    s += std::to_string(pieces) + ":" + std::string(pieces, 'p') + "ee";
    REQUIRE(s.size() > 20'000'000);
    auto t0 = std::chrono::steady_clock::now();
    int runs = 5;
    size_t toks = 0;
    for (int i = 0; i < runs; ++i) {
        auto d = decode(s);
        REQUIRE_MESSAGE(d.ok(), (d.ok() ? std::string() : d.error().describe()));
        toks = d->token_count();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / runs;
    double mbs = s.size() / 1e6 / secs;
    std::printf("bencode decode: %.1f MB in %.2f ms = %.0f MB/s (%zu tokens)\n", s.size() / 1e6, secs * 1e3, mbs, toks);
    CHECK(toks > 700000);
}
