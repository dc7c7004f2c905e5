#include "btl/net/utp_transport.hpp"

#include <random>

#include "btl/net/peer_connection.hpp"

namespace btl {

namespace {
constexpr size_t kMaxKnownUtp = 4096;
}

UtpContext::UtpContext(uv_loop_t* loop, SendTo send_to, UtpManagerConfig cfg) : loop_(loop) {
    std::random_device rd;
    auto rng = std::make_shared<std::mt19937>(rd() ^ uint32_t(uv_hrtime()));
    mgr_ = std::make_unique<UtpManager>(
        cfg, [] { return uv_hrtime() / 1000; }, std::move(send_to), [rng] { return uint32_t((*rng)()); });
    mgr_->set_accept([this](std::shared_ptr<UtpSocket> s, const sockaddr* from) {
        if (!accept_) return false;
        auto t = std::make_unique<UtpTransport>(*this, std::move(s), from, nullptr);
        note_utp(t->remote_ip());
        accept_(std::move(t));
        return true;
    });
    tick_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop_, t); });
    tick_->data = this;
    uv_timer_start(tick_.get(), [](uv_timer_t* t) {
        if (auto* c = static_cast<UtpContext*>(t->data)) c->mgr_->tick();
    }, 100, 100);
    uv_unref(tick_.handle());
    check_ = UvHandle<uv_check_t>::create([&](uv_check_t* c) { return uv_check_init(loop_, c); });
    check_->data = this;
    uv_check_start(check_.get(), [](uv_check_t* c) {
        auto* self = static_cast<UtpContext*>(c->data);
        if (!self) return;
        self->run_posted();
        self->mgr_->flush();
    });
    uv_unref(check_.handle());
    idle_ = UvHandle<uv_idle_t>::create([&](uv_idle_t* i) { return uv_idle_init(loop_, i); });
    idle_->data = this;
}

UtpContext::~UtpContext() {
    posted_.clear();
    mgr_.reset();
}

void UtpContext::note_utp(const std::string& ip) {
    if (!known_.insert(ip).second) return;
    known_order_.push_back(ip);
    if (known_order_.size() > kMaxKnownUtp) {
        known_.erase(known_order_.front());
        known_order_.pop_front();
    }
}

void UtpContext::post(std::function<void()> fn) {
    posted_.push_back(std::move(fn));
    // An active idle handle keeps the next poll from blocking.
    if (!uv_is_active(idle_.handle())) uv_idle_start(idle_.get(), [](uv_idle_t*) {});
}

void UtpContext::run_posted() {
    if (posted_.empty()) return;
    std::deque<std::function<void()>> now;
    now.swap(posted_);
    for (auto& fn : now) fn();
    if (posted_.empty()) uv_idle_stop(idle_.get());
}

std::unique_ptr<PeerTransport> UtpContext::dial(const sockaddr* to, PeerConnectionHandler* h) {
    auto s = mgr_->dial(to);
    if (!s) return nullptr;
    return std::make_unique<UtpTransport>(*this, std::move(s), to, h);
}

UtpTransport::UtpTransport(UtpContext& ctx, std::shared_ptr<UtpSocket> s, const sockaddr* remote,
                           PeerConnectionHandler* h)
    : ctx_(ctx), sock_(std::move(s)), handler_(h) {
    sockaddr_to_ip(remote, remote_ip_, remote_port_);
    sock_->set_events(this);
}

UtpTransport::~UtpTransport() {
    *alive_ = false;
    sock_->set_events(nullptr);
    if (!closing_) sock_->abort("closed");  // after close() the FIN goes on by itself
}

void UtpTransport::set_handler(PeerConnectionHandler* h) {
    handler_ = h;
    if (h && !sock_->received().empty()) post_deliver();
}

void UtpTransport::post_deliver() {
    std::weak_ptr<bool> alive = alive_;
    ctx_.post([this, alive] {
        if (auto a = alive.lock(); a && *a) deliver();
    });
}

