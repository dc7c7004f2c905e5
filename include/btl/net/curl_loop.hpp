// CurlLoop: one libcurl multi handle driven by a libuv loop, shared by every
// transfer on that loop so connections (and TLS sessions) are reused.  libcurl
// tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: one uv_poll per
// socket) and when to wake it (CURLMOPT_TIMERFUNCTION: one uv_timer); we hand
// readiness back through curl_multi_socket_action, as Transmission does.
//
// Contract: for_loop() returns the loop's CurlLoop, creating it on first use;
// it lives as long as someone holds the shared_ptr and closes its handles when
// the last holder lets go (the loop must then run once more to free them, as
// for any libuv handle).  add() takes a configured easy handle; `done` runs
// exactly once on the loop thread with the transfer's result, unless remove()
// is called first.  The caller keeps ownership of the easy handle and frees it
// after done() or remove().  done() may add, remove or free anything,
// including the last reference to the CurlLoop.  Loop thread only.
#pragma once
#include <curl/curl.h>
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <set>

#include "btl/base/uv_util.hpp"

namespace btl {

class CurlLoop : public std::enable_shared_from_this<CurlLoop> {
public:
    using Done = std::function<void(CURLcode)>;

    static std::shared_ptr<CurlLoop> for_loop(uv_loop_t* loop);
    ~CurlLoop();
    CurlLoop(const CurlLoop&) = delete;
    CurlLoop& operator=(const CurlLoop&) = delete;

    // False if libcurl refused the handle (then `done` never runs).
    bool add(CURL* easy, Done done);
    void remove(CURL* easy);
    size_t transfers() const { return pending_.size(); }

    struct Socket;  // one watched socket (a uv_poll_t), freed in its close callback

private:
    explicit CurlLoop(uv_loop_t* loop);
    static int on_socket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
    static int on_timer_set(CURLM* multi, long timeout_ms, void* userp);
    void action(curl_socket_t s, int flags);
    void collect_done();
    void close_socket(Socket* sock);

    uv_loop_t* loop_;
    CURLM* multi_ = nullptr;
    UvHandle<uv_timer_t> timer_;
    std::map<CURL*, Done> pending_;
    std::set<Socket*> sockets_;
};

}  // namespace btl
