#include "btl/base/json.hpp"

#include "btl/base/utf8.hpp"

namespace btl {

void append_json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    static const char HEX[] = "0123456789ABCDEF";
    out.reserve(out.size() + s.size() + 2);
    out += '"';
    for (size_t i = 0; i < s.size();) {
        // Plain printable ASCII, the common case, is copied a run at a time.
        size_t run = i;
        while (run < s.size() && s[run] >= 0x20 && s[run] != 0x7f && s[run] != '"' && s[run] != '\\') ++run;
        if (run > i) {
            out.append(s.substr(i, run - i));
            i = run;
            continue;
        }
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            // What escape_invalid_utf8 does, without building its string.
            size_t n = utf8_sequence_length(s, i);
            if (n == 0) {
                out += '%';
                out += HEX[c >> 4];
                out += HEX[c & 15];
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        ++i;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += char(c);
                }
        }
    }
    out += '"';
}

}  // namespace btl
