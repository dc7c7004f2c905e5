// The RPC server's request framing: bytes from a client go through the
// bounded HTTP parser with bodies enabled, exactly as rpc/http_server feeds
// it (unconsumed bytes kept, parse() after every read, reset() after each
// request, stop at the first error), and each request's headers go through
// the security checks (Host, Basic auth).
//
// Input layout: byte 0 = how many chunk-size bytes follow (low 4 bits),
// then the chunk sizes (cycled), then the client's bytes.
//
// Invariants: a request's body is exactly its Content-Length and lies in
// the buffer right after the head; nothing is ever buffered past the
// limits; the sequence of requests and the final error are the same
// whatever the chunking.
#include <string>
#include <string_view>
#include <vector>

#include "btl/net/http_request.hpp"
#include "btl/rpc/rpc_security.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

HttpLimits rpc_limits() {
    HttpLimits lim;
    lim.max_head_bytes = 2048;
    lim.max_request_line = 1024;
    lim.max_headers = 16;
    lim.max_body = 4096;
    return lim;
}

std::string serve(std::string_view stream, const std::vector<size_t>& chunks) {
    const HttpLimits lim = rpc_limits();
    HttpRequestParser parser(lim);
    std::string in, log;
    size_t pos = 0, k = 0;
    const std::vector<std::string> whitelist = {"box.lan"};
    while (pos < stream.size()) {
        size_t n = chunks.empty() ? stream.size() : chunks[k++ % chunks.size()];
        n = std::min(n, stream.size() - pos);
        in.append(stream.substr(pos, n));
        pos += n;
        for (;;) {
            HttpParse p = parser.parse(in);
            if (p == HttpParse::incomplete) break;
            if (p == HttpParse::error) {
                BTL_FUZZ_CHECK(parser.error_status() >= 400 && parser.error_status() < 600);
                return log + "error " + std::to_string(parser.error_status());
            }
            const HttpRequest& r = parser.request();
            BTL_FUZZ_CHECK(parser.consumed() <= in.size());
            BTL_FUZZ_CHECK(r.body.size() <= lim.max_body);
            if (!r.body.empty()) {
                BTL_FUZZ_CHECK(r.body.data() + r.body.size() == in.data() + parser.consumed());
                // RFC 9110 allows leading zeros ("02"): compare the number.
                uint64_t announced = 0;
                for (char ch : r.header("content-length")) announced = announced * 10 + uint64_t(ch - '0');
                BTL_FUZZ_CHECK(announced == r.body.size());
            }
            bool host_ok = rpc::host_allowed(r.header("host"), whitelist);
            bool auth_ok = rpc::basic_auth_ok(r.header("authorization"), "user:pass");
            log += std::string(r.method) + " " + std::string(r.path) + " " + std::to_string(r.body.size()) + " " +
                   std::string(r.body) + (host_ok ? " h" : " -") + (auth_ok ? "a" : "-") + "\n";
            in.erase(0, parser.consumed());
            parser.reset();
            if (!r.keep_alive) return log + "close";
        }
        BTL_FUZZ_CHECK(in.size() <= lim.max_head_bytes + lim.max_body + 2);
    }
    return log;
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_rpc_request) {
    ByteReader in(data, size);
    const uint8_t flags = in.u8();
    std::vector<size_t> chunks;
    for (int i = 0; i < (flags & 0x0f); ++i) {
        uint8_t c = in.u8();
        chunks.push_back(c == 0 ? 4096 : c);
    }
    std::string_view stream(reinterpret_cast<const char*>(in.rest()), in.remaining());
    BTL_FUZZ_CHECK(serve(stream, {}) == serve(stream, chunks));
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_rpc_request)
