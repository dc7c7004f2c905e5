// MSE/PE: RC4 against published vectors, and our two ends of the handshake
// against each other (policies, padding, resynchronisation, corruption),
// then the encrypting transport over an in-memory pipe.
#include <doctest/doctest.h>

#include <deque>

#include "btl/net/mse.hpp"
#include "btl/net/mse_transport.hpp"

using namespace btl;

namespace {

std::string rc4_hex(const std::string& key, std::string text) {
    Rc4 r(reinterpret_cast<const uint8_t*>(key.data()), key.size());
    r.apply(text.data(), text.size());
    return to_hex(text);
}

Sha1Digest digest(uint8_t fill) {
    Sha1Digest d{};
    d.fill(fill);
    return d;
}

MseHandshake::FindSkey finder(const Sha1Digest& known) {
    return [known](const Sha1Digest& req2, Sha1Digest& skey) {
        if (req2 != mse_req2_hash(known)) return false;
        skey = known;
        return true;
    };
}

// Runs both ends, delivering at most `chunk` bytes per step; true if both
// finished.
bool run(MseHandshake& a, MseHandshake& b, size_t chunk = 1 << 20) {
    a.start();
    b.start();
    std::string to_b, to_a;
    for (int round = 0; round < 100000; ++round) {
        to_b += a.take_output();
        to_a += b.take_output();
        if (a.failed() || b.failed()) return false;
        if (a.done() && b.done() && to_a.empty() && to_b.empty()) return true;
        bool moved = false;
        if (!to_b.empty() && !b.done()) {
            size_t n = std::min(chunk, to_b.size());
            size_t used = b.feed(std::string_view(to_b).substr(0, n));
            CHECK(used == (b.failed() ? 0 : n));  // nothing follows the handshake here
            to_b.erase(0, n);
            moved = true;
        }
        if (!to_a.empty() && !a.done()) {
            size_t n = std::min(chunk, to_a.size());
            size_t used = a.feed(std::string_view(to_a).substr(0, n));
            CHECK(used == (a.failed() ? 0 : n));
            to_a.erase(0, n);
            moved = true;
        }
        if (!moved) return a.done() && b.done();
    }
    return false;
}

// After the handshake the two RC4 streams must line up both ways.
void check_streams(MseHandshake& a, MseHandshake& b) {
    std::string msg = "\x13" "BitTorrent protocol and then some";
    std::string wire = msg;
    a.encryptor().apply(wire.data(), wire.size());
    CHECK(wire != msg);
    b.decryptor().apply(wire.data(), wire.size());
    CHECK(wire == msg);
    wire = msg;
    b.encryptor().apply(wire.data(), wire.size());
    a.decryptor().apply(wire.data(), wire.size());
    CHECK(wire == msg);
}

MseConfig config(uint32_t crypto, int pad = -1, bool prefer_plain = false) {
    MseConfig c;
    c.crypto = crypto;
    c.pad_len = pad;
    c.prefer_plain = prefer_plain;
    return c;
}

}  // namespace

TEST_CASE("mse: RC4 matches the published test vectors") {
    CHECK(rc4_hex("Key", "Plaintext") == "bbf316e8d940af0ad3");
    CHECK(rc4_hex("Wiki", "pedia") == "1021bf0420");
    CHECK(rc4_hex("Secret", "Attack at dawn") == "45a01f645fc35b383552544b9bf5");
    // Split calls continue the same keystream.
    Rc4 r(reinterpret_cast<const uint8_t*>("Secret"), 6);
    std::string t = "Attack at dawn";
    r.apply(t.data(), 5);
    r.apply(t.data() + 5, t.size() - 5);
    CHECK(to_hex(t) == "45a01f645fc35b383552544b9bf5");
}

