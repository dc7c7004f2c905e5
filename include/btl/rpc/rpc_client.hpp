// RpcClient: calls to a Transmission-RPC server (transmission-daemon, or
// btlaunchmany's own engine) from the libuv loop, carried by libcurl on the
// loop's CurlLoop, never blocking the loop.
//
// Contract: call(body, cb) posts one JSON request; cb runs exactly once on
// the loop thread with the answer's body (HTTP 200) or one error line,
// unless the client is destroyed first (then never).  The
// X-Transmission-Session-Id handshake is handled here: a 409 carries the
// session id, which is remembered and the request sent again once.  With
// credentials (USER:PASS) every request carries HTTP Basic authentication;
// a 401 is the error "the engine refused the credentials (...)".  The
// endpoint is a URL (http://HOST:PORT/transmission/rpc) or a Unix socket
// path (the path of the URL is then /transmission/rpc on that socket).
// Answers are bounded (max_bytes) and so is each call's time (timeout_ms).
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "btl/base/result.hpp"
#include "btl/net/curl_loop.hpp"

namespace btl::rpc {

struct RpcEndpoint {
    std::string url;          // http://HOST:PORT/transmission/rpc
    std::string unix_socket;  // when set, the URL's host is not dialled
    std::string auth;         // USER:PASS, "" = none
    std::string describe() const { return unix_socket.empty() ? url : unix_socket; }
};

// What `--attach [TARGET]` names: "" = default_socket; an http:// or
// https:// URL (a bare host:port gets /transmission/rpc); a path (contains
// '/') = a Unix socket.  An error names what was wrong.
Result<RpcEndpoint> parse_attach_target(const std::string& target, const std::string& default_socket);

class RpcClient {
public:
    using Callback = std::function<void(Result<std::string>)>;
    RpcClient(uv_loop_t* loop, RpcEndpoint ep, uint64_t timeout_ms = 10'000, size_t max_bytes = 256u << 20);
    ~RpcClient();
    RpcClient(const RpcClient&) = delete;
    RpcClient& operator=(const RpcClient&) = delete;

    void call(std::string body, Callback cb);
    size_t in_flight() const { return calls_.size(); }
    const RpcEndpoint& endpoint() const { return ep_; }

    struct Call;

private:
    void send(Call* c);
    void finish(Call* c, int curl_code);

    uv_loop_t* loop_;
    RpcEndpoint ep_;
    uint64_t timeout_ms_;
    size_t max_bytes_;
    std::string session_id_;
    std::shared_ptr<CurlLoop> curl_;
    std::set<Call*> calls_;
};

}  // namespace btl::rpc
