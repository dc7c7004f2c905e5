// MSE/PE handshake parser (net/mse.hpp): whatever a peer sends, one end
// either finishes, fails with a message, or keeps waiting; it never takes
// more bytes than it was given, takes none after failing, and what it
// sends stays within the spec's sizes.
//
// Input layout: byte 0 = flags (bit 0: the end under test is the initiator;
// bit 1: the peer's bytes are a real handshake from our other end, mutated
// by the input, instead of the raw input; bits 2-3: the crypto methods we
// accept; bit 4: prefer plain text), byte 1 = chunk size, then (with bit 1)
// up to 16 mutations of 3 bytes (position, position, XOR value), else the
// peer's bytes.
#include <string>
#include <string_view>

#include "btl/net/mse.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

MseConfig fixed(uint32_t crypto, bool prefer_plain, char key) {
    MseConfig c;
    c.crypto = crypto ? crypto : 3;
    c.prefer_plain = prefer_plain;
    c.pad_len = 3;
    c.private_key.assign(20, key);
    return c;
}

// Feeds `bytes` in chunks, checking the feed contract.
void feed_all(MseHandshake& h, std::string_view bytes, size_t chunk) {
    size_t at = 0;
    while (at < bytes.size()) {
        size_t n = std::min(chunk, bytes.size() - at);
        const bool was_failed = h.failed(), was_done = h.done();
        size_t used = h.feed(bytes.substr(at, n));
        BTL_FUZZ_CHECK(used <= n);
        if (was_failed || was_done) BTL_FUZZ_CHECK(used == 0);
        if (h.state() == MseHandshake::State::running) BTL_FUZZ_CHECK(used == n);
        if (h.failed()) BTL_FUZZ_CHECK(!h.error().empty());
        if (h.done()) BTL_FUZZ_CHECK(h.selected() == kMseCryptoPlain || h.selected() == kMseCryptoRc4);
        BTL_FUZZ_CHECK(h.take_output().size() <= kMseKeySize + 40 + 16 + 2 * kMseMaxPad);
        at += n;
    }
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_mse) {
    ByteReader in(data, size);
    const uint8_t flags = in.u8();
    const size_t chunk = size_t(in.u8()) + 1;
    const bool initiator = flags & 1, scripted = flags & 2, prefer_plain = flags & 16;
    const uint32_t crypto = (flags >> 2) & 3;
    Sha1Digest ih{};
    ih.fill(0x11);
    auto find = [ih](const Sha1Digest& req2, Sha1Digest& skey) {
        if (req2 != mse_req2_hash(ih)) return false;
        skey = ih;
        return true;
    };
    auto me = initiator ? MseHandshake::initiator(ih, fixed(crypto, prefer_plain, 'a'))
                        : MseHandshake::responder(find, fixed(crypto, prefer_plain, 'b'));
    me.start();
    me.take_output();
    std::string peer_bytes;
    if (!scripted) {
        peer_bytes.assign(reinterpret_cast<const char*>(in.rest()), in.remaining());
    } else {
        // Our other end, with fixed keys, answers a probe that is a copy of
        // the end under test (same fixed key, so the same secret).
        auto other = initiator ? MseHandshake::responder(find, fixed(3, false, 'c'))
                               : MseHandshake::initiator(ih, fixed(3, false, 'd'));
        auto probe = initiator ? MseHandshake::initiator(ih, fixed(crypto, prefer_plain, 'a'))
                               : MseHandshake::responder(find, fixed(crypto, prefer_plain, 'b'));
        other.start();
        probe.start();
        std::string from_probe = probe.take_output();
        for (int round = 0; round < 4; ++round) {
            other.feed(from_probe);
            std::string o = other.take_output();
            peer_bytes += o;
            probe.feed(o);
            from_probe = probe.take_output();
        }
        int mutations = 0;
        for (int i = 0; i < 16 && in.remaining() >= 3; ++i, ++mutations) {
            size_t pos = (size_t(in.u8()) << 8 | in.u8());
            uint8_t x = in.u8();
            if (!peer_bytes.empty()) peer_bytes[pos % peer_bytes.size()] = char(peer_bytes[pos % peer_bytes.size()] ^ x);
        }
        feed_all(me, peer_bytes, chunk);
        // Our two ends always agree when nothing was changed on the way.
        if (mutations == 0) BTL_FUZZ_CHECK(me.done());
        return 0;
    }
    feed_all(me, peer_bytes, chunk);
    return 0;
}

BTL_FUZZ_ENTRY(fuzz_mse)

}  // namespace btl::fuzz