TEST_CASE("mse: RC4 gives the same keystream whatever the call sizes (word path and byte tail)") {
    const std::string key = "a 20-byte-ish key!!";
    std::string whole(1000, '\0');
    for (size_t k = 0; k < whole.size(); ++k) whole[k] = char(k * 7 + 3);
    std::string expect = whole;
    // The reference: one byte per call, the plain byte loop of the cipher.
    Rc4 one(reinterpret_cast<const uint8_t*>(key.data()), key.size());
    for (auto& c : expect) one.apply(&c, 1);
    for (size_t chunk : {1, 3, 7, 8, 9, 15, 16, 17, 64, 999, 1000}) {
        Rc4 r(reinterpret_cast<const uint8_t*>(key.data()), key.size());
        std::string t = whole;
        for (size_t off = 0; off < t.size(); off += chunk) r.apply(t.data() + off, std::min(chunk, t.size() - off));
        CHECK_MESSAGE(t == expect, "chunk " << chunk);
    }
    // A long run, then the 100 bytes of keystream after 4096 bytes dropped
    // (discard) equal those after 4096 bytes applied.
    Rc4 a(reinterpret_cast<const uint8_t*>(key.data()), key.size());
    Rc4 b(reinterpret_cast<const uint8_t*>(key.data()), key.size());
    std::string junk(4096, 'x');
    a.apply(junk.data(), junk.size());
    b.discard(4096);
    std::string x(100, '\0'), y(100, '\0');
    a.apply(x.data(), x.size());
    b.apply(y.data(), y.size());
    CHECK(x == y);
}

TEST_CASE("mse: our initiator and responder agree, at every padding length and chunk size") {
    const Sha1Digest ih = digest(0x5a);
    for (int pad : {0, 1, 7, 255, 511, 512, -1}) {
        for (size_t chunk : {size_t(1), size_t(13), size_t(1 << 20)}) {
            CAPTURE(pad);
            CAPTURE(chunk);
            auto a = MseHandshake::initiator(ih, config(kMseCryptoRc4 | kMseCryptoPlain, pad));
            auto b = MseHandshake::responder(finder(ih), config(kMseCryptoRc4 | kMseCryptoPlain, pad));
            REQUIRE(run(a, b, chunk));
            CHECK(a.selected() == kMseCryptoRc4);
            CHECK(b.selected() == kMseCryptoRc4);
            CHECK(b.skey() == ih);
            check_streams(a, b);
        }
    }
}

TEST_CASE("mse: crypto_provide / crypto_select follow both ends' policies") {
    const Sha1Digest ih = digest(1);
    struct Case {
        uint32_t provide, accept;
        bool prefer_plain;
        uint32_t expect;  // 0 = fails
    };
    const Case cases[] = {
        {3, 3, false, kMseCryptoRc4},   // prefer meets prefer
        {3, 3, true, kMseCryptoPlain},  // allow as responder takes plain text when offered
        {2, 3, true, kMseCryptoRc4},    // require dials allow
        {3, 2, false, kMseCryptoRc4},   // prefer dials require
        {1, 3, false, kMseCryptoPlain}, // plain-only offer accepted by prefer
        {1, 2, false, 0},               // plain-only offer refused by require
        {2, 1, false, 0},               // nothing in common
    };
    for (const auto& c : cases) {
        CAPTURE(c.provide);
        CAPTURE(c.accept);
        auto a = MseHandshake::initiator(ih, config(c.provide, 3));
        auto b = MseHandshake::responder(finder(ih), config(c.accept, 3, c.prefer_plain));
        bool ok = run(a, b);
        if (c.expect == 0) {
            CHECK_FALSE(ok);
            CHECK(b.failed());
            CHECK(b.error().find("no common crypto method") != std::string::npos);
            continue;
        }
        REQUIRE(ok);
        CHECK(a.selected() == c.expect);
        CHECK(b.selected() == c.expect);
    }
}

TEST_CASE("mse: the responder finds the torrent by HASH('req2', SKEY) and refuses an unknown one") {
    auto a = MseHandshake::initiator(digest(7), config(3, 0));
    auto b = MseHandshake::responder(finder(digest(8)), config(3, 0));
    CHECK_FALSE(run(a, b));
    CHECK(b.failed());
    CHECK(b.error() == "encryption handshake for an unknown torrent");
}

