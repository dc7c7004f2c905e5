#include "btl/ext/ut_metadata.hpp"

#include "btl/core/bencode.hpp"
#include "btl/ext/extension.hpp"

namespace btl {

uint32_t metadata_piece_count(int64_t size) {
    if (size <= 0 || size > kMaxMetadataSize) return 0;
    return uint32_t((size + kMetadataPiece - 1) / kMetadataPiece);
}

uint32_t metadata_piece_size(int64_t size, uint32_t i) {
    uint32_t n = metadata_piece_count(size);
    if (i >= n) return 0;
    if (i + 1 < n) return kMetadataPiece;
    return uint32_t(size - int64_t(i) * kMetadataPiece);
}

namespace {

Error bad(const std::string& what) { return make_error("ut_metadata: " + what); }

std::string encode_head(MetadataMsgType t, uint32_t piece, int64_t total) {
    std::string out;
    BEncoder e(out);
    e.begin_dict().string("msg_type").integer(int64_t(t)).string("piece").integer(piece);
    if (total >= 0) e.string("total_size").integer(total);
    e.end();
    return out;
}

Status check_data(const MetadataMsg& m) {
    if (m.total_size <= 0 || m.total_size > kMaxMetadataSize)
        return bad("total_size " + std::to_string(m.total_size) + " is out of range");
    uint32_t want = metadata_piece_size(m.total_size, m.piece);
    if (want == 0)
        return bad("piece " + std::to_string(m.piece) + " of a " + std::to_string(m.total_size) + "-byte dictionary");
    if (m.data.size() != want)
        return bad("piece " + std::to_string(m.piece) + " has " + std::to_string(m.data.size()) + " bytes, not " +
                   std::to_string(want));
    return Ok{};
}

}  // namespace

Result<MetadataMsg> parse_metadata_msg(std::string_view payload) {
    DecodeLimits lim;
    lim.max_size = payload.size();
    lim.max_depth = 2;
    lim.max_tokens = 64;
    size_t used = 0;
    auto doc = decode_prefix(payload, used, lim);
    if (!doc) return bad(doc.error().message);
    BNode root = doc->root();
    if (!root.is_dict()) return bad("not a dictionary");
    BNode type = root.find_int("msg_type"), piece = root.find_int("piece");
    if (!type) return bad("no msg_type");
    MetadataMsg m;
    if (type.int_value() < 0 || type.int_value() > 2) return m;  // unknown: ignored
    m.type = MetadataMsgType(type.int_value());
    if (!piece) return bad("no piece");
    if (piece.int_value() < 0 || piece.int_value() >= int64_t(metadata_piece_count(kMaxMetadataSize)))
        return bad("piece " + std::to_string(piece.int_value()) + " is out of range");
    m.piece = uint32_t(piece.int_value());
    if (m.type != MetadataMsgType::data) {
        if (used != payload.size()) return bad("bytes after a " + std::string(m.type == MetadataMsgType::request ? "request" : "reject"));
        return m;
    }
    BNode total = root.find_int("total_size");
    if (!total) return bad("data without total_size");
    m.total_size = total.int_value();
    m.data = payload.substr(used);
    if (Status s = check_data(m); !s) return s.error();
    return m;
}

std::string encode_metadata_request(uint32_t piece) { return encode_head(MetadataMsgType::request, piece, -1); }
std::string encode_metadata_reject(uint32_t piece) { return encode_head(MetadataMsgType::reject, piece, -1); }

std::string encode_metadata_data(uint32_t piece, int64_t total_size, std::string_view data) {
    std::string out = encode_head(MetadataMsgType::data, piece, total_size);
    out.append(data);
    return out;
}

}  // namespace btl
