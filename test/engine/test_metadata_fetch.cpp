// MetadataFetch driven through scripted transports on a fake host: the
// handshakes, pieces from several peers, hostile sizes and pieces, slow
// peers and a dictionary that does not hash to the info-hash.
#include <doctest/doctest.h>

#include "btl/core/bencode.hpp"
#include "btl/engine/metadata_fetch.hpp"
#include "btl/ext/extension.hpp"
#include "btl/ext/ut_metadata.hpp"
#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {

std::string make_info(size_t approx) {
    std::string filler(approx, 'q');
    for (size_t i = 0; i < filler.size(); ++i) filler[i] = char('a' + (i * 7) % 26);
    std::string out;
    BEncoder(out).begin_dict().string("length").integer(1).string("name").string("x").string("pad").string(filler).end();
    return out;
}

struct FetchRig {
    FakeHost host;
    std::string info;
    MagnetLink link;
    std::unique_ptr<MetadataFetch> fetch;
    std::string got;
    std::vector<PeerEndpoint> got_peers;
    int done_calls = 0;

    FetchRig(size_t info_size, int peers) : info(make_info(info_size)) {
        link.info_hash = sha1(info);
        for (int i = 0; i < peers; ++i) link.peers.push_back(PeerEndpoint{"10.0.0." + std::to_string(i + 1), 6881});
        fetch = std::make_unique<MetadataFetch>(host, link, [this](std::string i, std::vector<PeerEndpoint> p) {
            got = std::move(i);
            got_peers = std::move(p);
            ++done_calls;
        });
        fetch->start();
    }
    ~FetchRig() { fetch.reset(); }

    // The remote's handshake and extended handshake, after our connect.
    void greet(ScriptedTransport* t, int64_t size, bool extended = true) {
        t->connected();
        std::string hs;
        PeerId pid = make_peer_id("-RM0001-", uint64_t(reinterpret_cast<uintptr_t>(t)));
        append_handshake(hs, link.info_hash, pid, false, extended);
        t->feed(hs);
        if (!extended) return;
        std::string payload;
        BEncoder e(payload);
        e.begin_dict().string("m").begin_dict().string("ut_metadata").integer(3).end();
        if (size >= 0) e.string("metadata_size").integer(size);
        e.end();
        std::string msg;
        append_extended(msg, 0, payload);
        t->feed(msg);
    }
    // The ut_metadata pieces we asked `t` for since the last call.
    std::vector<uint32_t> requests(ScriptedTransport* t) {
        std::vector<uint32_t> out;
        for (const auto& m : t->take_sent()) {
            if (m.id != MsgId::extended || m.payload.rfind("d8:msg_type", 0) != 0) continue;
            auto r = parse_metadata_msg(m.payload);
            REQUIRE(r.ok());
            if (r->type == MetadataMsgType::request) out.push_back(r->piece);
        }
        return out;
    }
    void send_piece(ScriptedTransport* t, uint32_t piece, std::string_view body, int64_t total = -1) {
        std::string msg;
        append_extended(msg, uint8_t(ExtMsg::ut_metadata), encode_metadata_data(piece, total < 0 ? int64_t(info.size()) : total, body));
        t->feed(msg);
    }
    // Runs the loop until `pred` holds (pool jobs may wait for a busy machine), at most 5 s.
    template <class P>
    void pump_until(P pred) {
        for (int i = 0; i < 1000 && !pred(); ++i) {
            host.pump();
            if (!pred()) uv_sleep(5);
        }
    }
    std::string_view piece_of(uint32_t i) const {
        return std::string_view(info).substr(size_t(i) * kMetadataPiece, metadata_piece_size(int64_t(info.size()), i));
    }
};

}  // namespace

