// BEP 10 extended handshake and BEP 9 ut_metadata messages: any input either
// fails with a message or parses to values inside their bounds, and what we
// encode from a parsed value parses back to the same value.
#include <string>
#include <string_view>

#include "btl/ext/extension.hpp"
#include "btl/ext/ut_metadata.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

void handshake(std::string_view in) {
    auto h = parse_ext_handshake(in);
    if (!h) {
        BTL_FUZZ_CHECK(!h.error().message.empty());
        return;
    }
    for (int id : h->ids) BTL_FUZZ_CHECK(id >= -1 && id <= 255);
    BTL_FUZZ_CHECK(h->listen_port >= -1 && h->listen_port <= 65535);
    BTL_FUZZ_CHECK(h->client.size() <= 100);
    BTL_FUZZ_CHECK(h->yourip.empty() || h->yourip.size() == 4 || h->yourip.size() == 16);
    auto again = parse_ext_handshake(encode_ext_handshake(*h));
    BTL_FUZZ_CHECK(again.ok());
    for (size_t i = 1; i < kExtMsgCount; ++i) BTL_FUZZ_CHECK(again->remote_id(ExtMsg(i)) == h->remote_id(ExtMsg(i)));
    BTL_FUZZ_CHECK(again->metadata_size == h->metadata_size && again->upload_only == h->upload_only);
}

void metadata(std::string_view in) {
    auto m = parse_metadata_msg(in);
    if (!m) {
        BTL_FUZZ_CHECK(!m.error().message.empty());
        return;
    }
    if (m->type != MetadataMsgType::data) return;
    BTL_FUZZ_CHECK(m->data.size() == metadata_piece_size(m->total_size, m->piece));
    BTL_FUZZ_CHECK(m->data.size() > 0 && m->data.size() <= kMetadataPiece);
    auto again = parse_metadata_msg(encode_metadata_data(m->piece, m->total_size, m->data));
    BTL_FUZZ_CHECK(again.ok() && again->data == m->data && again->piece == m->piece);
}

}  // namespace

// The first byte picks the parser, so one corpus covers both.
BTL_FUZZ_DECLARE(fuzz_extension) {
    if (size == 0) return 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] & 1)
        metadata(in);
    else
        handshake(in);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_extension)
