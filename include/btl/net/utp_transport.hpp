// uTP on the libuv loop: UtpContext runs a UtpManager on the shared UDP
// socket (its owner routes uTP datagrams to incoming() and lends a send
// function) with the loop's clock, a 100 ms timer for the
// connections' timeouts and an end-of-turn flush (deferred ACKs, partial
// packets); UtpTransport is one uTP connection behind the PeerTransport
// interface, so the protocol above cannot tell it from TCP.
//
// FallbackTransport dials one transport and, if it fails or does not
// connect within the given time, dials the other in its place, invisibly
// to the handler (uTP first for peers known to speak it, TCP otherwise with
// uTP when TCP is refused).  A first transport that connects but is closed
// before the remote sent a byte (a uTP-only libtorrent accepts TCP and
// drops it) is replaced too: what was sent on it (the handshake, at most
// kMaxReplay bytes) is sent again on the second.
#pragma once
#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "btl/base/uv_util.hpp"
#include "btl/net/peer_transport.hpp"
#include "btl/net/utp_manager.hpp"

namespace btl {

class UtpContext {
public:
    using AcceptFn = std::function<void(std::unique_ptr<PeerTransport>)>;
    using SendTo = UtpManager::SendTo;
    UtpContext(uv_loop_t* loop, SendTo send_to, UtpManagerConfig cfg = {});
    ~UtpContext();
    UtpContext(const UtpContext&) = delete;
    UtpContext& operator=(const UtpContext&) = delete;

    void incoming(const sockaddr* from, std::string_view datagram) { mgr_->incoming(from, datagram); }
    // Confirmed incoming connections (their handler is set by the taker).
    void set_accept(AcceptFn fn) { accept_ = std::move(fn); }
    // Outgoing; nullptr when the connection cap is reached.
    std::unique_ptr<PeerTransport> dial(const sockaddr* to, PeerConnectionHandler* h);

    // Addresses seen speaking uTP (bounded, oldest forgotten first).
    bool knows_utp(const std::string& ip) const { return known_.count(ip) > 0; }
    void note_utp(const std::string& ip);

    // Runs fn on a later loop turn (never inside the caller).
    void post(std::function<void()> fn);
    UtpManager& manager() { return *mgr_; }
    uv_loop_t* loop() const { return loop_; }

private:
    void run_posted();
    uv_loop_t* loop_;
    std::unique_ptr<UtpManager> mgr_;
    AcceptFn accept_;
    UvHandle<uv_timer_t> tick_;
    UvHandle<uv_check_t> check_;
    UvHandle<uv_idle_t> idle_;
    std::deque<std::function<void()>> posted_;
    std::set<std::string> known_;
    std::deque<std::string> known_order_;
};

class UtpTransport final : public PeerTransport, private UtpSocketEvents {
public:
    UtpTransport(UtpContext& ctx, std::shared_ptr<UtpSocket> s, const sockaddr* remote, PeerConnectionHandler* h);
    ~UtpTransport() override;

    void set_handler(PeerConnectionHandler* h) override;
    void send(std::string bytes) override;
    void send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data, size_t offset,
                           size_t len) override;
    size_t queued_bytes() const override { return sock_->pending_bytes(); }
    void pause_reading() override { reading_ = false; }
    void resume_reading() override;
    bool reading() const override { return reading_; }
    void close(const std::string& reason) override;
    bool closing() const override { return closing_; }
    const std::string& remote_ip() const override { return remote_ip_; }
    std::string remote() const override { return remote_ip_ + ":" + std::to_string(remote_port_); }
    bool is_utp() const override { return true; }

private:
    void utp_connected() override;
    void utp_readable() override { deliver(); }
    void utp_acked(size_t bytes) override;
    void utp_closed(const std::string& reason) override;
    void deliver();
    void report_closed(const std::string& reason);
    void post_deliver();

    UtpContext& ctx_;
    std::shared_ptr<UtpSocket> sock_;
    PeerConnectionHandler* handler_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool reading_ = true, closing_ = false, delivering_ = false;
    std::string remote_ip_;
    uint16_t remote_port_ = 0;
};

class FallbackTransport final : public PeerTransport, private PeerConnectionHandler {
public:
    using Dialer = std::function<std::unique_ptr<PeerTransport>(PeerConnectionHandler*)>;
    // Dials first now; second when first fails or has not connected after
    // switch_ms.  on_switch (optional) hears which one is in use.
    FallbackTransport(uv_loop_t* loop, Dialer first, Dialer second, uint64_t switch_ms);
    ~FallbackTransport() override = default;

    static constexpr size_t kMaxReplay = 64 * 1024;
    void set_handler(PeerConnectionHandler* h) override { handler_ = h; }
    void send(std::string bytes) override;
    void send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data, size_t offset,
                           size_t len) override;
    size_t queued_bytes() const override { return cur_->queued_bytes(); }
    SharedBytes keep(std::string_view bytes) override { return cur_->keep(bytes); }
    void pause_reading() override { cur_->pause_reading(); }
    void resume_reading() override { cur_->resume_reading(); }
    bool reading() const override { return cur_->reading(); }
    void close(const std::string& reason) override;
    bool closing() const override { return closing_ || cur_->closing(); }
    const std::string& remote_ip() const override { return cur_->remote_ip(); }
    std::string remote() const override { return cur_->remote(); }
    bool is_utp() const override { return cur_->is_utp(); }
    bool on_second() const { return second_ == nullptr; }

private:
    void on_connected() override;
    size_t on_data(std::string_view b) override;
    void keep_for_replay(std::string_view b);
    void on_sent(size_t n) override {
        if (handler_) handler_->on_sent(n);
    }
    void on_closed(const std::string& reason) override;
    void switch_over();

    PeerConnectionHandler* handler_ = nullptr;
    std::unique_ptr<PeerTransport> cur_, old_;
    Dialer second_;
    UvHandle<uv_timer_t> timer_;
    bool connected_ = false, closing_ = false, reported_ = false;
    std::string replay_;  // sent before the remote said anything
};

}  // namespace btl
