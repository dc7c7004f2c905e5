// resolve_address: a host name or IP literal plus a port, to a socket address,
// on the libuv loop.  A literal is answered at once (the callback runs before
// resolve_address returns); a name goes through uv_getaddrinfo on the thread
// pool.  When a name has several addresses, the family of `bind_ip` is
// preferred (so a bind option is honoured), else IPv4.  The callback runs
// exactly once; callers that may be gone by then capture a liveness token.
#pragma once
#include <uv.h>

#include <functional>
#include <string>

#include "btl/result.hpp"

namespace btl {

void resolve_address(uv_loop_t* loop, const std::string& host, uint16_t port, int socktype,
                     const std::string& bind_ip, std::function<void(Result<sockaddr_storage>)> cb);

}  // namespace btl