TEST_CASE("mse: a corrupted verification constant fails each side") {
    const Sha1Digest ih = digest(9);
    SUBCASE("initiator's VC (responder checks it after decrypting)") {
        auto a = MseHandshake::initiator(ih, config(3, 0));
        auto b = MseHandshake::responder(finder(ih), config(3, 0));
        a.start();
        b.start();
        b.feed(a.take_output());  // Ya
        std::string rest;
        a.feed(b.take_output());  // Yb -> req1, req2^req3, ENCRYPT(VC...)
        rest = a.take_output();
        REQUIRE(rest.size() == 20 + 20 + 8 + 4 + 2 + 2);
        rest[40] ^= 1;  // first byte of the encrypted VC
        b.feed(rest);
        CHECK(b.failed());
        CHECK(b.error() == "encryption handshake: bad verification constant");
    }
    SUBCASE("responder's VC (the initiator never finds it and gives up within the bound)") {
        auto a = MseHandshake::initiator(ih, config(3, 0));
        auto b = MseHandshake::responder(finder(ih), config(3, 0));
        a.start();
        b.start();
        b.feed(a.take_output());
        std::string yb = b.take_output();
        a.feed(yb);
        b.feed(a.take_output());
        std::string sel = b.take_output();
        REQUIRE(b.done());
        sel[0] ^= 0x80;
        a.feed(sel);
        CHECK(a.state() == MseHandshake::State::running);  // could still be padding
        a.feed(std::string(kMseMaxPad, 'x'));
        CHECK(a.failed());
        CHECK(a.error() == "encryption handshake: no verification constant from the peer");
    }
}

TEST_CASE("mse: the responder resynchronises on req1 only within 512 bytes of padding") {
    const Sha1Digest ih = digest(3);
    auto b = MseHandshake::responder(finder(ih), config(3, 0));
    MseConfig ac = config(3, 0);
    auto a = MseHandshake::initiator(ih, ac);
    a.start();
    std::string ya = a.take_output();
    REQUIRE(ya.size() == kMseKeySize);
    b.feed(ya + std::string(kMseMaxPad + 20, '\0'));  // PadA too long: no req1 in the window
    CHECK(b.failed());
    CHECK(b.error() == "encryption handshake: no HASH('req1', S) from the peer");
}

TEST_CASE("mse: a public key of 0 or 1 is refused") {
    auto b = MseHandshake::responder(finder(digest(1)), config(3, 0));
    b.feed(std::string(kMseKeySize, '\0'));
    CHECK(b.failed());
    CHECK(b.error() == "encryption handshake: the peer's public key is out of range");
}

TEST_CASE("mse: bytes after the handshake are not consumed") {
    const Sha1Digest ih = digest(4);
    auto a = MseHandshake::initiator(ih, config(3, 5));
    auto b = MseHandshake::responder(finder(ih), config(3, 5));
    a.start();
    b.start();
    b.feed(a.take_output());
    a.feed(b.take_output());
    b.feed(a.take_output());
    std::string tail = b.take_output();
    std::string stream = "0123456789";
    b.encryptor().apply(stream.data(), stream.size());
    CHECK(a.feed(tail + stream) == tail.size());
    REQUIRE(a.done());
    a.decryptor().apply(stream.data(), stream.size());
    CHECK(stream == "0123456789");
}

// ---- the transport over an in-memory pipe

