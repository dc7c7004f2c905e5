// HttpGet: one HTTP/1.0 GET on the libuv loop, for tracker announces and
// scrapes.  Bounded in every dimension a hostile server controls: total time
// (timeout), response size (max_bytes), redirects (max_redirects).  The
// callback runs exactly once on the loop thread, unless the HttpGet is
// destroyed first, in which case it never runs (destruction cancels).
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "btl/base/result.hpp"
#include "btl/base/uv_util.hpp"

namespace btl {

struct HttpResponse {
    int status = 0;
    std::string body;
};

struct HttpOptions {
    uint64_t timeout_ms = 30'000;
    size_t max_bytes = 4u << 20;      // headers + body
    int max_redirects = 3;
    std::string bind_ip;              // local address to connect from ("" = any)
    std::string user_agent = "btlaunchmany/0.1";
};

class HttpGet {
public:
    using Callback = std::function<void(Result<HttpResponse>)>;
    HttpGet(uv_loop_t* loop, HttpOptions opt = {});
    ~HttpGet();
    HttpGet(const HttpGet&) = delete;
    HttpGet& operator=(const HttpGet&) = delete;

    // Starts the request; `url` must be http://host[:port]/path?query.
    void start(const std::string& url, Callback cb);
    bool busy() const { return active_; }

private:
    struct Impl;
    uv_loop_t* loop_;
    HttpOptions opt_;
    std::shared_ptr<Impl> impl_;
    bool active_ = false;
};

// Splits "http://host:port/path" (host may be [v6]); false if malformed.
bool split_http_url(const std::string& url, std::string& host, uint16_t& port, std::string& path);

}  // namespace btl
