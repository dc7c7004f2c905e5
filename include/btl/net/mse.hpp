// MSE/PE (Message Stream Encryption, also called Protocol Encryption): the
// obfuscated handshake BitTorrent clients use to hide their traffic.
//
// MseHandshake is the pure state machine of one end, with no sockets: bytes
// received are fed in, bytes to send are taken out, and when it is done it
// hands over the two RC4 streams (or says plain text was selected).
//
//   A -> B  Ya, PadA
//   B -> A  Yb, PadB
//   A -> B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//   B -> A  ENCRYPT(VC, crypto_select, len(PadD), PadD), then the stream
//
// Ya/Yb are Diffie-Hellman public keys (G = 2, the 768-bit prime of the
// spec), S the shared secret, SKEY the torrent's info-hash, VC eight zero
// bytes.  Pads are 0-512 random bytes, so each receiver resynchronises: the
// initiator searches for the encrypted VC in at most 512 + 8 bytes after
// Yb, the responder for HASH('req1', S) in at most 512 + 20 bytes after Ya.
// RC4 keys are SHA-1('keyA', S, SKEY) (A's sending side) and SHA-1('keyB',
// S, SKEY), the first 1024 bytes of each keystream discarded.
//
// The engine sends IA empty as initiator (the BitTorrent handshake follows the
// negotiation in the selected mode); as responder we accept an IA of up to
// kMseMaxIa bytes and hand it out decrypted.  Everything buffered is bounded.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "btl/base/sha1.hpp"

namespace btl {

// RC4 (ARCFOUR).  apply() XORs the keystream into the bytes in place, so the
// same call encrypts and decrypts.
class Rc4 {
public:
    Rc4() = default;
    Rc4(const uint8_t* key, size_t len);
    void apply(uint8_t* p, size_t n);
    void apply(char* p, size_t n) { apply(reinterpret_cast<uint8_t*>(p), n); }
    void discard(size_t n);

private:
    // 32-bit cells: byte cells cost partial-register merges and store
    // forwarding stalls in the swap; this is ~15 % faster per byte, and RC4
    // is most of the CPU of an encrypted transfer.
    std::array<uint32_t, 256> s_{};
    uint32_t i_ = 0, j_ = 0;
};

constexpr uint32_t kMseCryptoPlain = 0x01;
constexpr uint32_t kMseCryptoRc4 = 0x02;
constexpr size_t kMseKeySize = 96;      // Ya, Yb and S, big-endian
constexpr size_t kMseMaxPad = 512;
constexpr size_t kMseMaxIa = 4096;      // a handshake plus a little; more is refused

// The 20 bytes the initiator sends after HASH('req1', S) carry
// HASH('req2', SKEY): the responder finds the torrent by it.
Sha1Digest mse_req2_hash(const Sha1Digest& skey);

struct MseConfig {
    uint32_t crypto = kMseCryptoPlain | kMseCryptoRc4;  // initiator: provide; responder: accept
    bool prefer_plain = false;  // responder: select plain text when both are possible
    int pad_len = -1;           // -1: random 0-512 (tests fix it)
    // Tests fix the DH private key (20 bytes); empty = random.
    std::string private_key;
    // Initiator: the initial payload IA sent with the handshake (the engine
    // sends none; tests play a peer that sends its handshake in it).
    std::string initial_payload;
};

class MseHandshake {
public:
    enum class Role { initiator, responder };
    enum class State { running, done, failed };
    // Responder: the torrent whose HASH('req2', SKEY) this is; false if none.
    using FindSkey = std::function<bool(const Sha1Digest& req2, Sha1Digest& skey)>;

    static MseHandshake initiator(const Sha1Digest& skey, MseConfig cfg);
    static MseHandshake responder(FindSkey find, MseConfig cfg);

    // Initiator: queues Ya and PadA.  Responder: nothing to do.
    void start();
    // Takes received bytes and returns how many belong to the handshake; the
    // rest (only once done) is the stream that follows, still encrypted if
    // RC4 was selected.  After a failure, returns 0.
    size_t feed(std::string_view in);
    // Bytes to send, in order (empty when there are none).
    std::string take_output();

    State state() const { return state_; }
    bool done() const { return state_ == State::done; }
    bool failed() const { return state_ == State::failed; }
    const std::string& error() const { return error_; }
    uint32_t selected() const { return selected_; }
    const Sha1Digest& skey() const { return skey_; }
    // Responder: the initial payload the initiator sent, decrypted.
    std::string take_initial_payload() { return std::move(ia_); }
    // The streams after the handshake (meaningful when RC4 was selected).
    Rc4& encryptor() { return enc_; }
    Rc4& decryptor() { return dec_; }

private:
    enum class Step { ya_yb, sync, select, pad_d, req2, provide, pad_c, ia };
    MseHandshake(Role r, MseConfig cfg) : role_(r), cfg_(std::move(cfg)) {}
    bool fail(std::string why);
    bool step();  // advances one step; false when more bytes are needed
    bool on_peer_key();
    bool initiator_sync();
    bool responder_sync();
    bool on_req2();
    bool on_provide();
    bool on_pad_c();
    bool on_ia();
    bool on_select();
    void make_keys();
    std::string pad();
    std::string take(size_t n);  // the next n buffered bytes, removed

    Role role_;
    MseConfig cfg_;
    State state_ = State::running;
    Step step_ = Step::ya_yb;
    std::string error_;
    std::string buf_;  // received, not yet used
    size_t scanned_ = 0;  // sync: bytes of padding already passed over
    std::string out_;
    std::string x_;    // our DH private key
    std::string s_;    // the shared secret
    Sha1Digest skey_{};
    FindSkey find_;
    Rc4 enc_, dec_;
    std::string sync_pattern_;  // what sync searches for
    uint32_t selected_ = 0, provided_ = 0;
    size_t want_ = 0;  // pad_c / pad_d / ia lengths
    std::string ia_;
};

}  // namespace btl
