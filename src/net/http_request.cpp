// HTTP request parsing; see btl/net/http_request.hpp for the contract.
#include "btl/net/http_request.hpp"

#include <cstring>

namespace btl {

namespace {

bool is_tchar(unsigned char c) {
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// True if the comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        size_t comma = value.find(',');
        std::string_view item = trim_ows(value.substr(0, comma));
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
        if (x == y) continue;
        if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
    }
    return true;
}

std::string_view HttpRequest::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return {};
}

HttpRequestParser::HttpRequestParser(HttpLimits lim) : lim_(lim) {}

void HttpRequestParser::reset() {
    scanned_ = 0;
    lines_ = 0;
    have_line_ = false;
    consumed_ = 0;
    content_length_ = 0;
    status_ = 0;
    reason_ = "";
    req_.headers.clear();
}

HttpParse HttpRequestParser::fail(int status, const char* reason) {
    status_ = status;
    reason_ = reason;
    return HttpParse::error;
}

HttpParse HttpRequestParser::parse(std::string_view buf) {
    if (status_ != 0) return HttpParse::error;
    // RFC 9112 2.2: ignore empty lines before the request line (some
    // keep-alive clients send a stray CRLF after a request).
    size_t start = 0;
    while (start < buf.size() && (buf[start] == '\r' || buf[start] == '\n')) ++start;
    if (start > lim_.max_head_bytes) return fail(400, "Bad Request");
    if (scanned_ < start) scanned_ = start;
    const char* base = buf.data();
    while (scanned_ < buf.size()) {
        const void* hit = std::memchr(base + scanned_, '\n', buf.size() - scanned_);
        if (!hit) break;
        size_t nl = static_cast<size_t>(static_cast<const char*>(hit) - base);
        size_t line_len = nl - scanned_;
        if (line_len > 0 && base[nl - 1] == '\r') --line_len;
        if (nl + 1 - start > lim_.max_head_bytes)
            return fail(have_line_ ? 431 : 414, have_line_ ? "Request Header Fields Too Large" : "URI Too Long");
        if (!have_line_) {
            if (nl - start > lim_.max_request_line) return fail(414, "URI Too Long");
            have_line_ = true;
        } else if (line_len == 0) {
            consumed_ = nl + 1;
            if (lim_.max_body > 0) return parse_with_body(buf, start, nl + 1);
            return parse_head(buf.substr(start, nl + 1 - start));
        } else if (++lines_ > lim_.max_headers) {
            return fail(431, "Request Header Fields Too Large");
        }
        scanned_ = nl + 1;
    }
    size_t pending = buf.size() - start;
    if (!have_line_ && pending > lim_.max_request_line) return fail(414, "URI Too Long");
    if (pending > lim_.max_head_bytes) return fail(431, "Request Header Fields Too Large");
    return HttpParse::incomplete;
}

// The head is parsed again on each call until the body is complete: the
// buffer may have moved since, and a head is small next to the wait.
HttpParse HttpRequestParser::parse_with_body(std::string_view buf, size_t start, size_t head_end) {
    HttpParse r = parse_head(buf.substr(start, head_end - start));
    if (r != HttpParse::complete) return r;
    if (content_length_ > buf.size() - head_end) return HttpParse::incomplete;
    req_.body = buf.substr(head_end, static_cast<size_t>(content_length_));
    consumed_ = head_end + static_cast<size_t>(content_length_);
    return HttpParse::complete;
}

HttpParse HttpRequestParser::parse_head(std::string_view head) {
    req_.headers.clear();
    req_.body = {};
    content_length_ = 0;
    auto next_line = [&head]() {
        size_t nl = head.find('\n');
        std::string_view line = head.substr(0, nl);
        head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return line;
    };
    std::string_view line = next_line();
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return fail(400, "Bad Request");
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return fail(400, "Bad Request");
    req_.method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(req_.method) || target.empty()) return fail(400, "Bad Request");
    for (unsigned char c : target)
        if (c <= 0x20 || c == 0x7f) return fail(400, "Bad Request");
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.')
        return fail(400, "Bad Request");
    if (version[5] != '1') return fail(505, "HTTP Version Not Supported");
    if (version[7] < '0' || version[7] > '9') return fail(400, "Bad Request");
    req_.version_minor = version[7] - '0';

    // Absolute-form (proxies, some old clients): keep only path and query.
    for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
        if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
            size_t slash = target.find('/', scheme.size());
            target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
            break;
        }
    }
    if (target[0] != '/' && target != "*") return fail(400, "Bad Request");
    req_.target = target;
    size_t q = target.find('?');
    req_.path = target.substr(0, q);
    req_.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

    bool keep_alive = req_.version_minor >= 1;
    bool has_body = false, seen_length = false;
    while (!head.empty()) {
        line = next_line();
        if (line.empty()) break;
        if (line[0] == ' ' || line[0] == '\t') return fail(400, "Bad Request");  // obs-fold
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return fail(400, "Bad Request");
        std::string_view name = line.substr(0, colon);
        if (!is_token(name)) return fail(400, "Bad Request");
        std::string_view value = trim_ows(line.substr(colon + 1));
        req_.headers.push_back({name, value});
        if (iequals(name, "connection")) {
            if (has_token(value, "close")) keep_alive = false;
            else if (has_token(value, "keep-alive")) keep_alive = true;
        } else if (lim_.max_body > 0 && iequals(name, "transfer-encoding")) {
            return fail(501, "Not Implemented");
        } else if (lim_.max_body > 0 && iequals(name, "content-length")) {
            uint64_t n = 0;
            if (value.empty() || value.size() > 18) return fail(400, "Bad Request");
            for (char c : value) {
                if (c < '0' || c > '9') return fail(400, "Bad Request");
                n = n * 10 + static_cast<uint64_t>(c - '0');
            }
            if (seen_length && n != content_length_) return fail(400, "Bad Request");
            seen_length = true;
            content_length_ = n;
        } else if (iequals(name, "transfer-encoding") ||
                   (iequals(name, "content-length") && value != "0")) {
            has_body = true;
        }
    }
    if (lim_.max_body > 0 && content_length_ > lim_.max_body) return fail(413, "Content Too Large");
    req_.keep_alive = keep_alive && !has_body;
    return HttpParse::complete;
}

bool percent_decode(std::string_view in, char* out, size_t cap, size_t& len) {
    len = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        if (len >= cap) return false;
        char c = in[i];
        if (c == '%') {
            if (in.size() - i < 3) return false;
            int hi = hex_value(static_cast<unsigned char>(in[i + 1]));
            int lo = hex_value(static_cast<unsigned char>(in[i + 2]));
            if (hi < 0 || lo < 0) return false;
            out[len++] = static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out[len++] = c == '+' ? ' ' : c;
        }
    }
    return true;
}

bool percent_decode(std::string_view in, std::string& out) {
    out.resize(in.size());
    size_t len = 0;
    bool ok = percent_decode(in, out.data(), out.size(), len);
    out.resize(ok ? len : 0);
    return ok;
}

}  // namespace btl
