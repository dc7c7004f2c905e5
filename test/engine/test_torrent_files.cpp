// Per-file choices and sequential download on a real Torrent (fake host,
// memory store, scripted peers): unwanted pieces are never requested, the
// torrent seeds when the wanted ones are in, wanting a file again downloads
// it, and sequential download asks for pieces in order.
#include <doctest/doctest.h>

#include <algorithm>

#include "torrent_harness.hpp"

using namespace btl;
using namespace btl::test;

namespace {
constexpr uint32_t kB = 16384;
constexpr uint32_t kPiece = 2 * kB;

// make_content's data and piece hashes under a multi-file info dictionary:
// f0 = pieces 0-1, f1 = piece 2, f2 = piece 3, f3 = piece 4 and 5.
TestContent four_files() {
    TestContent c = make_content(6, kPiece);
    const auto& h = c.mi.pieces;
    auto file = [](const char* name, uint32_t len) {
        return "d6:lengthi" + std::to_string(len) + "e4:pathl2:" + name + "ee";
    };
    c.torrent = "d4:infod5:filesl" + file("f0", 2 * kPiece) + file("f1", kPiece) + file("f2", kPiece) +
                file("f3", 2 * kPiece) + "e4:name4:test12:piece lengthi" + std::to_string(kPiece) + "e6:pieces" +
                std::to_string(h.size()) + ":" + h + "ee";
    auto mi = parse_metainfo(c.torrent);
    REQUIRE(mi.ok());
    c.mi = *mi;
    return c;
}

// Answers every request the peer got until it gets none; returns the pieces
// requested, in order of first request.
std::vector<uint32_t> serve(Harness& h, RemotePeer& p, std::vector<SentMessage> first = {}) {
    std::vector<uint32_t> order;
    auto reqs = RemotePeer::of(first, MsgId::request);
    for (int round = 0; round < 50; ++round) {
        if (!p.connected()) break;  // done: a seed and a seed part
        auto more = RemotePeer::of(p.sent(), MsgId::request);
        reqs.insert(reqs.end(), more.begin(), more.end());
        if (reqs.empty()) break;
        for (const auto& r : reqs) {
            if (std::find(order.begin(), order.end(), r.piece) == order.end()) order.push_back(r.piece);
            p.block(r.piece, r.begin, h.block_of(r.piece, r.begin, r.length));
        }
        reqs.clear();
        h.host.pump();
    }
    return order;
}

}  // namespace

TEST_CASE("torrent files: unwanted pieces are never requested; done when the wanted ones are; wanted again") {
    Harness h(four_files());
    REQUIRE(h.t->set_files_wanted({1, 3}, false).ok());
    CHECK_FALSE(h.t->set_files_wanted({4}, false).ok());  // no such file
    REQUIRE(h.t->set_files_priority({2}, FilePriority::high).ok());
    auto st = h.t->status(true);
    CHECK(st.wanted_bytes == 3 * kPiece);
    CHECK(st.progress == 0);
    REQUIRE(st.files.size() == 4);
    CHECK_FALSE(st.files[1].wanted);
    CHECK(st.files[2].priority == 1);

    // A peer with only a skipped file's piece is not interesting.
    RemotePeer z(h.host, *h.t, "10.0.0.9");
    Bitfield only2(6);
    only2.set(2);
    z.bitfield(only2);
    z.simple(MsgId::unchoke);
    auto to_z = z.sent();
    CHECK(RemotePeer::of(to_z, MsgId::interested).empty());
    CHECK(RemotePeer::of(to_z, MsgId::request).empty());

    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.bitfield(all_pieces(6));
    a.simple(MsgId::unchoke);
    auto order = serve(h, a);
    REQUIRE(order.size() == 3);
    CHECK(order[0] == 3);  // the high-priority file's piece first
    for (uint32_t p : order) CHECK((p != 2 && p != 4 && p != 5));
    st = h.t->status(true);
    CHECK(st.state == TorrentState::seeding);
    CHECK(st.progress == 1);
    CHECK(st.have_wanted_bytes == 3 * kPiece);
    CHECK(st.pieces_have == 3);
    CHECK(st.eta_s == 0);
    CHECK(h.t->complete());
    CHECK(st.files[0].bytes_completed == 2 * kPiece);
    CHECK(st.files[1].bytes_completed == 0);
    CHECK_FALSE((a.connected() && !a.closing()));  // two seeds: nothing to trade

    // f1 wanted again: downloading, and a new peer is asked for piece 2 only.
    REQUIRE(h.t->set_files_wanted({1}, true).ok());
    CHECK(h.t->status(false).state == TorrentState::downloading);
    CHECK_FALSE(h.t->complete());
    RemotePeer b(h.host, *h.t, "10.0.0.2");
    b.bitfield(all_pieces(6));
    b.simple(MsgId::unchoke);
    order = serve(h, b);
    CHECK(order == std::vector<uint32_t>{2});
    st = h.t->status(false);
    CHECK(st.state == TorrentState::seeding);
    CHECK(st.wanted_bytes == 4 * kPiece);
    CHECK(st.have_wanted_bytes == 4 * kPiece);
}

TEST_CASE("torrent files: sequential download asks for pieces in order") {
    Harness h(make_content(24, kPiece));
    h.t->set_sequential(true);
    CHECK(h.t->status(false).sequential);
    RemotePeer a(h.host, *h.t, "10.0.0.1");
    a.bitfield(all_pieces(24));
    a.simple(MsgId::unchoke);
    auto order = serve(h, a);
    REQUIRE(order.size() == 24);
    for (uint32_t i = 0; i < 24; ++i) CHECK(order[i] == i);
    CHECK(h.t->status(false).state == TorrentState::seeding);
}

TEST_CASE("torrent files: a choice made while a resume save is in flight is saved after it, not lost") {
    Harness h(make_content(4, kPiece));
    h.host.pump();
    const int before = h.host.store->saves;
    h.t->set_sequential(true);   // a save in flight: its snapshot says sequential
    h.t->set_sequential(false);  // asks for a save while that one runs
    bool stopped = false;
    h.t->stop([&] { stopped = true; });  // and one more, with a waiter
    CHECK_FALSE(stopped);
    h.host.pump();
    CHECK(stopped);
    // What was asked for during the first save became one save, after it:
    // the newest choice is what stays on disk.
    CHECK(h.host.store->saves - before == 2);
    CHECK_FALSE(h.host.store->last_sequential);
}
