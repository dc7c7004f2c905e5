#include "btl/net/curl_loop.hpp"

#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace btl {

struct CurlLoop::Socket {
    uv_poll_t poll;
    curl_socket_t fd;
    CurlLoop* owner;
};

namespace {

// One CurlLoop per uv loop.  Weak entries, so a loop whose transfers are all
// gone holds no handles (a test's loop can close cleanly), and a mutex since
// several loops may live on several threads (unit tests, the launcher).
std::mutex g_registry_mutex;
std::unordered_map<uv_loop_t*, std::weak_ptr<CurlLoop>> g_registry;

void global_init_once() {
    // curl_global_init is not thread-safe in 7.88; call it exactly once.
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::shared_ptr<CurlLoop> CurlLoop::for_loop(uv_loop_t* loop) {
    global_init_once();
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    auto& slot = g_registry[loop];
    if (auto existing = slot.lock()) return existing;
    std::shared_ptr<CurlLoop> made(new CurlLoop(loop));
    slot = made;
    return made;
}

CurlLoop::CurlLoop(uv_loop_t* loop) : loop_(loop) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlLoop::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlLoop::on_timer_set);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    if (timer_) timer_->data = this;
}

CurlLoop::~CurlLoop() {
    {
        std::lock_guard<std::mutex> lock(g_registry_mutex);
        auto it = g_registry.find(loop_);
        if (it != g_registry.end() && it->second.expired()) g_registry.erase(it);
    }
    for (auto& [easy, done] : pending_) curl_multi_remove_handle(multi_, easy);
    pending_.clear();
    // Cleanup closes cached connections and may still report sockets to
    // on_socket; whatever it leaves watched is closed here.
    curl_multi_cleanup(multi_);
    multi_ = nullptr;
    while (!sockets_.empty()) close_socket(*sockets_.begin());
    timer_.reset();
}

bool CurlLoop::add(CURL* easy, Done done) {
    if (!multi_ || curl_multi_add_handle(multi_, easy) != CURLM_OK) return false;
    pending_[easy] = std::move(done);
    return true;
}

void CurlLoop::remove(CURL* easy) {
    auto it = pending_.find(easy);
    if (it == pending_.end()) return;
    pending_.erase(it);
    curl_multi_remove_handle(multi_, easy);
}

void CurlLoop::close_socket(Socket* sock) {
    sockets_.erase(sock);
    sock->owner = nullptr;
    sock->poll.data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&sock->poll),
             [](uv_handle_t* h) { delete reinterpret_cast<Socket*>(reinterpret_cast<char*>(h) - offsetof(Socket, poll)); });
}

int CurlLoop::on_socket(CURL*, curl_socket_t s, int what, void* userp, void* socketp) {
    auto* self = static_cast<CurlLoop*>(userp);
    auto* sock = static_cast<Socket*>(socketp);
    if (what == CURL_POLL_REMOVE) {
        // libcurl says REMOVE before it closes the socket, so the poll
        // handle never watches a closed (or reused) descriptor.
        if (sock) {
            if (self->multi_) curl_multi_assign(self->multi_, s, nullptr);
            self->close_socket(sock);
        }
        return 0;
    }
    if (!sock) {
        sock = new Socket{};
        sock->fd = s;
        sock->owner = self;
        if (uv_poll_init_socket(self->loop_, &sock->poll, s) != 0) {
            delete sock;
            return -1;
        }
        sock->poll.data = sock;
        self->sockets_.insert(sock);
        curl_multi_assign(self->multi_, s, sock);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&sock->poll, events, [](uv_poll_t* h, int status, int ev) {
        auto* sock = static_cast<Socket*>(h->data);
        if (!sock || !sock->owner) return;
        int flags = 0;
        if (status < 0) flags = CURL_CSELECT_ERR;
        if (ev & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (ev & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
        sock->owner->action(sock->fd, flags);
    });
    return 0;
}

int CurlLoop::on_timer_set(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<CurlLoop*>(userp);
    if (!self->timer_) return -1;
    if (timeout_ms < 0) {
        uv_timer_stop(self->timer_.get());
        return 0;
    }
    // Not calling socket_action from inside libcurl's own callback: a zero
    // timeout just fires on the next loop turn.
    uv_timer_start(self->timer_.get(), [](uv_timer_t* t) {
        auto* self = static_cast<CurlLoop*>(t->data);
        if (self) self->action(CURL_SOCKET_TIMEOUT, 0);
    }, uint64_t(timeout_ms), 0);
    return 0;
}

void CurlLoop::action(curl_socket_t s, int flags) {
    auto keep = shared_from_this();  // a done() may drop the last other reference
    int running = 0;
    curl_multi_socket_action(multi_, s, flags, &running);
    collect_done();
}

void CurlLoop::collect_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        auto it = pending_.find(easy);
        if (it == pending_.end()) continue;
        Done done = std::move(it->second);
        pending_.erase(it);
        curl_multi_remove_handle(multi_, easy);
        if (done) done(rc);
    }
}

}  // namespace btl
