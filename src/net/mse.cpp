#include "btl/net/mse.hpp"

#include <openssl/bn.h>
#include <openssl/rand.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>

namespace btl {

Rc4::Rc4(const uint8_t* key, size_t len) {
    for (uint32_t k = 0; k < 256; ++k) s_[k] = k;
    uint32_t j = 0;
    for (size_t k = 0; k < 256; ++k) {
        j = (j + s_[k] + key[k % len]) & 0xff;
        std::swap(s_[k], s_[j]);
    }
}

namespace {
inline uint32_t rc4_next(uint32_t* s, uint32_t& i, uint32_t& j) {
    i = (i + 1) & 0xff;
    uint32_t si = s[i];
    j = (j + si) & 0xff;
    uint32_t sj = s[j];
    s[i] = sj;
    s[j] = si;
    return s[(si + sj) & 0xff];
}
}  // namespace

void Rc4::apply(uint8_t* p, size_t n) {
    uint32_t i = i_, j = j_;
    uint32_t* s = s_.data();
    size_t k = 0;
    // Eight keystream bytes, then one 64-bit XOR: fewer loads and stores
    // of the payload than a byte at a time.
    for (; std::endian::native == std::endian::little && k + 8 <= n; k += 8) {
        uint64_t ks = 0;
        for (int b = 0; b < 8; ++b) ks |= uint64_t(rc4_next(s, i, j)) << (8 * b);
        uint64_t v;
        std::memcpy(&v, p + k, 8);
        v ^= ks;  // little-endian byte order: byte b of ks meets p[k + b]
        std::memcpy(p + k, &v, 8);
    }
    for (; k < n; ++k) p[k] ^= uint8_t(rc4_next(s, i, j));
    i_ = i;
    j_ = j;
}

void Rc4::discard(size_t n) {
    uint8_t junk[256];
    while (n > 0) {
        size_t k = std::min(n, sizeof junk);
        apply(junk, k);
        n -= k;
    }
}

namespace {

// The MSE spec's prime (the 768-bit MODP group of RFC 2409).
const char kPrimeHex[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A"
    "431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";

struct BnFree {
    void operator()(BIGNUM* b) const { BN_free(b); }
};
struct CtxFree {
    void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn bn_from(std::string_view be) {
    return Bn(BN_bin2bn(reinterpret_cast<const uint8_t*>(be.data()), int(be.size()), nullptr));
}

// base^x mod P as 96 big-endian bytes; base empty = the generator 2.  Empty
// result: the peer's key is out of range (0, 1 or >= P - 1).
std::string dh(std::string_view base, std::string_view x) {
    BIGNUM* p_raw = nullptr;
    BN_hex2bn(&p_raw, kPrimeHex);
    Bn p(p_raw), b(base.empty() ? BN_new() : bn_from(base).release()), e(bn_from(x)), r(BN_new());
    std::unique_ptr<BN_CTX, CtxFree> ctx(BN_CTX_new());
    if (base.empty()) BN_set_word(b.get(), 2);
    Bn pm1(BN_dup(p.get()));
    BN_sub_word(pm1.get(), 1);
    if (BN_cmp(b.get(), BN_value_one()) <= 0 || BN_cmp(b.get(), pm1.get()) >= 0) return {};
    if (!BN_mod_exp(r.get(), b.get(), e.get(), p.get(), ctx.get())) return {};
    std::string out(kMseKeySize, '\0');
    BN_bn2binpad(r.get(), reinterpret_cast<uint8_t*>(out.data()), int(kMseKeySize));
    return out;
}

std::string random_bytes(size_t n) {
    std::string s(n, '\0');
    if (n) RAND_bytes(reinterpret_cast<uint8_t*>(s.data()), int(n));
    return s;
}

Sha1Digest hash2(std::string_view a, std::string_view b) {
    Sha1Hasher h;
    h.update(a);
    h.update(b);
    return h.finish();
}

std::string_view view(const Sha1Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

void put16(std::string& out, uint32_t v) {
    out += char(v >> 8 & 0xff);
    out += char(v & 0xff);
}
void put32(std::string& out, uint32_t v) {
    put16(out, v >> 16);
    put16(out, v & 0xffff);
}
uint32_t get(std::string_view s, size_t at, size_t n) {
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | uint8_t(s[at + i]);
    return v;
}

}  // namespace

Sha1Digest mse_req2_hash(const Sha1Digest& skey) { return hash2("req2", view(skey)); }

MseHandshake MseHandshake::initiator(const Sha1Digest& skey, MseConfig cfg) {
    MseHandshake h(Role::initiator, std::move(cfg));
    h.skey_ = skey;
    return h;
}

MseHandshake MseHandshake::responder(FindSkey find, MseConfig cfg) {
    MseHandshake h(Role::responder, std::move(cfg));
    h.find_ = std::move(find);
    return h;
}

std::string MseHandshake::pad() {
    size_t n = cfg_.pad_len >= 0 ? std::min(size_t(cfg_.pad_len), kMseMaxPad) : 0;
    if (cfg_.pad_len < 0) {
        uint8_t r[2] = {};
        RAND_bytes(r, 2);
        n = (size_t(r[0]) << 8 | r[1]) % (kMseMaxPad + 1);
    }
    return random_bytes(n);
}

void MseHandshake::start() {
    x_ = cfg_.private_key.size() == 20 ? cfg_.private_key : random_bytes(20);
    if (role_ == Role::initiator) out_ += dh({}, x_) + pad();
}

std::string MseHandshake::take_output() { return std::move(out_); }

bool MseHandshake::fail(std::string why) {
    state_ = State::failed;
    error_ = std::move(why);
    buf_.clear();
    return false;
}

std::string MseHandshake::take(size_t n) {
    std::string s = buf_.substr(0, n);
    buf_.erase(0, n);
    return s;
}

size_t MseHandshake::feed(std::string_view in) {
    if (state_ != State::running) return 0;
    if (x_.empty()) start();
    buf_.append(in);
    while (state_ == State::running && step()) {
    }
    if (state_ == State::failed) return 0;
    if (state_ == State::running) return in.size();
    size_t extra = std::min(buf_.size(), in.size());
    buf_.clear();
    return in.size() - extra;
}

bool MseHandshake::step() {
    switch (step_) {
        case Step::ya_yb: return on_peer_key();
        case Step::sync: return role_ == Role::initiator ? initiator_sync() : responder_sync();
        case Step::select: return on_select();
        case Step::pad_d:
            if (buf_.size() < want_) return false;
            {
                std::string p = take(want_);
                dec_.apply(p.data(), p.size());
            }
            state_ = State::done;
            return false;
        case Step::req2: return on_req2();
        case Step::provide: return on_provide();
        case Step::pad_c: return on_pad_c();
        case Step::ia: return on_ia();
    }
    return false;
}

void MseHandshake::make_keys() {
    auto key_a = hash2("keyA", s_ + std::string(view(skey_)));
    auto key_b = hash2("keyB", s_ + std::string(view(skey_)));
    const auto& mine = role_ == Role::initiator ? key_a : key_b;
    const auto& theirs = role_ == Role::initiator ? key_b : key_a;
    enc_ = Rc4(mine.data(), mine.size());
    dec_ = Rc4(theirs.data(), theirs.size());
    enc_.discard(1024);
    dec_.discard(1024);
}

bool MseHandshake::on_peer_key() {
    if (buf_.size() < kMseKeySize) return false;
    std::string theirs = take(kMseKeySize);
    s_ = dh(theirs, x_);
    if (s_.empty()) return fail("encryption handshake: the peer's public key is out of range");
    if (role_ == Role::responder) {
        out_ += dh({}, x_) + pad();
        auto r1 = hash2("req1", s_);
        sync_pattern_.assign(view(r1));
    } else {
        make_keys();
        auto r1 = hash2("req1", s_);
        auto r2 = hash2("req2", view(skey_));
        auto r3 = hash2("req3", s_);
        out_.append(view(r1));
        for (size_t i = 0; i < 20; ++i) out_ += char(r2[i] ^ r3[i]);
        std::string plain(8, '\0');  // VC
        put32(plain, cfg_.crypto);
        std::string pc = pad();
        put16(plain, uint32_t(pc.size()));
        plain += pc;
        const std::string& ia = cfg_.initial_payload;
        put16(plain, uint32_t(std::min(ia.size(), kMseMaxIa)));
        plain.append(ia, 0, std::min(ia.size(), kMseMaxIa));
        enc_.apply(plain.data(), plain.size());
        out_ += plain;
        provided_ = cfg_.crypto;
        Rc4 probe = dec_;
        sync_pattern_.assign(8, '\0');
        probe.apply(sync_pattern_.data(), 8);
    }
    step_ = Step::sync;
    return true;
}

bool MseHandshake::initiator_sync() {
    size_t at = buf_.find(sync_pattern_);
    if (at == std::string::npos || at > kMseMaxPad) {
        if (buf_.size() >= kMseMaxPad + 8) return fail("encryption handshake: no verification constant from the peer");
        return false;
    }
    buf_.erase(0, at);
    std::string vc = take(8);
    dec_.apply(vc.data(), vc.size());
    step_ = Step::select;
    return true;
}

bool MseHandshake::on_select() {
    if (buf_.size() < 6) return false;
    std::string b = take(6);
    dec_.apply(b.data(), b.size());
    selected_ = get(b, 0, 4);
    want_ = get(b, 4, 2);
    if ((selected_ != kMseCryptoPlain && selected_ != kMseCryptoRc4) || !(selected_ & provided_))
        return fail("encryption handshake: the peer selected crypto method " + std::to_string(selected_) +
                    ", not one we offered");
    if (want_ > kMseMaxPad) return fail("encryption handshake: PadD longer than 512 bytes");
    step_ = Step::pad_d;
    return true;
}

bool MseHandshake::responder_sync() {
    size_t at = buf_.find(sync_pattern_);
    if (at == std::string::npos || at > kMseMaxPad) {
        if (buf_.size() >= kMseMaxPad + 20) return fail("encryption handshake: no HASH('req1', S) from the peer");
        return false;
    }
    buf_.erase(0, at + 20);
    step_ = Step::req2;
    return true;
}

bool MseHandshake::on_req2() {
    if (buf_.size() < 20) return false;
    std::string b = take(20);
    auto r3 = hash2("req3", s_);
    Sha1Digest req2{};
    for (size_t i = 0; i < 20; ++i) req2[i] = uint8_t(b[i]) ^ r3[i];
    if (!find_ || !find_(req2, skey_)) return fail("encryption handshake for an unknown torrent");
    make_keys();
    step_ = Step::provide;
    return true;
}

bool MseHandshake::on_provide() {
    if (buf_.size() < 14) return false;
    std::string b = take(14);
    dec_.apply(b.data(), b.size());
    if (b.compare(0, 8, std::string(8, '\0')) != 0) return fail("encryption handshake: bad verification constant");
    provided_ = get(b, 8, 4);
    want_ = get(b, 12, 2);
    if (want_ > kMseMaxPad) return fail("encryption handshake: PadC longer than 512 bytes");
    step_ = Step::pad_c;
    return true;
}

bool MseHandshake::on_pad_c() {
    if (buf_.size() < want_ + 2) return false;
    std::string b = take(want_ + 2);
    dec_.apply(b.data(), b.size());
    want_ = get(b, b.size() - 2, 2);
    if (want_ > kMseMaxIa) return fail("encryption handshake: initial payload of " + std::to_string(want_) + " bytes");
    step_ = Step::ia;
    return true;
}

bool MseHandshake::on_ia() {
    if (buf_.size() < want_) return false;
    ia_ = take(want_);
    dec_.apply(ia_.data(), ia_.size());
    uint32_t common = provided_ & cfg_.crypto;
    if (common & kMseCryptoPlain && (cfg_.prefer_plain || !(common & kMseCryptoRc4)))
        selected_ = kMseCryptoPlain;
    else if (common & kMseCryptoRc4)
        selected_ = kMseCryptoRc4;
    else
        return fail("encryption handshake: no common crypto method (peer offers " + std::to_string(provided_) + ")");
    std::string plain(8, '\0');
    put32(plain, selected_);
    std::string pd = pad();
    put16(plain, uint32_t(pd.size()));
    plain += pd;
    enc_.apply(plain.data(), plain.size());
    out_ += plain;
    state_ = State::done;
    return false;
}

}  // namespace btl