void UtpTransport::send(std::string bytes) {
    if (closing_) return;
    sock_->write(bytes);
}

void UtpTransport::send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data,
                                     size_t offset, size_t len) {
    if (closing_) return;
    sock_->write(header);
    sock_->write(std::string_view(reinterpret_cast<const char*>(data->data()) + offset, len));
}

void UtpTransport::resume_reading() {
    if (reading_) return;
    reading_ = true;
    if (!sock_->received().empty()) post_deliver();
}

void UtpTransport::deliver() {
    if (!reading_ || !handler_ || closing_ || delivering_) return;
    delivering_ = true;
    // The handler consumes whole messages; what is left waits for more.
    auto buf = sock_->received();
    if (!buf.empty()) sock_->consume(handler_->on_data(buf));
    delivering_ = false;
}

void UtpTransport::utp_connected() {
    if (handler_ && !closing_) handler_->on_connected();
}

void UtpTransport::utp_acked(size_t bytes) {
    if (handler_ && !closing_) handler_->on_sent(bytes);
}

void UtpTransport::utp_closed(const std::string& reason) {
    deliver();  // what arrived before the FIN
    if (closing_) return;
    closing_ = true;
    report_closed(reason);
}

void UtpTransport::report_closed(const std::string& reason) {
    std::weak_ptr<bool> alive = alive_;
    ctx_.post([this, alive, reason] {
        auto a = alive.lock();
        if (a && *a && handler_) handler_->on_closed(reason);
    });
}

void UtpTransport::close(const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    sock_->close();
    report_closed(reason);
}

FallbackTransport::FallbackTransport(uv_loop_t* loop, Dialer first, Dialer second, uint64_t switch_ms)
    : second_(std::move(second)) {
    cur_ = first(this);
    if (!cur_) {
        cur_ = second_(this);
        second_ = nullptr;
        return;
    }
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* t) { return uv_timer_init(loop, t); });
    timer_->data = this;
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
        auto* self = static_cast<FallbackTransport*>(t->data);
        if (self && !self->connected_ && self->second_ && !self->closing_) self->switch_over();
    }, switch_ms, 0);
}

void FallbackTransport::switch_over() {
    timer_.reset();
    old_ = std::move(cur_);  // destroyed below: a transport destroyed early closes silently
    cur_ = second_(this);
    second_ = nullptr;
    connected_ = false;
    if (!replay_.empty()) cur_->send(std::move(replay_));  // queued until it connects
    replay_.clear();
    old_.reset();
}

void FallbackTransport::keep_for_replay(std::string_view b) {
    if (!second_) return;
    if (replay_.size() + b.size() > kMaxReplay) {
        second_ = nullptr;  // too much to say again: no fallback any more
        replay_.clear();
        return;
    }
    replay_.append(b);
}

void FallbackTransport::send(std::string bytes) {
    keep_for_replay(bytes);
    cur_->send(std::move(bytes));
}

void FallbackTransport::send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data,
                                          size_t offset, size_t len) {
    keep_for_replay(header);
    keep_for_replay(std::string_view(reinterpret_cast<const char*>(data->data()) + offset, len));
    cur_->send_with_payload(std::move(header), std::move(data), offset, len);
}

size_t FallbackTransport::on_data(std::string_view b) {
    // The remote spoke: this transport is the one.
    second_ = nullptr;
    replay_.clear();
    return handler_ ? handler_->on_data(b) : 0;
}

void FallbackTransport::on_connected() {
    connected_ = true;
    timer_.reset();
    if (reported_) return;  // the second transport after the first one connected
    reported_ = true;
    if (handler_) handler_->on_connected();
}

void FallbackTransport::on_closed(const std::string& reason) {
    if (!closing_ && second_) return switch_over();
    if (handler_) handler_->on_closed(reason);
}

void FallbackTransport::close(const std::string& reason) {
    closing_ = true;
    timer_.reset();
    second_ = nullptr;
    cur_->close(reason);
}

}  // namespace btl