TEST_CASE("metadata fetch: the dictionary in pieces from two peers, verified, handed over once") {
    FetchRig r(40'000, 2);  // 3 metadata pieces
    REQUIRE(r.host.dialled.size() == 2);
    auto* a = r.host.dialled[0];
    auto* b = r.host.dialled[1];
    r.greet(a, int64_t(r.info.size()));
    r.greet(b, int64_t(r.info.size()));
    auto ra = r.requests(a), rb = r.requests(b);
    CHECK(ra.size() + rb.size() == 3);
    CHECK(ra.size() >= 1);
    CHECK(rb.size() >= 1);
    CHECK(r.fetch->connected_peers() == 2);
    for (uint32_t p : ra) r.send_piece(a, p, r.piece_of(p));
    for (uint32_t p : rb) r.send_piece(b, p, r.piece_of(p));
    r.pump_until([&] { return r.done_calls > 0; });  // the hash check runs on the pool
    CHECK(r.done_calls == 1);
    CHECK((r.got == r.info));
    CHECK(r.got_peers.size() == 2);
    CHECK(r.fetch->finished());
    CHECK(r.host.banned.empty());
}

TEST_CASE("metadata fetch: a 2 GiB metadata_size is refused, a peer without the extension protocol dropped") {
    FetchRig r(1000, 3);
    auto* huge = r.host.dialled[0];
    auto* plain = r.host.dialled[1];
    auto* nosize = r.host.dialled[2];
    r.greet(huge, int64_t(2) << 30);
    CHECK(huge->closing());
    CHECK(huge->close_reason().find("over the limit") != std::string::npos);
    r.greet(plain, 0, false);
    CHECK(plain->closing());
    CHECK(plain->close_reason().find("extension protocol") != std::string::npos);
    r.greet(nosize, -1);
    CHECK(nosize->closing());
    CHECK(r.fetch->metadata_size() == -1);  // nothing adopted, nothing allocated
    r.host.pump();
    CHECK(r.host.logged("over the limit"));
}

TEST_CASE("metadata fetch: pieces of the wrong size, out of range or never asked drop the peer") {
    FetchRig r(40'000, 3);  // 3 pieces: the first peer greeted takes two, the second one
    auto* wrong = r.host.dialled[0];
    auto* range = r.host.dialled[1];
    auto* unasked = r.host.dialled[2];
    for (auto* t : {wrong, range, unasked}) r.greet(t, int64_t(r.info.size()));
    auto rw = r.requests(wrong);
    auto rr = r.requests(range);
    REQUIRE(!rw.empty());
    REQUIRE(!rr.empty());
    CHECK(r.requests(unasked).empty());  // every piece is out already
    r.send_piece(wrong, rw[0], r.piece_of(rw[0]).substr(1));
    CHECK(wrong->closing());
    r.send_piece(range, 9, "x");
    CHECK(range->closing());
    r.send_piece(unasked, 0, r.piece_of(0));
    CHECK(unasked->closing());
    CHECK(unasked->close_reason().find("never asked") != std::string::npos);
    r.host.pump();
    CHECK(r.done_calls == 0);
}

TEST_CASE("metadata fetch: a slow peer times out and another is asked") {
    FetchRig r(1000, 2);
    auto* slow = r.host.dialled[0];
    auto* fast = r.host.dialled[1];
    r.greet(slow, int64_t(r.info.size()));
    r.greet(fast, int64_t(r.info.size()));
    auto rs = r.requests(slow);
    REQUIRE(rs == std::vector<uint32_t>{0});
    CHECK(r.requests(fast).empty());
    r.host.now += MetadataFetch::kPieceTimeoutMs + 1;
    r.fetch->tick(r.host.now);
    CHECK(slow->closing());
    r.host.pump();  // the close is delivered: the piece is free again
    auto rf = r.requests(fast);
    REQUIRE(rf == std::vector<uint32_t>{0});
    r.send_piece(fast, 0, r.piece_of(0));
    r.pump_until([&] { return r.done_calls > 0; });
    CHECK(r.done_calls == 1);
}

TEST_CASE("metadata fetch: a dictionary that does not hash to the info-hash bans its one sender, then an honest peer finishes") {
    FetchRig r(1000, 2);
    auto* liar = r.host.dialled[0];
    auto* honest = r.host.dialled[1];
    r.greet(liar, int64_t(r.info.size()));
    auto rl = r.requests(liar);
    REQUIRE(rl == std::vector<uint32_t>{0});
    std::string fake(r.info.size(), 'z');
    r.send_piece(liar, 0, fake);
    r.pump_until([&] { return liar->closing(); });
    r.host.pump();
    CHECK(r.done_calls == 0);
    CHECK(r.host.banned.count("10.0.0.200") == 1);  // the scripted transports' address
    CHECK(liar->closing());
    CHECK(r.host.logged("does not hash to the info-hash"));
    r.greet(honest, int64_t(r.info.size()));
    auto rh = r.requests(honest);
    REQUIRE(rh == std::vector<uint32_t>{0});
    r.send_piece(honest, 0, r.piece_of(0));
    r.pump_until([&] { return r.done_calls > 0; });
    CHECK(r.done_calls == 1);
    CHECK((r.got == r.info));
}

TEST_CASE("metadata fetch: every slot taken is given back") {
    FakeHost* host = nullptr;
    {
        FetchRig r(1000, 3);
        host = &r.host;
        r.greet(r.host.dialled[0], int64_t(r.info.size()));
        r.host.dialled[1]->connected();
        // dialled[2] never connects
        r.fetch.reset();
        CHECK(r.host.opened == 3);
        CHECK(r.host.connect_finished == 3);
        CHECK(r.host.closed == 3);
    }
    (void)host;
}
