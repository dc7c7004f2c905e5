// MseTransport: a PeerTransport that runs the MSE/PE handshake (mse.hpp) over
// another transport and then encrypts and decrypts the stream with RC4 (or
// passes it through when plain text was selected), so the protocol above it
// (engine/peer.hpp), the choker and the rate limits see plain bytes either
// way.
//
// Outgoing: the initiator starts when the inner transport connects; the
// handler's on_connected() is reported at once, and what it sends meanwhile
// (the BitTorrent handshake) waits until the negotiation ends.  Incoming:
// the responder runs on the first bytes; the handler sees only what follows
// the negotiation (the initial payload first).  A failed negotiation closes
// the connection with a reason starting "encryption handshake".
#pragma once
#include <memory>
#include <string>

#include "btl/net/mse.hpp"
#include "btl/net/peer_transport.hpp"

namespace btl {

class MseTransport final : public PeerTransport, private PeerConnectionHandler {
public:
    // Takes the inner transport over (it reports to this object from now on).
    MseTransport(std::unique_ptr<PeerTransport> inner, MseHandshake hs, PeerConnectionHandler* h);
    ~MseTransport() override;

    // Incoming: the inner transport's buffered bytes at the moment it was
    // taken over (returns how many were used, like on_data).
    size_t take_buffered(std::string_view buffered) { return on_data(buffered); }

    void set_handler(PeerConnectionHandler* h) override { handler_ = h; }
    void send(std::string bytes) override;
    void send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data, size_t offset,
                           size_t len) override;
    size_t queued_bytes() const override { return inner_->queued_bytes() + held_.size(); }
    // Decrypted in place: a block is a slice of the inner transport's buffer.
    SharedBytes keep(std::string_view bytes) override { return inner_->keep(bytes); }
    void pause_reading() override { inner_->pause_reading(); }
    void resume_reading() override { inner_->resume_reading(); }
    bool reading() const override { return inner_->reading(); }
    void close(const std::string& reason) override { inner_->close(reason); }
    bool closing() const override { return inner_->closing(); }
    const std::string& remote_ip() const override { return inner_->remote_ip(); }
    std::string remote() const override { return inner_->remote(); }
    bool encrypted() const override { return hs_.done() && hs_.selected() == kMseCryptoRc4; }

    bool negotiated() const { return hs_.done(); }

private:
    void on_connected() override;
    size_t on_data(std::string_view buffered) override;
    void on_sent(size_t bytes) override;
    void on_closed(const std::string& reason) override;
    void send_raw(std::string bytes, bool handshake);
    size_t stream(std::string_view bytes);  // the bytes after the negotiation
    void negotiated_now();

    std::unique_ptr<PeerTransport> inner_;
    MseHandshake hs_;
    PeerConnectionHandler* handler_;
    std::string held_;        // sent by the handler before the negotiation ended
    std::string plain_;       // the initial payload and what follows it, until consumed
    size_t dec_ = 0;          // leading bytes of the inner buffer decrypted in place already
    size_t hs_unsent_ = 0;    // handshake bytes whose write is not yet reported
    bool rc4_ = false;
    bool started_ = false;  // the inner transport is connected
};

}  // namespace btl
