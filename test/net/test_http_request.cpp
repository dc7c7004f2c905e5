#include <doctest/doctest.h>

#include <string>

#include "btl/net/http_request.hpp"

using namespace btl;

TEST_CASE("http: a complete GET request parses with path, query and keep-alive") {
    HttpRequestParser p;
    std::string r = "GET /announce?info_hash=%41&port=1 HTTP/1.1\r\nHost: x\r\n\r\nNEXT";
    REQUIRE(p.parse(r) == HttpParse::complete);
    CHECK(p.consumed() == r.size() - 4);
    CHECK(p.request().method == "GET");
    CHECK(p.request().path == "/announce");
    CHECK(p.request().query == "info_hash=%41&port=1");
    CHECK(p.request().keep_alive);
    CHECK(p.request().header("HOST") == "x");
}

TEST_CASE("http: input fed one byte at a time completes exactly at the blank line") {
    HttpRequestParser p;
    std::string r = "GET /scrape HTTP/1.0\nConnection: keep-alive\n\n";
    for (size_t i = 1; i < r.size(); ++i) REQUIRE(p.parse(std::string_view(r).substr(0, i)) == HttpParse::incomplete);
    REQUIRE(p.parse(r) == HttpParse::complete);
    CHECK(p.request().version_minor == 0);
    CHECK(p.request().keep_alive);  // 1.0 with explicit keep-alive
}

TEST_CASE("http: Connection close and request bodies turn keep-alive off") {
    HttpRequestParser p;
    REQUIRE(p.parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") == HttpParse::complete);
    CHECK_FALSE(p.request().keep_alive);
    p.reset();
    REQUIRE(p.parse("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n") == HttpParse::complete);
    CHECK_FALSE(p.request().keep_alive);
    p.reset();
    REQUIRE(p.parse("GET / HTTP/1.0\r\n\r\n") == HttpParse::complete);
    CHECK_FALSE(p.request().keep_alive);
}

TEST_CASE("http: limits give 414 and 431 before the head is complete") {
    HttpLimits lim;
    lim.max_request_line = 100;
    lim.max_head_bytes = 300;
    lim.max_headers = 3;
    HttpRequestParser p(lim);
    std::string longuri = "GET /" + std::string(200, 'a');
    CHECK(p.parse(longuri) == HttpParse::error);  // no newline yet
    CHECK(p.error_status() == 414);

    HttpRequestParser q(lim);
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 4; ++i) many += "X-A: 1\r\n";
    CHECK(q.parse(many) == HttpParse::error);
    CHECK(q.error_status() == 431);

    HttpRequestParser h(lim);
    CHECK(h.parse("GET / HTTP/1.1\r\nX: " + std::string(400, 'b')) == HttpParse::error);
    CHECK(h.error_status() == 431);
}

TEST_CASE("http: malformed request lines are 400 or 505") {
    for (const char* bad : {"GARBAGE\r\n\r\n", "GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
                            "G(T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
                            "\x16\x03\x01\x02\xfe\x01\x7f\x01\xfc\x03\x03\n\n"}) {
        HttpRequestParser p;
        CAPTURE(bad);
        CHECK(p.parse(bad) == HttpParse::error);
        CHECK(p.error_status() == 400);
    }
    HttpRequestParser p;
    CHECK(p.parse("GET / HTTP/2.0\r\n\r\n") == HttpParse::error);
    CHECK(p.error_status() == 505);
}

TEST_CASE("http: absolute-form targets and leading blank lines are accepted") {
    HttpRequestParser p;
    REQUIRE(p.parse("\r\nGET http://tracker:6969/announce?a=1 HTTP/1.1\r\n\r\n") == HttpParse::complete);
    CHECK(p.request().path == "/announce");
    CHECK(p.request().query == "a=1");
}

TEST_CASE("http: percent-decoding yields raw binary bytes and rejects bad escapes") {
    std::string out;
    REQUIRE(percent_decode("%00%ff%7Fa+b", out));
    CHECK(out == std::string("\x00\xff\x7f" "a b", 6));
    CHECK_FALSE(percent_decode("%4", out));
    CHECK_FALSE(percent_decode("%zz", out));
    CHECK_FALSE(percent_decode("abc%", out));
    char buf[2];
    size_t len;
    CHECK_FALSE(percent_decode("abc", buf, sizeof buf, len));
    CHECK(percent_decode("%41b", buf, sizeof buf, len));
    CHECK(len == 2);
}

TEST_CASE("http: query parameters are split in order, empty ones skipped") {
    std::string seen;
    for_each_query_param("a=1&&b&c=&d=x=y", [&](std::string_view k, std::string_view v) {
        seen += std::string(k) + ":" + std::string(v) + ";";
    });
    CHECK(seen == "a:1;b:;c:;d:x=y;");
}

// ---- bodies (the RPC server sets max_body) ------------------------------

namespace {
HttpLimits with_body(size_t max_body) {
    HttpLimits lim;
    lim.max_body = max_body;
    return lim;
}
}  // namespace

TEST_CASE("http body: a POST completes only once Content-Length bytes arrived, then the next request follows") {
    HttpRequestParser p(with_body(1024));
    std::string r = "POST /transmission/rpc HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    std::string next = "GET /metrics HTTP/1.1\r\n\r\n";
    std::string all = r + next;
    for (size_t i = 1; i < r.size(); ++i) REQUIRE(p.parse(std::string_view(all).substr(0, i)) == HttpParse::incomplete);
    REQUIRE(p.parse(all) == HttpParse::complete);
    CHECK(p.request().body == "hello");
    CHECK(p.consumed() == r.size());
    CHECK(p.request().keep_alive);
    std::string rest = all.substr(p.consumed());
    p.reset();
    REQUIRE(p.parse(rest) == HttpParse::complete);
    CHECK(p.request().path == "/metrics");
    CHECK(p.request().body.empty());
}

TEST_CASE("http body: one clear status per framing mistake") {
    auto status_of = [](const std::string& head) {
        HttpRequestParser p(with_body(100));
        HttpParse r = p.parse(head);
        return r == HttpParse::error ? p.error_status() : 0;
    };
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n") == 413);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n") == 0);  // waits for the body
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 501);
}

TEST_CASE("http body: repeated equal Content-Length values are accepted; the tracker's limits still read no body") {
    HttpRequestParser p(with_body(100));
    REQUIRE(p.parse("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok") == HttpParse::complete);
    CHECK(p.request().body == "ok");
    HttpRequestParser tracker;  // max_body 0: head only, and no keep-alive after a body
    REQUIRE(tracker.parse("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok") == HttpParse::complete);
    CHECK(tracker.request().body.empty());
    CHECK_FALSE(tracker.request().keep_alive);
}
