// UdpTrackerRequest against a fake BEP 15 tracker: a uv_udp_t on 127.0.0.1
// in the same loop, whose replies each test scripts.  Retransmission runs
// with a 100 ms base so the timeout paths finish in well under a second.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "btl/base/uv_util.hpp"
#include "btl/engine/announcer.hpp"
#include "btl/net/udp_tracker_client.hpp"
#include "test_loop.hpp"

using namespace btl;

namespace {

uint32_t rd32(const std::string& b, size_t at) {
    auto u = [&](size_t i) { return uint32_t(uint8_t(b[at + i])); };
    return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}
uint64_t rd64(const std::string& b, size_t at) { return uint64_t(rd32(b, at)) << 32 | rd32(b, at + 4); }
void wr32(std::string& o, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) o.push_back(char(v >> s));
}
void wr64(std::string& o, uint64_t v) {
    wr32(o, uint32_t(v >> 32));
    wr32(o, uint32_t(v));
}

std::string connect_reply(uint32_t tid, uint64_t conn) {
    std::string o;
    wr32(o, kUdpConnect);
    wr32(o, tid);
    wr64(o, conn);
    return o;
}
// One peer, 10.0.0.1:6881.
std::string announce_reply(uint32_t tid, uint32_t interval, uint32_t leechers, uint32_t seeders) {
    std::string o;
    wr32(o, kUdpAnnounce);
    wr32(o, tid);
    wr32(o, interval);
    wr32(o, leechers);
    wr32(o, seeders);
    o += std::string("\x0a\x00\x00\x01\x1a\xe1", 6);
    return o;
}
std::string error_reply(uint32_t tid, const std::string& msg) {
    std::string o;
    wr32(o, kUdpError);
    wr32(o, tid);
    return o + msg;
}

using testing::Loop;

// A scripted tracker: on_packet(packet, tracker) decides what to send back.
struct FakeTracker {
    UvHandle<uv_udp_t> udp;
    uint16_t port = 0;
    sockaddr_storage client{};
    std::vector<std::string> received;
    std::function<void(const std::string&, FakeTracker&)> on_packet;

    explicit FakeTracker(uv_loop_t* loop) {
        udp = UvHandle<uv_udp_t>::create([&](uv_udp_t* h) { return uv_udp_init(loop, h); });
        REQUIRE(udp);
        udp->data = this;
        sockaddr_in a{};
        uv_ip4_addr("127.0.0.1", 0, &a);
        REQUIRE(uv_udp_bind(udp.get(), reinterpret_cast<sockaddr*>(&a), 0) == 0);
        sockaddr_storage ss{};
        int len = sizeof ss;
        uv_udp_getsockname(udp.get(), reinterpret_cast<sockaddr*>(&ss), &len);
        port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
        uv_udp_recv_start(
            udp.get(),
            [](uv_handle_t*, size_t, uv_buf_t* buf) {
                static char b[65536];
                *buf = uv_buf_init(b, sizeof b);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
                auto* self = static_cast<FakeTracker*>(h->data);
                if (!self || n <= 0 || !from) return;
                std::memcpy(&self->client, from, sizeof(sockaddr_in));
                std::string pkt(buf->base, size_t(n));
                self->received.push_back(pkt);
                if (self->on_packet) self->on_packet(pkt, *self);
            });
    }
    void send(const std::string& data) {
        uv_buf_t b = uv_buf_init(const_cast<char*>(data.data()), unsigned(data.size()));
        CHECK(uv_udp_try_send(udp.get(), &b, 1, reinterpret_cast<sockaddr*>(&client)) == int(data.size()));
    }
    std::string url() const { return "udp://127.0.0.1:" + std::to_string(port) + "/announce"; }
    int count(uint32_t action) const {
        int n = 0;
        for (auto& p : received)
            if (p.size() >= 16 && rd32(p, 8) == action) ++n;
        return n;
    }
};

