// Json: the little JSON output the command-line tools need (btshowmetainfo
// --json).  Contract: json_string() always yields a valid JSON string literal
// holding valid UTF-8: quotes, backslashes and control characters are
// escaped, and bytes that are not well-formed UTF-8 are first rewritten as
// "%XX" exactly as metainfo does for file names, so a name prints the same in
// both places.
#pragma once
#include <string>
#include <string_view>

namespace btl {

// Appends the quoted, escaped literal for s to out.
void append_json_string(std::string& out, std::string_view s);
inline std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

}  // namespace btl
