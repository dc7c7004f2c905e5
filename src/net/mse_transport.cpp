#include "btl/net/mse_transport.hpp"

#include <algorithm>

namespace btl {

namespace {
// Decrypted bytes the handler has not taken: at most one message (the
// handler takes whole ones) plus one read.
constexpr size_t kMaxPlainBuffer = (1u << 20) + 256 * 1024;
}  // namespace

MseTransport::MseTransport(std::unique_ptr<PeerTransport> inner, MseHandshake hs, PeerConnectionHandler* h)
    : inner_(std::move(inner)), hs_(std::move(hs)), handler_(h) {
    inner_->set_handler(this);
}

MseTransport::~MseTransport() = default;

void MseTransport::send_raw(std::string bytes, bool handshake) {
    if (bytes.empty()) return;
    if (handshake) hs_unsent_ += bytes.size();
    inner_->send(std::move(bytes));
}

void MseTransport::on_connected() {
    started_ = true;
    hs_.start();
    send_raw(hs_.take_output(), true);
    if (handler_) handler_->on_connected();
}

void MseTransport::negotiated_now() {
    rc4_ = hs_.selected() == kMseCryptoRc4;
    plain_ = hs_.take_initial_payload();
    if (!held_.empty()) send(std::move(held_));
    held_.clear();
}

size_t MseTransport::on_data(std::string_view buffered) {
    started_ = true;
    if (hs_.done()) return stream(buffered);
    size_t n = hs_.feed(buffered);
    send_raw(hs_.take_output(), true);
    if (hs_.failed()) {
        inner_->close(hs_.error());
        return 0;
    }
    if (!hs_.done()) return n;
    negotiated_now();
    if (inner_->closing()) return n;
    return n + stream(buffered.substr(n));
}

size_t MseTransport::stream(std::string_view bytes) {
    // RC4 runs in place in the inner transport's buffer, which offers what
    // was not consumed again, as left: the first dec_ bytes are plain already.
    if (rc4_ && bytes.size() > dec_)
        hs_.decryptor().apply(const_cast<char*>(bytes.data()) + dec_, bytes.size() - dec_);
    dec_ = bytes.size();
    if (!handler_) return 0;
    if (plain_.empty()) {
        const size_t used = std::min(handler_->on_data(bytes), bytes.size());
        dec_ = bytes.size() - used;
        return used;
    }
    // The negotiation's initial payload goes first, with these bytes.
    plain_.append(bytes);
    const size_t used = std::min(handler_->on_data(plain_), plain_.size());
    const size_t left = plain_.size() - used;
    if (left <= bytes.size()) {
        // What is left lies in the inner buffer too: it stays there, and
        // from now on nothing is copied.
        plain_.clear();
        dec_ = left;
        return bytes.size() - left;
    }
    plain_.erase(0, used);
    dec_ = 0;
    if (plain_.size() > kMaxPlainBuffer) inner_->close("message larger than the read buffer");
    return bytes.size();
}

void MseTransport::on_sent(size_t bytes) {
    size_t hs = std::min(bytes, hs_unsent_);
    hs_unsent_ -= hs;
    bytes -= hs;
    if (bytes > 0 && handler_) handler_->on_sent(bytes);
}

void MseTransport::on_closed(const std::string& reason) {
    std::string why = reason;
    if (started_ && !hs_.done() && why.rfind("encryption", 0) != 0) why = "encryption handshake: " + why;
    if (handler_) handler_->on_closed(why);  // may destroy this
}

void MseTransport::send(std::string bytes) {
    if (bytes.empty() || inner_->closing()) return;
    if (!hs_.done()) {
        held_ += bytes;
        return;
    }
    if (rc4_) hs_.encryptor().apply(bytes.data(), bytes.size());
    inner_->send(std::move(bytes));
}

void MseTransport::send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data,
                                     size_t offset, size_t len) {
    if (hs_.done() && !rc4_) return inner_->send_with_payload(std::move(header), std::move(data), offset, len);
    // Encrypting needs a copy of the shared block anyway.
    header.append(reinterpret_cast<const char*>(data->data() + offset), len);
    send(std::move(header));
}

}  // namespace btl
