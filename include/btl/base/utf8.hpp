// UTF-8 validity and repair.  Names in .torrent files are raw bytes; a name
// copied from a Latin-1 file system is not UTF-8.  Contract: is_valid_utf8()
// accepts exactly the well-formed sequences of RFC 3629 (no overlong forms, no
// surrogates, nothing past U+10FFFF); escape_invalid_utf8() keeps every valid
// sequence and writes each other byte as "%XX", so its output is always valid
// UTF-8 and a valid input comes back unchanged.  Pure, no allocation beyond
// the result.
#pragma once
#include <string>
#include <string_view>

namespace btl {

// True when s is well-formed UTF-8 (no overlong forms, no surrogates, at most
// U+10FFFF).
bool is_valid_utf8(std::string_view s);
// Length of the well-formed sequence starting at s[i] (1 for ASCII), or 0
// when the byte there does not start one; i < s.size().
size_t utf8_sequence_length(std::string_view s, size_t i);
// s with every byte that is not part of a well-formed UTF-8 sequence written
// as "%XX"; valid input is returned unchanged.
std::string escape_invalid_utf8(std::string_view s);

}  // namespace btl
