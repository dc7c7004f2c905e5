// The extension protocol in a real Torrent (BEP 10 handshake, reqq, BEP 21
// upload_only, serving BEP 9 ut_metadata, BEP 11 PEX): scripted peers, no
// sockets (torrent_harness.hpp).
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <memory>

#include "btl/engine/session_options.hpp"
#include "btl/ext/extension.hpp"
#include "btl/ext/ut_metadata.hpp"
#include "btl/ext/ut_pex.hpp"
#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;
constexpr uint8_t kTheirPex = 7, kTheirMetadata = 9;  // the ids the remote wants

PeerId pid(const std::string& ip) { return make_peer_id("-XX0001-", std::hash<std::string>()(ip)); }

// A remote peer that sets the extension bit.
std::unique_ptr<RemotePeer> ext_peer(Harness& h, const std::string& ip) {
    return std::make_unique<RemotePeer>(h.host, *h.t, ip, pid(ip), true, true);
}

// Its extended handshake: ut_pex and ut_metadata under its ids, and `port`.
std::string their_handshake(int port = 0, int64_t reqq = -1, int upload_only = -1) {
    ExtHandshake h;
    h.ids[size_t(ExtMsg::ut_pex)] = kTheirPex;
    h.ids[size_t(ExtMsg::ut_metadata)] = kTheirMetadata;
    h.listen_port = port;
    h.reqq = reqq;
    h.upload_only = upload_only;
    return encode_ext_handshake(h);
}

std::vector<SentMessage> extended(const std::vector<SentMessage>& all, uint8_t ext_id) {
    std::vector<SentMessage> out;
    for (const auto& m : RemotePeer::of(all, MsgId::extended))
        if (m.ext_id == ext_id) out.push_back(m);
    return out;
}

ExtHandshake our_handshake(const std::vector<SentMessage>& all) {
    auto hs = extended(all, 0);
    REQUIRE(hs.size() == 1);
    auto h = parse_ext_handshake(hs[0].payload);
    REQUIRE(h.ok());
    return *h;
}

void tick(Harness& h, int64_t ms = 1000) {
    for (int64_t t = 0; t < ms; t += 1000) {
        h.host.now += 1000;
        h.t->tick(h.host.now);
        h.host.pump();
    }
}

// The PEX messages among `all`, decoded.
std::vector<PexMessage> pex_of(const std::vector<SentMessage>& all) {
    std::vector<PexMessage> out;
    for (const auto& m : extended(all, kTheirPex)) {
        auto p = parse_pex(m.payload);
        REQUIRE(p.ok());
        out.push_back(*p);
    }
    return out;
}

std::string pex_payload(const std::vector<PeerEndpoint>& added, uint8_t flags = 0) {
    PexMessage m;
    for (const auto& ep : added) m.added.push_back({ep, flags});
    return encode_pex(m);
}
}  // namespace

TEST_CASE("ext: our extended handshake follows the bitfield and says what we support") {
    Harness h(make_content(4, 2 * kB));
    auto a = ext_peer(h, "10.0.0.1");
    auto sent = a->sent();
    ExtHandshake ours = our_handshake(sent);
    CHECK(ours.remote_id(ExtMsg::ut_metadata) == uint8_t(ExtMsg::ut_metadata));
    CHECK(ours.remote_id(ExtMsg::ut_pex) == uint8_t(ExtMsg::ut_pex));
    CHECK(ours.listen_port == 6881);
    CHECK(ours.client == "btlaunchmany 0.1.0");
    CHECK(ours.reqq == 2000);
    CHECK(ours.metadata_size == int64_t(h.c.mi.info_bytes.size()));
    CHECK(ours.upload_only == 0);
    CHECK(ours.yourip == std::string("\x0a\x00\x00\x01", 4));
}

TEST_CASE("ext: a seed says upload_only; a peer without the extension bit gets no extended message") {
    Harness h(make_content(4, 2 * kB), true);
    REQUIRE(h.state() == TorrentState::seeding);
    auto a = ext_peer(h, "10.0.0.1");
    CHECK(our_handshake(a->sent()).upload_only == 1);
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    CHECK(RemotePeer::of(b.sent(), MsgId::extended).empty());
    b.extended(0, their_handshake());  // not negotiated: ignored, not a violation
    CHECK_FALSE(b.closing());
}

