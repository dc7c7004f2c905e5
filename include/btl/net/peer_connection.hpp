// PeerConnection: the TCP transport (peer_transport.hpp) of one peer
// connection on the libuv loop.
//
// It knows nothing of the BitTorrent protocol: incoming bytes are kept in a
// read buffer (net/read_slab.hpp) and offered to the handler, which returns
// how many it consumed (whole messages) and may keep() ranges of them (the
// payload of a block) without a copy; the buffer grows only while the
// handler needs more bytes for one message, up to max_buffer (a peer
// announcing a giant message is refused by the handler before that).  Sends are queued to libuv; piece
// payloads are sent from shared buffers without copying.
//
// Lifetime: close() is asynchronous; the handler's on_closed() runs from the
// libuv close callback, and the owner may destroy the PeerConnection inside
// on_closed() or at any time after (destroying it earlier closes silently).
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/uv_util.hpp"
#include "btl/net/peer_transport.hpp"
#include "btl/net/read_slab.hpp"

namespace btl {

class PeerConnection final : public PeerTransport {
public:
    PeerConnection(uv_loop_t* loop, PeerConnectionHandler* h, size_t max_buffer = (1u << 20) + 64 * 1024);
    ~PeerConnection() override;
    PeerConnection(const PeerConnection&) = delete;
    PeerConnection& operator=(const PeerConnection&) = delete;

    // Outgoing: connect to addr (from bind_ip if not empty).  Reports
    // on_connected() or on_closed(reason).
    void connect(const sockaddr* addr, const std::string& bind_ip, uint64_t timeout_ms);
    // Incoming: take over an accepted socket and start reading.
    void adopt(uv_tcp_t* accepted);
    void set_handler(PeerConnectionHandler* h) override { handler_ = h; }

    void send(std::string bytes) override;
    // Sends header then data[offset, offset+len) without copying the data.
    void send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data, size_t offset,
                           size_t len) override;
    size_t queued_bytes() const override { return queued_; }
    SharedBytes keep(std::string_view bytes) override { return in_.keep(bytes); }

    void pause_reading() override;
    void resume_reading() override;
    bool reading() const override { return reading_; }

    void close(const std::string& reason) override;
    bool closing() const override { return closing_; }

    const std::string& remote_ip() const override { return remote_ip_; }
    uint16_t remote_port() const { return remote_port_; }
    std::string remote() const override;  // "ip:port"
    void write_done(size_t bytes, int status);  // from the libuv write callback

private:
    static void on_alloc(uv_handle_t*, size_t, uv_buf_t*);
    static void on_read(uv_stream_t*, ssize_t, const uv_buf_t*);
    void start_reading();
    void fill_remote();

    uv_loop_t* loop_;
    PeerConnectionHandler* handler_;
    uv_tcp_t* tcp_ = nullptr;
    UvHandle<uv_timer_t> connect_timer_;
    ReadSlab in_;
    size_t max_buffer_;
    size_t queued_ = 0;
    bool reading_ = false, want_read_ = true, closing_ = false, connected_ = false;
    std::string close_reason_;
    std::string remote_ip_;
    uint16_t remote_port_ = 0;
};

// Listener: accepts TCP connections on the first free port of a range.
// With no bind address it listens on both stacks, 0.0.0.0 and [::]
// (IPv6-only, so IPv4 peers keep plain addresses), on the same port number;
// a host without IPv6 gets the IPv4 socket alone (ipv6_error() says why).
class Listener {
public:
    using AcceptFn = std::function<void(uv_tcp_t* accepted)>;  // takes ownership
    explicit Listener(uv_loop_t* loop) : loop_(loop) {}
    // Returns 0 and sets port() on success, or a libuv error code.
    int listen(const std::string& bind_ip, uint16_t minport, uint16_t maxport, AcceptFn fn);
    uint16_t port() const { return port_; }
    // Both stacks are listened on (no bind address and IPv6 available).
    bool dual_stack() const { return tcp_ && tcp6_; }
    int ipv6_error() const { return v6_error_; }
    void close() {
        tcp_.reset();
        tcp6_.reset();
    }

private:
    UvHandle<uv_tcp_t> bind_one(const std::string& ip, uint16_t port, int* rc);
    uv_loop_t* loop_;
    UvHandle<uv_tcp_t> tcp_, tcp6_;
    AcceptFn fn_;
    uint16_t port_ = 0;
    int v6_error_ = 0;
};

// Formats a sockaddr as ip and port; false for unknown families.
bool sockaddr_to_ip(const sockaddr* sa, std::string& ip, uint16_t& port);
// Parses "1.2.3.4" or "::1" plus port into storage; false if not an IP literal.
bool ip_to_sockaddr(const std::string& ip, uint16_t port, sockaddr_storage& out);

}  // namespace btl
