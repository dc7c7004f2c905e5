// HttpGet: one HTTP or HTTPS GET on the libuv loop, for tracker announces and
// scrapes, carried by libcurl on the loop's shared CurlLoop (TLS with
// certificate and host-name verification, SNI, gzip, IPv6, keep-alive).
// Bounded in every dimension a hostile server controls: total time
// (timeout_ms), response size (max_bytes, headers plus decoded body, so a
// gzip bomb stops at the cap too), redirects (max_redirects, to http: or
// https: only).  The callback runs exactly once on the loop thread, unless the
// HttpGet is destroyed first, in which case it never runs (destruction
// cancels).  A failure is one line: "timed out after 20 s", "response too
// large (over 4096 KiB), stopped reading", "too many redirects (more than
// 3)", "certificate verify failed (HOST: why)", ...
//
// Certificates are checked against the system's CA store (Debian
// ca-certificates); ca_file adds a PEM bundle to it (a private tracker's own
// CA, or a test CA).  Proxy variables in the environment are ignored, as the
// hand-written client before this one did.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "btl/base/result.hpp"

namespace btl {

struct HttpResponse {
    int status = 0;
    std::string body;
};

struct HttpOptions {
    uint64_t timeout_ms = 30'000;
    size_t max_bytes = 4u << 20;      // headers + decoded body
    int max_redirects = 3;
    std::string bind_ip;              // local address to connect from ("" = any)
    std::string user_agent = "btlaunchmany/0.1";
    std::string ca_file;              // extra CA bundle (PEM), added to the system store
};

class CurlLoop;

class HttpGet {
public:
    using Callback = std::function<void(Result<HttpResponse>)>;
    HttpGet(uv_loop_t* loop, HttpOptions opt = {});
    ~HttpGet();
    HttpGet(const HttpGet&) = delete;
    HttpGet& operator=(const HttpGet&) = delete;

    // Starts the request (cancelling one in flight); `url` must be
    // http:// or https://host[:port]/path?query.
    void start(const std::string& url, Callback cb);
    bool busy() const { return active_; }

    struct Impl;

private:
    void cancel();
    uv_loop_t* loop_;
    HttpOptions opt_;
    std::unique_ptr<Impl> impl_;  // only while a request runs
    // The loop's curl multi handle (and its connection cache) outlives each
    // request: kept while this object lives, as when impl_ was kept.
    std::shared_ptr<CurlLoop> curl_;
    bool active_ = false;
};

// The directory of hashed system CA certificates kept next to an extra
// --ca_file (Debian's ca-certificates).
inline constexpr const char* kSystemCaPath = "/etc/ssl/certs";

}  // namespace btl
