#include "btl/ui/text_width.hpp"

#include <cwchar>

namespace btl::ui {

namespace {

// Decodes one code point at s[i]; advances i.  Bad sequences give U+FFFD
// and consume one byte so the rest still decodes.
char32_t next_cp(std::string_view s, size_t& i) {
    auto b = static_cast<unsigned char>(s[i]);
    int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
        ++i;
        return 0xFFFD;
    }
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c >> 6) != 2) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    static const char32_t min_for[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return 0xFFFD;
    }
    i += n;
    return cp;
}

// Width of one code point; control characters become '?' (width 1).
int cp_width(char32_t cp, bool& replace) {
    replace = false;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
        replace = true;
        return 1;
    }
    int w = ::wcwidth(static_cast<wchar_t>(cp));
    if (w < 0) {
        // Unassigned or, with a non-UTF-8 locale, anything non-ASCII.
        replace = true;
        return 1;
    }
    return w;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

}  // namespace

int display_width(std::string_view s) {
    int w = 0;
    bool rep;
    for (size_t i = 0; i < s.size();) w += cp_width(next_cp(s, i), rep);
    return w;
}

std::string fit_width(std::string_view s, int width, bool pad) {
    std::string out;
    if (width <= 0) return out;
    const bool too_long = display_width(s) > width;
    // Leave one column for the ellipsis when cutting.
    const int budget = too_long ? width - 1 : width;
    int used = 0;
    bool rep;
    for (size_t i = 0; i < s.size();) {
        size_t start = i;
        char32_t cp = next_cp(s, i);
        int w = cp_width(cp, rep);
        if (used + w > budget) break;
        if (rep) out += '?';
        else if (cp == 0xFFFD) append_utf8(out, cp);
        else out.append(s.substr(start, i - start));
        used += w;
    }
    if (too_long) {
        out += "\xE2\x80\xA6";  // …
        ++used;
    }
    if (pad)
        while (used < width) {
            out += ' ';
            ++used;
        }
    return out;
}

}  // namespace btl::ui
