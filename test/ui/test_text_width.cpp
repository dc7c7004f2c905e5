#include <doctest/doctest.h>

#include <clocale>

#include "btl/ui/text_width.hpp"

using namespace btl::ui;

namespace {
// wcwidth needs a UTF-8 LC_CTYPE; C.UTF-8 is the one every Debian has.
struct Utf8Locale {
    Utf8Locale() { REQUIRE(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr); }
    ~Utf8Locale() { std::setlocale(LC_CTYPE, "C"); }
};
}  // namespace

TEST_CASE("ASCII is one column per character, padded to the width") {
    Utf8Locale l;
    CHECK(display_width("abc") == 3);
    CHECK(fit_width("abc", 5) == "abc  ");
    CHECK(fit_width("abc", 3) == "abc");
    CHECK(fit_width("abc", 5, false) == "abc");
}

TEST_CASE("a long name is cut with an ellipsis to exactly the width") {
    Utf8Locale l;
    std::string s = fit_width("abcdefgh", 5);
    CHECK(s == "abcd\xE2\x80\xA6");
    CHECK(display_width(s) == 5);
}

TEST_CASE("CJK characters count two columns and are never split") {
    Utf8Locale l;
    const std::string jp = "日本語のファイル";  // 8 wide characters, 16 columns
    CHECK(display_width(jp) == 16);
    std::string s = fit_width(jp, 6);  // 2 characters (4 columns) + … + pad
    CHECK(display_width(s) == 6);
    CHECK(s == "日本\xE2\x80\xA6 ");
    CHECK(display_width(fit_width(jp, 16)) == 16);
    CHECK(fit_width(jp, 16) == jp);
}

TEST_CASE("combining marks take no column") {
    Utf8Locale l;
    CHECK(display_width("e\xCC\x81") == 1);  // e + combining acute
    CHECK(fit_width("e\xCC\x81x", 2) == "e\xCC\x81x");
}

TEST_CASE("control characters and invalid UTF-8 cannot reach the terminal") {
    Utf8Locale l;
    CHECK(fit_width("a\x1b[2Jb", 6) == "a?[2Jb");
    CHECK(display_width("a\xFF") == 2);
    CHECK(fit_width("a\xFF", 2) == "a\xEF\xBF\xBD");
    CHECK(fit_width("x", 0).empty());
}