TEST_CASE("ext: no ut_pex on a private torrent, nor with --pex 0") {
    TestContent c = make_content(4, 2 * kB);
    c.mi.is_private = true;
    Harness h(c);
    auto a = ext_peer(h, "10.0.0.1");
    ExtHandshake ours = our_handshake(a->sent());
    CHECK(ours.remote_id(ExtMsg::ut_pex) == 0);
    CHECK(ours.remote_id(ExtMsg::ut_metadata) != 0);
    // What comes under the ut_pex id is ignored: nothing is dialled.
    a->extended(0, their_handshake(7001));
    a->extended(uint8_t(ExtMsg::ut_pex), pex_payload({{"10.0.0.50", 7050}}));
    CHECK_FALSE(a->closing());
    CHECK(h.host.dialled.empty());

    Harness h2(make_content(4, 2 * kB));
    h2.host.opt.pex = false;
    auto b = ext_peer(h2, "10.0.0.2");
    CHECK(our_handshake(b->sent()).remote_id(ExtMsg::ut_pex) == 0);
}

TEST_CASE("ext: the peer's reqq caps our requests strictly below it") {
    Harness h(make_content(8, 4 * kB));  // 32 blocks to ask for
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, their_handshake(0, 10));
    Bitfield all(8);
    all.set_all();
    a->bitfield(all);
    a->simple(MsgId::unchoke);
    CHECK(RemotePeer::of(a->sent(), MsgId::request).size() == 9);
    // Without a reqq the first batch is bigger.
    auto b = ext_peer(h, "10.0.0.2");
    b->bitfield(all);
    b->simple(MsgId::unchoke);
    CHECK(RemotePeer::of(b->sent(), MsgId::request).size() > 9);
}

TEST_CASE("ext: a malformed extended handshake disconnects with a warning naming the field") {
    Harness h(make_content(4, 2 * kB));
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, "d1:mi5ee");
    CHECK(a->closing());
    h.host.pump();
    CHECK(h.host.logged("10.0.0.1:50000 disconnected: extended handshake: m is not a dictionary"));
    auto b = ext_peer(h, "10.0.0.2");
    b->extended(0, "d4:reqqi-1ee");
    CHECK(b->closing());
}

TEST_CASE("ext: BEP 21, a seed drops a peer that says upload_only, a downloader keeps it") {
    Harness seed(make_content(4, 2 * kB), true);
    auto a = ext_peer(seed, "10.0.0.1");
    a->extended(0, their_handshake(0, -1, 1));
    CHECK(a->closing());
    CHECK(a->wire().close_reason().find("both sides are seeds") != std::string::npos);

    Harness leech(make_content(4, 2 * kB));
    auto b = ext_peer(leech, "10.0.0.2");
    b->extended(0, their_handshake(0, -1, 1));
    CHECK_FALSE(b->closing());
}

TEST_CASE("ext: completing the download says upload_only to the peers left and drops upload_only ones") {
    Harness h(make_content(1, kB));
    auto a = ext_peer(h, "10.0.0.1");  // the seed we download from
    a->extended(0, their_handshake(0, -1, 1));
    auto b = ext_peer(h, "10.0.0.2");  // a leecher
    b->extended(0, their_handshake());
    a->simple(MsgId::have_all);
    a->simple(MsgId::unchoke);
    auto req = RemotePeer::of(a->sent(), MsgId::request);
    REQUIRE(req.size() == 1);
    b->sent();
    a->block(0, 0, h.block_of(0, 0, kB));
    h.host.pump();
    REQUIRE(h.state() == TorrentState::seeding);
    CHECK((a->closing() || !a->connected()));
    CHECK(our_handshake(b->sent()).upload_only == 1);
    CHECK_FALSE(b->closing());
}

