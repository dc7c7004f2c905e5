// A strict little JSON reader for tests (RFC 8259): it accepts exactly one
// well-formed value, no trailing garbage but whitespace, strings only as
// valid UTF-8 with legal escapes, and decodes the value into a tree so tests
// can read back what a writer escaped.  Independent of base/json on purpose:
// checking the project's writer with its own code would prove nothing.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/utf8.hpp"

namespace btl::test {

struct JsonValue {
    enum Kind { null, boolean, number, string, array, object } kind = null;
    bool b = false;
    std::string text;  // string: the decoded bytes; number: the literal
    std::vector<JsonValue> items;
    std::map<std::string, JsonValue> members;
    const JsonValue& operator[](const std::string& k) const { return members.at(k); }
    const JsonValue& operator[](size_t i) const { return items.at(i); }
};

class JsonReader {
public:
    explicit JsonReader(std::string_view s) : s_(s) {}

    std::optional<JsonValue> document() {
        if (!btl::is_valid_utf8(s_)) return std::nullopt;
        JsonValue v;
        if (!value(v, 0)) return std::nullopt;
        ws();
        if (i_ != s_.size()) return std::nullopt;
        return v;
    }

private:
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool lit(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    bool value(JsonValue& v, int depth) {
        if (depth > 64) return false;
        ws();
        if (i_ >= s_.size()) return false;
        char c = s_[i_];
        if (c == '{') return object(v, depth);
        if (c == '[') return array(v, depth);
        if (c == '"') {
            v.kind = JsonValue::string;
            return string(v.text);
        }
        if (lit("true")) return v.kind = JsonValue::boolean, v.b = true, true;
        if (lit("false")) return v.kind = JsonValue::boolean, true;
        if (lit("null")) return v.kind = JsonValue::null, true;
        v.kind = JsonValue::number;
        return number(v.text);
    }
    bool object(JsonValue& v, int depth) {
        v.kind = JsonValue::object;
        ++i_;
        ws();
        if (lit("}")) return true;
        for (;;) {
            ws();
            std::string key;
            if (i_ >= s_.size() || s_[i_] != '"' || !string(key)) return false;
            ws();
            if (!lit(":")) return false;
            JsonValue m;
            if (!value(m, depth + 1) || v.members.count(key)) return false;  // duplicates: ambiguous
            v.members.emplace(std::move(key), std::move(m));
            ws();
            if (lit("}")) return true;
            if (!lit(",")) return false;
        }
    }
    bool array(JsonValue& v, int depth) {
        v.kind = JsonValue::array;
        ++i_;
        ws();
        if (lit("]")) return true;
        for (;;) {
            JsonValue m;
            if (!value(m, depth + 1)) return false;
            v.items.push_back(std::move(m));
            ws();
            if (lit("]")) return true;
            if (!lit(",")) return false;
        }
    }
    bool digits() {
        size_t from = i_;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
        return i_ > from;
    }
    bool number(std::string& out) {
        size_t from = i_;
        lit("-");
        if (lit("0")) {
        } else if (!digits()) {
            return false;
        }
        if (lit(".") && !digits()) return false;
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (!lit("+")) lit("-");
            if (!digits()) return false;
        }
        out.assign(s_.substr(from, i_ - from));
        return true;
    }
    bool hex4(uint32_t& cp) {
        if (i_ + 4 > s_.size()) return false;
        cp = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s_[i_++];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return false;
            cp = cp * 16 + uint32_t(d);
        }
        return true;
    }
    static void put_utf8(std::string& o, uint32_t cp) {
        if (cp < 0x80) {
            o += char(cp);
        } else if (cp < 0x800) {
            o += char(0xC0 | (cp >> 6));
            o += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            o += char(0xE0 | (cp >> 12));
            o += char(0x80 | ((cp >> 6) & 0x3F));
            o += char(0x80 | (cp & 0x3F));
        } else {
            o += char(0xF0 | (cp >> 18));
            o += char(0x80 | ((cp >> 12) & 0x3F));
            o += char(0x80 | ((cp >> 6) & 0x3F));
            o += char(0x80 | (cp & 0x3F));
        }
    }
    bool escape(std::string& out) {
        if (i_ >= s_.size()) return false;
        char e = s_[i_++];
        switch (e) {
            case '"': out += '"'; return true;
            case '\\': out += '\\'; return true;
            case '/': out += '/'; return true;
            case 'b': out += '\b'; return true;
            case 'f': out += '\f'; return true;
            case 'n': out += '\n'; return true;
            case 'r': out += '\r'; return true;
            case 't': out += '\t'; return true;
            case 'u': break;
            default: return false;
        }
        uint32_t cp;
        if (!hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (!lit("\\u") || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        put_utf8(out, cp);
        return true;
    }
    bool string(std::string& out) {
        ++i_;  // the opening quote
        while (i_ < s_.size()) {
            auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c < 0x20) return false;  // raw control characters are not allowed
            if (c == '\\') {
                ++i_;
                if (!escape(out)) return false;
            } else {
                out += char(c);
                ++i_;
            }
        }
        return false;
    }

    std::string_view s_;
    size_t i_ = 0;
};

inline std::optional<JsonValue> parse_json(std::string_view s) { return JsonReader(s).document(); }

}  // namespace btl::test