namespace {

struct Pipe : PeerTransport {
    PeerConnectionHandler* h = nullptr;
    Pipe* other = nullptr;
    std::string in, wire;  // wire: every byte ever sent, as sent
    size_t unreported = 0;
    bool closed = false;
    std::string why, ip = "127.0.0.1";
    void set_handler(PeerConnectionHandler* x) override { h = x; }
    void send(std::string b) override {
        wire += b;
        other->in += b;
        unreported += b.size();
    }
    void send_with_payload(std::string head, std::shared_ptr<const std::vector<uint8_t>> d, size_t off,
                           size_t len) override {
        send(head + std::string(reinterpret_cast<const char*>(d->data() + off), len));
    }
    size_t queued_bytes() const override { return unreported; }
    void pause_reading() override {}
    void resume_reading() override {}
    bool reading() const override { return true; }
    void close(const std::string& r) override {
        if (!closed) why = r;
        closed = true;
    }
    bool closing() const override { return closed; }
    const std::string& remote_ip() const override { return ip; }
    std::string remote() const override { return ip + ":1"; }
    bool pump() {
        bool moved = false;
        if (!in.empty() && !closed) {
            // Offered from the buffer itself, as the real transports do.
            size_t n = h->on_data(in);
            in.erase(0, n);
            moved = n > 0;
        }
        if (unreported) {
            size_t u = unreported;
            unreported = 0;
            h->on_sent(u);
            moved = true;
        }
        return moved;
    }
};

struct Sink : PeerConnectionHandler {
    PeerTransport* t = nullptr;
    std::string got, greeting;
    size_t sent = 0;
    bool connected = false;
    std::string closed;
    void on_connected() override {
        connected = true;
        if (!greeting.empty()) t->send(greeting);
    }
    size_t record = 0;  // > 0: consumes only whole records of this size (as Peer takes whole messages)
    size_t on_data(std::string_view b) override {
        size_t take = record ? b.size() / record * record : b.size();
        got.append(b.substr(0, take));
        return take;
    }
    void on_sent(size_t n) override { sent += n; }
    void on_closed(const std::string& r) override { closed = r; }
};

struct Link {
    Pipe* pa;
    Pipe* pb;
    Sink sa, sb;
    std::unique_ptr<MseTransport> a, b;
    Link(MseConfig ca, MseConfig cb, const Sha1Digest& ih, const Sha1Digest& known) {
        auto ua = std::make_unique<Pipe>(), ub = std::make_unique<Pipe>();
        pa = ua.get();
        pb = ub.get();
        pa->other = pb;
        pb->other = pa;
        a = std::make_unique<MseTransport>(std::move(ua), MseHandshake::initiator(ih, ca), &sa);
        b = std::make_unique<MseTransport>(std::move(ub), MseHandshake::responder(finder(known), cb), &sb);
        sa.t = a.get();
        sb.t = b.get();
        sa.greeting = "hello from A";
        pa->h->on_connected();  // the TCP connect
    }
    void pump() {
        for (int i = 0; i < 1000; ++i)
            if (!pa->pump() & !pb->pump()) break;
    }
};

}  // namespace

TEST_CASE("mse transport: RC4 both ways, handshake bytes hidden from the handler") {
    const Sha1Digest ih = digest(0x42);
    Link l(config(3, 100), config(3, 100), ih, ih);
    CHECK(l.sa.connected);
    l.pump();
    REQUIRE(l.a->negotiated());
    REQUIRE(l.b->negotiated());
    CHECK(l.a->encrypted());
    CHECK(l.b->encrypted());
    CHECK(l.sb.got == "hello from A");
    auto block = std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>(16384, 0x61));
    l.b->send_with_payload("header", block, 100, 1000);
    l.b->send("tail");
    l.pump();
    CHECK(l.sa.got == "header" + std::string(1000, 'a') + "tail");
    CHECK(l.sa.sent == std::string("hello from A").size());  // the handshake's bytes are not reported
    CHECK(l.sb.sent == 6 + 1000 + 4);
    CHECK(l.pa->wire.find("hello from A") == std::string::npos);  // encrypted on the wire
    CHECK(l.pb->wire.find("aaaaaaaa") == std::string::npos);
}

TEST_CASE("mse transport: a handler taking whole records only gets every byte once, decrypted once") {
    for (bool plain : {false, true}) {
        CAPTURE(plain);
        const Sha1Digest ih = digest(0x45);
        Link l(config(3, 0), config(3, 0, plain), ih, ih);
        l.pump();
        REQUIRE(l.a->negotiated());
        CHECK(l.a->encrypted() == !plain);
        l.sa.record = 1000;  // whole 1000-byte records only: most deliveries leave a rest
        std::string expect;
        uint32_t x = 7;
        for (size_t n = 1; expect.size() < 60000 || expect.size() % 1000 != 0; n = n % 997 + 13) {
            if (expect.size() >= 60000) n = 1000 - expect.size() % 1000;
            std::string chunk(n, '\0');
            for (auto& c : chunk) c = char((x = x * 1103515245u + 12345u) >> 24);
            expect += chunk;
            l.b->send(chunk);
            l.pump();  // each send arrives on its own, mid-record
        }
        CHECK(l.pa->in.empty());
        CHECK(l.sa.got.size() == expect.size());
        CHECK(l.sa.got == expect);
    }
}