TEST_CASE("ext: ut_metadata requests are answered with pieces of the info dictionary, bounded") {
    Harness h(make_content(4, 2 * kB), true);
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, their_handshake());
    a->sent();
    a->extended(uint8_t(ExtMsg::ut_metadata), encode_metadata_request(0));
    auto got = extended(a->sent(), kTheirMetadata);
    REQUIRE(got.size() == 1);
    auto m = parse_metadata_msg(got[0].payload);
    REQUIRE(m.ok());
    CHECK(m->type == MetadataMsgType::data);
    CHECK(m->total_size == int64_t(h.c.mi.info_bytes.size()));
    CHECK(std::string(m->data) == h.c.mi.info_bytes);
    a->extended(uint8_t(ExtMsg::ut_metadata), encode_metadata_request(1));  // out of range
    got = extended(a->sent(), kTheirMetadata);
    REQUIRE(got.size() == 1);
    CHECK(parse_metadata_msg(got[0].payload)->type == MetadataMsgType::reject);
    // One piece: 3 * 1 + 16 requests a minute, the rest rejected.
    for (int i = 0; i < 30; ++i) a->extended(uint8_t(ExtMsg::ut_metadata), encode_metadata_request(0));
    int data = 0, rejects = 0;
    for (const auto& s : extended(a->sent(), kTheirMetadata))
        (parse_metadata_msg(s.payload)->type == MetadataMsgType::data ? data : rejects)++;
    CHECK(data == 18);  // 19 in the minute, one of them above
    CHECK(rejects == 12);
    CHECK_FALSE(a->closing());
    tick(h, 61'000);
    a->extended(uint8_t(ExtMsg::ut_metadata), encode_metadata_request(0));
    got = extended(a->sent(), kTheirMetadata);
    REQUIRE(got.size() == 1);
    CHECK(parse_metadata_msg(got[0].payload)->type == MetadataMsgType::data);
}

TEST_CASE("pex: peers we know the listen port of are sent once a minute, drops too") {
    Harness h(make_content(4, 2 * kB));
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, their_handshake(7001));
    auto b = ext_peer(h, "10.0.0.2");
    b->extended(0, their_handshake(7002));
    auto c = ext_peer(h, "10.0.0.3");  // no port: not named to others
    c->extended(0, their_handshake());
    a->sent();
    tick(h);
    auto p = pex_of(a->sent());
    REQUIRE(p.size() == 1);
    REQUIRE(p[0].added.size() == 1);
    CHECK(p[0].added[0].ep == PeerEndpoint{"10.0.0.2", 7002});
    CHECK(p[0].added[0].flags == 0);  // incoming, a leecher
    tick(h, 30'000);
    CHECK(pex_of(a->sent()).empty());  // not twice within a minute
    b->wire().close("gone");
    h.host.pump();
    tick(h, 30'000);
    p = pex_of(a->sent());
    REQUIRE(p.size() == 1);
    CHECK(p[0].added.empty());
    REQUIRE(p[0].dropped.size() == 1);
    CHECK(p[0].dropped[0] == PeerEndpoint{"10.0.0.2", 7002});
    tick(h, 75'000);  // (it stays under the 150 s inactivity limit)
    REQUIRE(a->connected());
    CHECK(pex_of(a->sent()).empty());  // nothing changed: nothing sent
}

TEST_CASE("pex: at most 50 added in one message, the rest a minute later") {
    Harness h(make_content(4, 2 * kB));
    h.host.opt.max_peers_per_torrent = 100;
    std::vector<std::unique_ptr<RemotePeer>> ps;
    for (int i = 0; i < 56; ++i) {
        ps.push_back(ext_peer(h, "10.0.1." + std::to_string(i + 1)));
        ps.back()->extended(0, their_handshake(7000 + i));
    }
    ps[0]->sent();
    tick(h);
    auto p = pex_of(ps[0]->sent());
    REQUIRE(p.size() == 1);
    CHECK(p[0].added.size() == 50);
    tick(h, 60'000);
    p = pex_of(ps[0]->sent());
    REQUIRE(p.size() == 1);
    CHECK(p[0].added.size() == 5);
}

TEST_CASE("pex: added peers are dialled and shown as heard of through PEX") {
    Harness h(make_content(4, 2 * kB));
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, their_handshake(7001));
    a->extended(uint8_t(ExtMsg::ut_pex), pex_payload({{"10.0.0.50", 7050}}, kPexReachable));
    CHECK_FALSE(a->closing());
    REQUIRE(h.host.dialled.size() == 1);
    ScriptedTransport& tr = *h.host.dialled.back();
    tr.connected();
    std::string hs;
    append_handshake(hs, h.t->info_hash(), pid("10.0.0.50"), true, true);
    tr.feed(hs);
    bool shown = false;
    for (const auto& s : h.t->status(true).peer_list)
        if (s.address == "10.0.0.200:6881") shown = s.flags.find('X') != std::string::npos;
    CHECK(shown);
    // And the dialled one is named (reachable) to the others.
    a->sent();
    tick(h);
    auto p = pex_of(a->sent());
    REQUIRE(p.size() == 1);
    REQUIRE(p[0].added.size() == 1);
    CHECK(p[0].added[0].ep == PeerEndpoint{"10.0.0.50", 7050});
    CHECK(p[0].added[0].flags == kPexReachable);
}

TEST_CASE("pex: one message adds at most 100 peers; a seed skips seeds") {
    Harness h(make_content(4, 2 * kB));
    h.host.opt.max_peers_per_torrent = 1000;
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, their_handshake(7001));
    std::vector<PeerEndpoint> many;
    for (int i = 0; i < 150; ++i) many.push_back({"10.0.2." + std::to_string(i + 1), 6881});
    a->extended(uint8_t(ExtMsg::ut_pex), pex_payload(many));
    CHECK_FALSE(a->closing());
    CHECK(h.host.dialled.size() == 100);

    Harness seed(make_content(4, 2 * kB), true);
    auto b = ext_peer(seed, "10.0.0.2");
    b->extended(0, their_handshake(7002));
    b->extended(uint8_t(ExtMsg::ut_pex), pex_payload({{"10.0.3.1", 6881}}, kPexSeed));
    CHECK(seed.host.dialled.empty());
}

TEST_CASE("pex: a peer flagged 0x04 is told to the host as speaking uTP") {
    Harness h(make_content(4, 2 * kB));
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, their_handshake(7001));
    a->extended(uint8_t(ExtMsg::ut_pex), pex_payload({{"10.0.4.1", 6881}}, kPexUtp));
    a->extended(uint8_t(ExtMsg::ut_pex), pex_payload({{"10.0.4.2", 6881}}));
    CHECK(h.host.utp_hints == std::vector<std::string>{"10.0.4.1"});
}

