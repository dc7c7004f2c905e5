// PeerTransport: the byte pipe under one peer connection, as the protocol
// code sees it.  PeerConnection (peer_connection.hpp) is the TCP transport;
// a test can put a scripted in-memory one in its place, so the protocol
// (engine/peer.hpp) runs without sockets.
//
// Contract (every implementation):
// - incoming bytes are offered to the handler's on_data(), which returns how
//   many it consumed; the rest is offered again with the next bytes, as
//   the handler left them: the handler may change offered bytes in place
//   (MSE decrypts there), and they stay put until consumed;
// - keep(bytes), for bytes inside the buffer on_data() is looking at,
//   returns them as SharedBytes that outlive the call: a slice of the read
//   buffer where the transport can share it (nothing copied), else a copy;
// - send() and send_with_payload() queue bytes in order; queued_bytes()
//   counts what is not yet written, and each completed write is reported by
//   on_sent();
// - close() of a connected (or connecting) transport is asynchronous:
//   on_closed() runs later, from the loop, not inside close(); the handler
//   may destroy the transport inside on_closed().  Destroying a transport
//   earlier closes it silently.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/shared_bytes.hpp"

namespace btl {

class PeerConnectionHandler {
public:
    virtual ~PeerConnectionHandler() = default;
    virtual void on_connected() = 0;                         // outgoing connect succeeded
    virtual size_t on_data(std::string_view buffered) = 0;   // returns bytes consumed
    virtual void on_sent(size_t bytes) = 0;                  // a write completed
    virtual void on_closed(const std::string& reason) = 0;
};

class PeerTransport {
public:
    virtual ~PeerTransport() = default;
    virtual void set_handler(PeerConnectionHandler* h) = 0;

    virtual void send(std::string bytes) = 0;
    // Sends header then data[offset, offset+len) without copying the data.
    virtual void send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data,
                                   size_t offset, size_t len) = 0;
    [[nodiscard]] virtual size_t queued_bytes() const = 0;
    // Bytes of the current on_data() buffer, kept beyond the call.
    virtual SharedBytes keep(std::string_view bytes) { return copy_shared_bytes(bytes.data(), bytes.size()); }

    // Read back-pressure (the global download limit).
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    [[nodiscard]] virtual bool reading() const = 0;

    virtual void close(const std::string& reason) = 0;
    [[nodiscard]] virtual bool closing() const = 0;

    [[nodiscard]] virtual const std::string& remote_ip() const = 0;
    [[nodiscard]] virtual std::string remote() const = 0;  // "ip:port"
    // The stream is encrypted (MSE/PE with RC4 selected, mse_transport.hpp).
    [[nodiscard]] virtual bool encrypted() const { return false; }
    // Carried over uTP (BEP 29) rather than TCP (PEX flag 0x04, peer list).
    [[nodiscard]] virtual bool is_utp() const { return false; }
};

}  // namespace btl