// A well-behaved tracker handing out connection id `conn`.
void behave(FakeTracker& t, uint64_t conn) {
    t.on_packet = [conn](const std::string& p, FakeTracker& tr) {
        if (p.size() == 16 && rd64(p, 0) == kUdpProtocolId && rd32(p, 8) == kUdpConnect)
            tr.send(connect_reply(rd32(p, 12), conn));
        else if (p.size() == 98 && rd64(p, 0) == conn && rd32(p, 8) == kUdpAnnounce)
            tr.send(announce_reply(rd32(p, 12), 900, 2, 3));
    };
}

AnnounceRequest sample_request() {
    AnnounceRequest r;
    r.info_hash.fill(0xab);
    r.peer_id.fill('P');
    r.port = 6881;
    r.left = 1000;
    r.event = AnnounceEvent::started;
    return r;
}

UdpTrackerOptions fast(int tries = 3) {
    UdpTrackerOptions o;
    o.base_timeout_ms = 100;
    o.max_tries = tries;
    return o;
}

struct Outcome {
    bool done = false;
    std::optional<Result<AnnounceResponse>> r;
    UdpTrackerRequest::Callback cb() {
        return [this](Result<AnnounceResponse> x) {
            CHECK_FALSE(done);  // at most once
            done = true;
            r.emplace(std::move(x));
        };
    }
};