TEST_CASE("pex: a flood of messages or one too big disconnects the peer") {
    Harness h(make_content(4, 2 * kB));
    auto a = ext_peer(h, "10.0.0.1");
    a->extended(0, their_handshake(7001));
    for (int i = 0; i < 6; ++i) a->extended(uint8_t(ExtMsg::ut_pex), pex_payload({}));
    CHECK_FALSE(a->closing());
    tick(h, 61'000);
    for (int i = 0; i < 6; ++i) a->extended(uint8_t(ExtMsg::ut_pex), pex_payload({}));
    CHECK_FALSE(a->closing());
    a->extended(uint8_t(ExtMsg::ut_pex), pex_payload({}));
    CHECK(a->closing());
    CHECK(h.t->pex_floods() == 1);
    h.host.pump();
    CHECK(h.host.logged("PEX flood: 7 messages within a minute"));

    // 100,000 peers: the frame is refused from its length prefix.
    auto b = ext_peer(h, "10.0.0.2");
    b->extended(0, their_handshake(7002));
    std::string huge = "d5:added600000:" + std::string(600000, '\x01') + "e";
    b->extended(uint8_t(ExtMsg::ut_pex), huge);
    CHECK(b->closing());
    // A malformed one.
    auto c = ext_peer(h, "10.0.0.3");
    c->extended(0, their_handshake(7003));
    c->extended(uint8_t(ExtMsg::ut_pex), "d5:added5:12345e");
    CHECK(c->closing());
    h.host.pump();
    CHECK(h.host.logged("ut_pex: added length 5 is not a multiple of 6"));
}

TEST_CASE("ext: --pex is 1 by default, 0 turns it off, anything else is a usage error") {
    auto read = [](std::vector<const char*> args, SessionOptions& so) {
        Options o(session_option_specs());
        args.insert(args.begin(), "prog");
        REQUIRE(o.parse(int(args.size()), const_cast<char**>(args.data())).ok());
        return read_session_options(o, so);
    };
    SessionOptions a, b, c;
    REQUIRE(read({}, a).ok());
    CHECK(a.pex);
    REQUIRE(read({"--pex", "0"}, b).ok());
    CHECK_FALSE(b.pex);
    auto bad = read({"--pex", "2"}, c);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("--pex") != std::string::npos);
}

TEST_CASE("ext: a super-seed does not say upload_only (as libtorrent: leechers would think it useless)") {
    Harness h(make_content(4, 2 * kB), true);
    h.t->pause();
    h.host.pump();
    h.host.opt.super_seeder = true;
    h.t->resume();
    h.host.pump();
    REQUIRE(h.t->super_seeding());
    auto a = ext_peer(h, "10.0.0.1");
    CHECK(our_handshake(a->sent()).upload_only == 0);
}
