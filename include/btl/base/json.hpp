// Json: the one JSON string escaper of the project.  Every JSON document
// btl writes (btlaunchmany and btdownloadheadless --status_json through
// engine/status_json, btshowmetainfo --json) puts its strings through it.
//
// Contract: append_json_string() always yields one valid JSON string
// literal holding valid UTF-8, whatever the bytes: quotes, backslashes and
// control characters are escaped, and bytes that are not well-formed UTF-8
// are rewritten as "%XX" exactly as metainfo does for names (utf8.hpp's
// escape_invalid_utf8), so a name prints the same everywhere.  One pass, no
// allocation beyond the output.
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