uint16_t closed_udp_port() {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    uv_ip4_addr("127.0.0.1", 0, &a);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("udp tracker: connect then announce, fields on the wire, peers back") {
    Loop l;
    FakeTracker tr(&l.loop);
    behave(tr, 0x1122334455667788ull);
    UdpTrackerRequest req(&l.loop, fast());
    Outcome out;
    req.announce(tr.url(), sample_request(), out.cb());
    CHECK(req.busy());
    REQUIRE(l.run_until([&] { return out.done; }));
    CHECK_FALSE(req.busy());
    REQUIRE(out.r->ok());
    const AnnounceResponse& a = out.r->value();
    CHECK(a.failure_reason.empty());
    CHECK(a.interval == 900);
    CHECK(a.incomplete == 2);
    CHECK(a.complete == 3);
    REQUIRE(a.peers.size() == 1);
    CHECK(a.peers[0].to_string() == "10.0.0.1:6881");
    REQUIRE(tr.received.size() == 2);
    const std::string& ann = tr.received[1];
    CHECK(rd64(ann, 0) == 0x1122334455667788ull);
    CHECK(ann.substr(16, 20) == std::string(20, char(0xab)));
    CHECK(ann.substr(36, 20) == std::string(20, 'P'));
    CHECK(rd64(ann, 64) == 1000);  // left
    CHECK(rd32(ann, 80) == 2);     // event: started
    CHECK(uint8_t(ann[96]) * 256 + uint8_t(ann[97]) == 6881);
    // Transaction ids are fresh per packet.
    CHECK(rd32(tr.received[0], 12) != rd32(ann, 12));
}

TEST_CASE("udp tracker: host names are resolved (localhost, from /etc/hosts)") {
    Loop l;
    FakeTracker tr(&l.loop);
    behave(tr, 3);
    UdpTrackerRequest req(&l.loop, fast());
    Outcome out;
    req.announce("udp://localhost:" + std::to_string(tr.port), sample_request(), out.cb());
    REQUIRE(l.run_until([&] { return out.done; }));
    REQUIRE(out.r->ok());
    CHECK(out.r->value().peers.size() == 1);
    // (No failing-lookup case: it would query DNS, and tests stay on loopback.)
}

TEST_CASE("udp tracker: wrong transaction ids, short and garbled packets are ignored") {
    Loop l;
    FakeTracker tr(&l.loop);
    tr.on_packet = [](const std::string& p, FakeTracker& t) {
        uint32_t tid = rd32(p, 12);
        t.send("abc");                              // too short
        t.send(std::string("\x00\x00\x00\x07", 4) + p.substr(12, 4));  // unknown action
        if (rd32(p, 8) == kUdpConnect) {
            t.send(connect_reply(tid + 1, 0xbad));  // someone else's answer
            t.send(connect_reply(tid, 0x600d));
        } else {
            t.send(announce_reply(tid ^ 0x80000000u, 60, 0, 0));
            std::string trunc = announce_reply(tid, 900, 2, 3);
            t.send(trunc.substr(0, 23));            // peers not a multiple of 6
            t.send(announce_reply(tid, 900, 2, 3));
        }
    };
    UdpTrackerRequest req(&l.loop, fast());
    Outcome out;
    req.announce(tr.url(), sample_request(), out.cb());
    REQUIRE(l.run_until([&] { return out.done; }));
    REQUIRE(out.r->ok());
    CHECK(out.r->value().interval == 900);
    REQUIRE(tr.received.size() == 2);
    CHECK(rd64(tr.received[1], 0) == 0x600d);  // the matching connection id
}

TEST_CASE("udp tracker: error action is the tracker's message") {
    Loop l;
    FakeTracker tr(&l.loop);
    tr.on_packet = [](const std::string& p, FakeTracker& t) { t.send(error_reply(rd32(p, 12), "torrent not registered")); };
    UdpTrackerRequest req(&l.loop, fast());
    Outcome out;
    req.announce(tr.url(), sample_request(), out.cb());
    REQUIRE(l.run_until([&] { return out.done; }));
    REQUIRE(out.r->ok());
    CHECK(out.r->value().failure_reason == "torrent not registered");
}

TEST_CASE("udp tracker: silence means retransmission with doubling waits, then a bounded timeout") {
    Loop l;
    FakeTracker tr(&l.loop);  // answers nothing
    std::vector<uint64_t> at;
    tr.on_packet = [&](const std::string&, FakeTracker&) { at.push_back(uv_now(&l.loop)); };
    UdpTrackerRequest req(&l.loop, fast(3));
    Outcome out;
    uint64_t t0 = uv_now(&l.loop);
    req.announce(tr.url(), sample_request(), out.cb());
    REQUIRE(l.run_until([&] { return out.done; }, 3000));
    uint64_t took = uv_now(&l.loop) - t0;
    REQUIRE_FALSE(out.r->ok());
    CHECK(out.r->error().message.find("no answer from UDP tracker 127.0.0.1:") != std::string::npos);
    CHECK(out.r->error().message.find("after 3 tries") != std::string::npos);
    CHECK(took >= 650);  // 100 + 200 + 400 ms
    CHECK(took < 1500);
    REQUIRE(at.size() == 3);  // the connect, sent three times
    CHECK(tr.count(kUdpConnect) == 3);
    CHECK(at[2] - at[1] >= 180);  // the second wait is twice the first
}

TEST_CASE("udp tracker: connection id reused within its minute, per tracker") {
    Loop l;
    FakeTracker tr(&l.loop);
    behave(tr, 77);
    auto cache = std::make_shared<UdpConnectionCache>();
    UdpTrackerRequest req(&l.loop, fast(), cache);
    for (int i = 0; i < 2; ++i) {
        Outcome out;
        req.announce(tr.url(), sample_request(), out.cb());
        REQUIRE(l.run_until([&] { return out.done; }));
        REQUIRE(out.r->ok());
    }
    CHECK(tr.count(kUdpConnect) == 1);
    CHECK(tr.count(kUdpAnnounce) == 2);
    CHECK(cache->get("127.0.0.1:" + std::to_string(tr.port), int64_t(uv_now(&l.loop))) == 77u);
}

TEST_CASE("udp tracker: a cached id the tracker ignores is dropped and the request reconnects") {
    Loop l;
    FakeTracker tr(&l.loop);
    behave(tr, 5);
    auto cache = std::make_shared<UdpConnectionCache>();
    std::string key = "127.0.0.1:" + std::to_string(tr.port);
    cache->put(key, 999, int64_t(uv_now(&l.loop)));  // the tracker forgot this one
    UdpTrackerRequest req(&l.loop, fast(), cache);
    Outcome out;
    req.announce(tr.url(), sample_request(), out.cb());
    REQUIRE(l.run_until([&] { return out.done; }));
    REQUIRE(out.r->ok());
    CHECK(tr.count(kUdpConnect) == 1);
    CHECK(cache->get(key, int64_t(uv_now(&l.loop))) == 5u);
}

TEST_CASE("udp connection cache: ids expire after a minute") {
    UdpConnectionCache c;
    c.put("t:1", 42, 1000);
    CHECK(c.get("t:1", 1000) == 42u);
    CHECK(c.get("t:1", 60'999) == 42u);
    CHECK_FALSE(c.get("t:1", 61'000).has_value());
    CHECK_FALSE(c.get("t:2", 1000).has_value());
    c.forget("t:1");
    CHECK(c.size() == 0);
}

TEST_CASE("udp tracker: nothing listening is reported at once, bad URLs too") {
    Loop l;
    UdpTrackerRequest req(&l.loop, fast(5));  // 3.1 s if it had to time out
    Outcome out;
    req.announce("udp://127.0.0.1:" + std::to_string(closed_udp_port()) + "/announce", sample_request(), out.cb());
    REQUIRE(l.run_until([&] { return out.done; }, 2000));
    REQUIRE_FALSE(out.r->ok());
    CHECK(out.r->error().message.find("refused") != std::string::npos);

    Outcome bad;
    req.announce("udp://127.0.0.1/announce", sample_request(), bad.cb());
    REQUIRE(l.run_until([&] { return bad.done; }, 1000));
    REQUIRE_FALSE(bad.r->ok());
    CHECK(bad.r->error().message.find("bad tracker URL") != std::string::npos);
}

TEST_CASE("udp tracker: destroying the request cancels the callback") {
    Loop l;
    FakeTracker tr(&l.loop);
    int answered = 0;
    tr.on_packet = [&](const std::string& p, FakeTracker& t) {
        ++answered;
        t.send(connect_reply(rd32(p, 12), 1));
    };
    bool called = false;
    {
        UdpTrackerRequest req(&l.loop, fast());
        req.announce(tr.url(), sample_request(), [&](Result<AnnounceResponse>) { called = true; });
        REQUIRE(l.run_until([&] { return answered == 1; }));
    }
    l.run_until([] { return false; }, 300);
    CHECK_FALSE(called);
}

TEST_CASE("announcer: udp trackers work like http ones; a silent first tier costs one try") {
    Loop l;
    FakeTracker silent(&l.loop);  // bound, never answers
    FakeTracker live(&l.loop);
    behave(live, 9);
    std::vector<PeerEndpoint> got;
    std::vector<std::string> warnings;
    Announcer::Hooks hooks;
    hooks.make_request = [] { return sample_request(); };
    hooks.on_peers = [&](const std::vector<PeerEndpoint>& p) { got = p; };
    hooks.on_log = [&](LogLevel, const std::string& m) { warnings.push_back(m); };
    std::string dead = "udp://127.0.0.1:" + std::to_string(closed_udp_port()) + "/announce";
    Announcer ann(&l.loop, {{dead}, {silent.url()}, {live.url()}}, HttpOptions{}, hooks, fast(3));
    uint64_t t0 = uv_now(&l.loop);
    ann.start();
    REQUIRE(l.run_until([&] { return !got.empty(); }, 3000));
    uint64_t took = uv_now(&l.loop) - t0;
    CHECK(took < 400);                         // one 100 ms try on the silent tier
    CHECK(silent.count(kUdpConnect) == 1);
    CHECK(got[0].to_string() == "10.0.0.1:6881");
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0].find("refused") != std::string::npos);
    CHECK(warnings[1].find("no answer") != std::string::npos);
    auto st = ann.status(int64_t(uv_now(&l.loop)));
    REQUIRE(st.size() == 3);
    CHECK(st[2].status == "ok");
    CHECK(st[2].seeds == 3);
    CHECK(st[2].leechers == 2);

    // Shutdown sends `stopped` to the tracker that answered, reusing its
    // connection id, and reports done once it replied.
    bool stopped = false;
    ann.stop(2000, [&] { stopped = true; });
    REQUIRE(l.run_until([&] { return stopped; }, 1000));
    CHECK(live.count(kUdpConnect) == 1);
    REQUIRE(live.count(kUdpAnnounce) == 2);
    CHECK(rd32(live.received.back(), 80) == 3);  // event: stopped
}