TEST_CASE("mse transport: plain text selected passes bytes through") {
    const Sha1Digest ih = digest(0x43);
    Link l(config(3, 0), config(3, 0, true), ih, ih);
    l.pump();
    REQUIRE(l.a->negotiated());
    CHECK_FALSE(l.a->encrypted());
    CHECK_FALSE(l.b->encrypted());
    CHECK(l.sb.got == "hello from A");
    CHECK(l.pa->wire.find("hello from A") != std::string::npos);
    l.b->send("plain reply");
    l.pump();
    CHECK(l.sa.got == "plain reply");
}

TEST_CASE("mse transport: a failed negotiation closes with an encryption reason") {
    Link l(config(3, 0), config(3, 0), digest(1), digest(2));
    l.pump();
    CHECK(l.pb->closed);
    CHECK(l.pb->why == "encryption handshake for an unknown torrent");
    CHECK(l.sb.got.empty());
}

TEST_CASE("mse: the responder hands out the initial payload, and the transport delivers it first") {
    const Sha1Digest ih = digest(0x44);
    const std::string hs = "\x13" "BitTorrent protocol-as-IA";
    SUBCASE("state machine") {
        MseConfig ac = config(3, 9);
        ac.initial_payload = hs;
        auto a = MseHandshake::initiator(ih, ac);
        auto b = MseHandshake::responder(finder(ih), config(3, 9));
        REQUIRE(run(a, b, 7));
        CHECK(b.take_initial_payload() == hs);
    }
    for (bool plain : {false, true}) {
        CAPTURE(plain);
        MseConfig ac = config(3, 0);
        ac.initial_payload = hs;
        Link l(ac, config(3, 0, plain), ih, ih);
        l.pump();
        REQUIRE(l.b->negotiated());
        CHECK(l.b->encrypted() == !plain);
        // IA first, then what A's handler sent while the negotiation ran.
        CHECK(l.sb.got == hs + "hello from A");
        // The stream after IA: plain text passes through, RC4 continues.
        l.a->send("more");
        l.pump();
        CHECK(l.sb.got == hs + "hello from A" + "more");
    }
}

TEST_CASE("mse transport: after the initial payload, what the handler leaves stays in the inner buffer, decrypted once") {
    const Sha1Digest ih = digest(0x46);
    for (bool plain : {false, true}) {
        CAPTURE(plain);
        MseConfig ac = config(3, 0);
        ac.initial_payload = std::string(25, 'I');
        Link l(ac, config(3, 0, plain), ih, ih);
        l.sb.record = 10;  // 25 bytes of IA and 12 of greeting: a rest of 7 at the switch
        l.pump();
        REQUIRE(l.b->negotiated());
        std::string expect = std::string(25, 'I') + "hello from A";
        CHECK(l.sb.got == expect.substr(0, 30));
        uint32_t x = 3;
        for (int i = 0; i < 300 || expect.size() % 10 != 0; ++i) {
            std::string chunk(size_t(i % 13 + 1), '\0');
            for (auto& c : chunk) c = char((x = x * 1103515245u + 12345u) >> 24);
            expect += chunk;
            l.a->send(chunk);
            l.pump();
            CHECK(l.pb->in.size() < 10);  // the rest waits in the inner buffer, not in a copy
        }
        CHECK(l.sb.got == expect);
        // A kept range is the plain text, and stays so.
        std::string_view tail = std::string_view(l.sb.got).substr(l.sb.got.size() - 20);
        SharedBytes k = l.b->keep(tail);
        CHECK(k.view() == expect.substr(expect.size() - 20));
    }
}
