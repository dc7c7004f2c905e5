// bttrack's request handling: bytes from a client go through the incremental
// request-head parser exactly as the server feeds it (unconsumed bytes kept,
// parse() after every read, reset() after each request, close after an
// error or a request without keep-alive), and every complete request is
// answered by the tracker service with a real registry behind it.
//
// Input layout: byte 0 = flags (low 4 bits: how many chunk-size bytes
// follow; bits 4-5: the client's address: loopback, public IPv4, public
// IPv6, LAN), then the chunk sizes (cycled), then the client's bytes.
//
// Invariants: the parsed request's views lie inside the buffer and agree
// with each other; every answer is a well-formed HTTP response whose
// Content-Length matches; the bytes sent back are the same whatever the
// chunking.
#include <string>
#include <string_view>
#include <vector>

#include "btl/core/bencode.hpp"
#include "btl/net/http_request.hpp"
#include "btl/tracker/registry.hpp"
#include "btl/tracker/service.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

// In the buffer, or the parser's own "/" for an absolute-form target
// without a path.
bool inside(std::string_view part, std::string_view buf) {
    return part.empty() || part == "/" ||
           (part.data() >= buf.data() && part.data() + part.size() <= buf.data() + buf.size());
}

void check_request(const HttpRequest& r, std::string_view buf, size_t consumed) {
    std::string_view head = buf.substr(0, consumed);
    BTL_FUZZ_CHECK(inside(r.method, head) && inside(r.target, head) && inside(r.path, head) && inside(r.query, head));
    BTL_FUZZ_CHECK(!r.method.empty());
    // HTTP/1.2 to 1.9 are answered as 1.1 would be (RFC 9110 2.5).
    BTL_FUZZ_CHECK(r.version_minor >= 0 && r.version_minor <= 9);
    // HTTP/1.0 keeps the connection only when a Connection header asks.
    bool asks = false;
    for (const auto& h : r.headers) asks |= iequals(h.name, "connection");
    BTL_FUZZ_CHECK(!r.keep_alive || r.version_minor >= 1 || asks);
    size_t q = r.target.find('?');
    if (q == std::string_view::npos) {
        BTL_FUZZ_CHECK(r.query.empty());
    } else {
        BTL_FUZZ_CHECK(r.query == r.target.substr(q + 1));
    }
    BTL_FUZZ_CHECK(r.target.substr(0, r.path.size()) == r.path);
    BTL_FUZZ_CHECK(r.path[0] == '/' || r.path == "*");
    for (const auto& h : r.headers) {
        BTL_FUZZ_CHECK(inside(h.name, head) && inside(h.value, head));
        BTL_FUZZ_CHECK(!h.name.empty());
        BTL_FUZZ_CHECK(h.value.find('\n') == std::string_view::npos);
    }
    // The query helpers the service uses must cope with any query.
    for_each_query_param(r.query, [&r](std::string_view k, std::string_view v) {
        BTL_FUZZ_CHECK(inside(k, r.query) && inside(v, r.query) && k.size() + v.size() <= r.query.size());
        std::string out;
        if (percent_decode(v, out)) BTL_FUZZ_CHECK(out.size() <= v.size());
        char small[20];
        size_t len = 0;
        if (percent_decode(k, small, sizeof small, len)) BTL_FUZZ_CHECK(len <= sizeof small && len <= k.size());
    });
}

// Checks `out` is a sequence of complete responses; returns how many.
size_t check_responses(std::string_view out) {
    size_t n = 0;
    while (!out.empty()) {
        BTL_FUZZ_CHECK(out.substr(0, 9) == "HTTP/1.1 ");
        size_t end = out.find("\r\n\r\n");
        BTL_FUZZ_CHECK(end != std::string_view::npos);
        std::string_view head = out.substr(0, end);
        size_t cl = head.find("\r\nContent-Length: ");
        BTL_FUZZ_CHECK(cl != std::string_view::npos);
        size_t len = 0;
        for (size_t i = cl + 18; i < head.size() && head[i] >= '0' && head[i] <= '9'; ++i)
            len = len * 10 + size_t(head[i] - '0');
        size_t total = end + 4 + len;
        // HEAD answers carry the length of a body they do not send; the
        // next response (if any) starts right after the head then.
        if (total > out.size() || (total < out.size() && out.substr(total, 9) != "HTTP/1.1 ")) total = end + 4;
        out.remove_prefix(total);
        ++n;
    }
    return n;
}

// TrackerServer::handle_data, minus the socket: returns the bytes sent.
std::string serve(std::string_view stream, const std::vector<size_t>& chunks, const PeerAddr& remote) {
    TrackerRegistry reg;
    TrackerService svc(reg);
    HttpRequestParser parser;
    std::string in, sent;
    size_t pos = 0, ci = 0;
    bool closed = false;
    const int64_t now = 1'700'000'000;
    while (pos < stream.size() && !closed) {
        size_t n = chunks.empty() ? stream.size() : chunks[ci++ % chunks.size()];
        n = std::min(n, stream.size() - pos);
        in.append(stream.substr(pos, n));
        pos += n;
        std::string_view pending = in;
        std::string out;
        while (!pending.empty()) {
            HttpParse r = parser.parse(pending);
            if (r == HttpParse::incomplete) break;
            if (r == HttpParse::error) {
                int st = parser.error_status();
                BTL_FUZZ_CHECK(st == 400 || st == 414 || st == 431 || st == 505);
                TrackerService::error_response(st, parser.error_reason(), out);
                closed = true;
                break;
            }
            BTL_FUZZ_CHECK(parser.consumed() > 0 && parser.consumed() <= pending.size());
            check_request(parser.request(), pending, parser.consumed());
            bool keep = svc.handle(parser.request(), remote, now, out);
            pending.remove_prefix(parser.consumed());
            parser.reset();
            if (!keep) {
                closed = true;
                break;
            }
        }
        in.erase(0, in.size() - pending.size());
        // An incomplete head never holds more than the limits allow.
        if (!closed) BTL_FUZZ_CHECK(in.size() <= 2 * HttpLimits{}.max_head_bytes);
        check_responses(out);
        sent += out;
    }
    return sent;
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_http_request) {
    ByteReader in(data, size);
    const uint8_t flags = in.u8();
    std::vector<size_t> chunks;
    for (int i = 0; i < (flags & 0x0f); ++i) {
        uint8_t c = in.u8();
        chunks.push_back(c == 0 ? 4096 : c);
    }
    static const char* const kRemotes[] = {"127.0.0.1", "203.0.113.7", "2001:db8::7", "192.168.1.20"};
    PeerAddr remote;
    BTL_FUZZ_CHECK(PeerAddr::parse(kRemotes[(flags >> 4) & 3], remote));
    std::string_view stream(reinterpret_cast<const char*>(in.rest()), in.remaining());

    std::string whole = serve(stream, {}, remote);
    std::string split = serve(stream, chunks, remote);
    BTL_FUZZ_CHECK(whole == split);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_http_request)
