// resolve_address: a host name or IP literal plus a port, to a socket address,
// on the libuv loop.  A literal is answered at once (the callback runs before
// resolve_address returns); a name goes through uv_getaddrinfo on the thread
// pool.  When a name has several addresses, the family of `bind_ip` is
// preferred (so a bind option is honoured), else IPv4.  The callback runs
// exactly once; callers that may be gone by then capture a liveness token.
//
// The thread pool also does every disk read, write and hash, so names are
// looked up at most kMaxConcurrentLookups at a time per loop (the rest wait
// in order), and requests for a name already being looked up join that
// lookup: hundreds of torrents whose trackers sit behind a slow or dead DNS
// server cannot fill the pool and stall the disk.
#pragma once
#include <uv.h>

#include <cstddef>
#include <functional>
#include <string>

#include "btl/base/result.hpp"

namespace btl {

constexpr int kMaxConcurrentLookups = 2;

void resolve_address(uv_loop_t* loop, const std::string& host, uint16_t port, int socktype,
                     const std::string& bind_ip, std::function<void(Result<sockaddr_storage>)> cb);

// Names being looked up or waiting for a turn on this loop, and the ones
// being looked up (for tests).
size_t resolve_pending(uv_loop_t* loop);
size_t resolve_running(uv_loop_t* loop);

}  // namespace btl
