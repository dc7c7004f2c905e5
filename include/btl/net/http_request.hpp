// Incremental HTTP/1.0 and 1.1 request parser for the project's servers
// (bttrack's announces, btlaunchmany's RPC), plus query-string helpers.
//
// Contract: the caller keeps every unconsumed byte it has received in one
// contiguous buffer and calls parse() with it each time more arrives.  The
// parser remembers how far it has already looked, so feeding a request one
// byte at a time costs O(n), not O(n^2).  Hard limits (request line length,
// total head size, header count) are checked before the head is complete, so
// a hostile client cannot make us buffer more than HttpLimits allows; each
// violation yields an HTTP status (414, 431, 400, 505) to answer with before
// closing.  The parsed HttpRequest holds views into the caller's buffer and
// is valid until that buffer changes.  Bodies: with HttpLimits::max_body 0
// (the tracker) they are not read: a request announcing one is parsed but
// marked !keep_alive so the server closes instead of misreading the body as
// the next request.  With max_body > 0 a body is framed by Content-Length
// only (one canonical decimal; repeated values must agree): the request is
// complete once the whole body has arrived, consumed() covers it and `body`
// views it.  A body over max_body is 413 as soon as its length is announced,
// a bad or conflicting Content-Length is 400, Transfer-Encoding is 501 (no
// chunked bodies: every RPC client sends a length).
//
// Query strings: percent_decode() turns %XX escapes into raw bytes (info_hash
// and peer_id are binary) and '+' into a space, as the original bttrack's
// form decoding did; malformed escapes are errors rather than passed through.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace btl {

struct HttpLimits {
    size_t max_request_line = 8192;  // beyond this: 414 URI Too Long
    size_t max_head_bytes = 16384;   // request line + headers: 431
    size_t max_headers = 64;         // 431
    size_t max_body = 0;             // 0: bodies are not read; else 413 beyond
};

struct HttpHeader {
    std::string_view name;
    std::string_view value;
};

struct HttpRequest {
    std::string_view method;
    std::string_view target;  // as sent (origin-form after absolute-form is stripped)
    std::string_view path;    // target up to '?'
    std::string_view query;   // after '?', without it; empty if none
    int version_minor = 1;    // HTTP/1.x
    bool keep_alive = true;
    std::vector<HttpHeader> headers;
    std::string_view body;    // only when HttpLimits::max_body > 0

    // Case-insensitive lookup; empty view when absent.
    std::string_view header(std::string_view name) const;
};

enum class HttpParse : uint8_t { incomplete, complete, error };

class HttpRequestParser {
public:
    explicit HttpRequestParser(HttpLimits lim = {});

    // `buf` starts at the first unconsumed byte and grows between calls.
    HttpParse parse(std::string_view buf);
    const HttpRequest& request() const { return req_; }
    // Bytes of buf that the complete request (head, and body if read) occupied.
    size_t consumed() const { return consumed_; }
    int error_status() const { return status_; }
    const char* error_reason() const { return reason_; }
    // Ready for the next request (call after removing consumed() bytes).
    void reset();

private:
    HttpParse fail(int status, const char* reason);
    HttpParse parse_head(std::string_view head);
    // With bodies: the head ended at head_end; complete once the body is in.
    HttpParse parse_with_body(std::string_view buf, size_t start, size_t head_end);

    HttpLimits lim_;
    HttpRequest req_;
    size_t scanned_ = 0;   // bytes already searched for the end of the head
    size_t lines_ = 0;     // line breaks seen so far (bounds header count early)
    bool have_line_ = false;
    size_t consumed_ = 0;
    uint64_t content_length_ = 0;
    int status_ = 0;
    const char* reason_ = "";
};

// Decode into out[0..cap); false on a malformed escape or overflow.
bool percent_decode(std::string_view in, char* out, size_t cap, size_t& len);
// Decode into a string (cleared first); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);

// Calls fn(raw_key, raw_value) for each '&'-separated parameter, in order.
// Keys and values are still percent-encoded; a parameter without '=' has an
// empty value.  Empty parameters ("a=1&&b=2") are skipped.
template <class Fn>
void for_each_query_param(std::string_view query, Fn&& fn) {
    size_t i = 0;
    while (i <= query.size()) {
        size_t amp = query.find('&', i);
        if (amp == std::string_view::npos) amp = query.size();
        std::string_view item = query.substr(i, amp - i);
        if (!item.empty()) {
            size_t eq = item.find('=');
            if (eq == std::string_view::npos)
                fn(item, std::string_view());
            else
                fn(item.substr(0, eq), item.substr(eq + 1));
        }
        i = amp + 1;
    }
}

bool iequals(std::string_view a, std::string_view b);

}  // namespace btl
