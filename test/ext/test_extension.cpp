#include <doctest/doctest.h>

#include <string>

#include "btl/ext/extension.hpp"
#include "btl/ext/ut_metadata.hpp"

using namespace btl;

TEST_CASE("extension: our handshake round trips and names each extension with our id") {
    ExtHandshake ours;
    ours.ids[size_t(ExtMsg::ut_pex)] = 1;
    ours.ids[size_t(ExtMsg::ut_metadata)] = 2;
    ours.listen_port = 51413;
    ours.client = "btlaunchmany 0.1.0";
    ours.reqq = 500;
    ours.metadata_size = 31235;
    ours.upload_only = 1;
    ours.yourip = std::string("\x7f\x00\x00\x02", 4);
    std::string wire = encode_ext_handshake(ours);
    CHECK(wire.rfind("d1:md11:ut_metadatai2e6:ut_pexi1ee", 0) == 0);  // keys sorted
    auto back = parse_ext_handshake(wire);
    REQUIRE(back.ok());
    CHECK(back->remote_id(ExtMsg::ut_pex) == 1);
    CHECK(back->remote_id(ExtMsg::ut_metadata) == 2);
    CHECK(back->listen_port == 51413);
    CHECK(back->client == "btlaunchmany 0.1.0");
    CHECK(back->reqq == 500);
    CHECK(back->metadata_size == 31235);
    CHECK(back->upload_only == 1);
    CHECK(back->yourip == ours.yourip);
}

TEST_CASE("extension: a peer's handshake: unknown extensions and keys ignored, absent fields -1") {
    auto h = parse_ext_handshake("d1:md11:lt_donthavei7e11:ut_metadatai3e12:ut_holepunchi4ee1:v4:abcd5:extrai1ee");
    REQUIRE(h.ok());
    CHECK(h->remote_id(ExtMsg::ut_metadata) == 3);
    CHECK(h->remote_id(ExtMsg::ut_pex) == 0);
    CHECK(h->ids[size_t(ExtMsg::ut_pex)] == -1);
    CHECK(h->reqq == -1);
    CHECK(h->metadata_size == -1);
    CHECK(h->upload_only == -1);
    CHECK(h->client == "abcd");
}

TEST_CASE("extension: a later handshake updates only what it carries (0 disables)") {
    auto first = parse_ext_handshake("d1:md11:ut_metadatai3e6:ut_pexi1ee4:reqqi250ee");
    auto later = parse_ext_handshake("d1:md6:ut_pexi0eee");
    REQUIRE(first.ok());
    REQUIRE(later.ok());
    ExtHandshake s = *first;
    merge_ext_handshake(s, *later);
    CHECK(s.remote_id(ExtMsg::ut_pex) == 0);
    CHECK(s.remote_id(ExtMsg::ut_metadata) == 3);
    CHECK(s.reqq == 250);
}

TEST_CASE("extension: malformed handshakes are one clear error naming the field") {
    auto msg = [](std::string_view in) {
        auto h = parse_ext_handshake(in);
        return h.ok() ? std::string("ok") : h.error().message;
    };
    CHECK(msg("le") == "extended handshake: not a dictionary");
    CHECK(msg("d1:mi5ee") == "extended handshake: m is not a dictionary");
    CHECK(msg("d1:md6:ut_pexi300eee") == "extended handshake: m.ut_pex id 300 is out of range");
    CHECK(msg("d1:md6:ut_pex1:xee") == "extended handshake: m.ut_pex is not an integer");
    CHECK(msg("d1:pi70000ee") == "extended handshake: p 70000 is out of range");
    CHECK(msg("d4:reqqi-1ee") == "extended handshake: reqq -1 is out of range");
    CHECK(msg("d13:metadata_sizei-5ee") == "extended handshake: metadata_size -5 is out of range");
    CHECK(msg("d1:v") != "ok");
    CHECK(msg(std::string(kMaxExtHandshake + 1, 'd')).find("too long") != std::string::npos);
    // A metadata_size of 2 GiB parses (the fetcher refuses it by size).
    auto big = parse_ext_handshake("d13:metadata_sizei2147483648ee");
    REQUIRE(big.ok());
    CHECK(big->metadata_size > kMaxMetadataSize);
    CHECK(metadata_piece_count(big->metadata_size) == 0);
}

TEST_CASE("ut_metadata: piece arithmetic") {
    CHECK(metadata_piece_count(0) == 0);
    CHECK(metadata_piece_count(1) == 1);
    CHECK(metadata_piece_count(16384) == 1);
    CHECK(metadata_piece_count(16385) == 2);
    CHECK(metadata_piece_count(kMaxMetadataSize + 1) == 0);
    CHECK(metadata_piece_size(16385, 0) == 16384);
    CHECK(metadata_piece_size(16385, 1) == 1);
    CHECK(metadata_piece_size(16385, 2) == 0);
}

TEST_CASE("ut_metadata: messages round trip") {
    auto req = parse_metadata_msg(encode_metadata_request(7));
    REQUIRE(req.ok());
    CHECK(req->type == MetadataMsgType::request);
    CHECK(req->piece == 7);
    auto rej = parse_metadata_msg(encode_metadata_reject(2));
    REQUIRE(rej.ok());
    CHECK(rej->type == MetadataMsgType::reject);
    std::string piece(16384, 'x');
    auto data = parse_metadata_msg(encode_metadata_data(0, 20000, piece));
    REQUIRE(data.ok());
    CHECK(data->type == MetadataMsgType::data);
    CHECK(data->total_size == 20000);
    CHECK(data->data == piece);
    auto last = parse_metadata_msg(encode_metadata_data(1, 20000, std::string(20000 - 16384, 'y')));
    REQUIRE(last.ok());
    CHECK(last->data.size() == 20000 - 16384);
    // Unknown message types are ignored, not errors (BEP 9).
    auto unknown = parse_metadata_msg("d8:msg_typei7e5:piecei0ee");
    REQUIRE(unknown.ok());
    CHECK(unknown->type == MetadataMsgType::unknown);
}

TEST_CASE("ut_metadata: pieces that do not add up are errors") {
    auto msg = [](const std::string& in) {
        auto m = parse_metadata_msg(in);
        return m.ok() ? std::string("ok") : m.error().message;
    };
    CHECK(msg(encode_metadata_data(2, 20000, "abc")) == "ut_metadata: piece 2 of a 20000-byte dictionary");
    CHECK(msg(encode_metadata_data(1, 20000, "abc")) == "ut_metadata: piece 1 has 3 bytes, not 3616");
    CHECK(msg(encode_metadata_data(0, 20000, std::string(16385, 'z'))) == "ut_metadata: piece 0 has 16385 bytes, not 16384");
    CHECK(msg(encode_metadata_data(0, int64_t(1) << 31, std::string(16384, 'z'))) ==
          "ut_metadata: total_size 2147483648 is out of range");
    CHECK(msg("d8:msg_typei1e5:piecei0ee") == "ut_metadata: data without total_size");
    CHECK(msg("d8:msg_typei0ee") == "ut_metadata: no piece");
    CHECK(msg("d5:piecei0ee") == "ut_metadata: no msg_type");
    CHECK(msg("d8:msg_typei0e5:piecei-1ee") == "ut_metadata: piece -1 is out of range");
    CHECK(msg(encode_metadata_request(1) + "junk") == "ut_metadata: bytes after a request");
}
