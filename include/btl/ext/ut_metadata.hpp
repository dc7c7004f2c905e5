// BEP 9 `ut_metadata` messages: the info dictionary in 16 KiB pieces.
//
//   request: d8:msg_typei0e5:piecei<n>ee
//   data:    d8:msg_typei1e5:piecei<n>e10:total_sizei<size>ee<the piece's bytes>
//   reject:  d8:msg_typei2e5:piecei<n>ee
//
// Every piece is 16 KiB but the last.  The codec is strict and bounded; it
// does not know what was asked for (the fetcher checks that), but it checks
// what one message can check on its own: a data piece is never longer than
// 16 KiB and, given total_size, has exactly the size its index implies.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "btl/base/result.hpp"

namespace btl {

inline constexpr uint32_t kMetadataPiece = 16 * 1024;

enum class MetadataMsgType : uint8_t { request = 0, data = 1, reject = 2, unknown = 255 };

struct MetadataMsg {
    MetadataMsgType type = MetadataMsgType::unknown;  // unknown types are to be ignored (BEP 9)
    uint32_t piece = 0;
    int64_t total_size = -1;  // data only
    std::string_view data;    // data only: points into the parsed payload
};

// Pieces of an info dictionary of `size` bytes (0 for a size that is not
// in (0, kMaxMetadataSize]).
uint32_t metadata_piece_count(int64_t size);
// Bytes of piece `i` of a dictionary of `size` bytes (0 if out of range).
uint32_t metadata_piece_size(int64_t size, uint32_t i);

// Parses the payload after the extended sub-id.  Errors name what is wrong:
// "ut_metadata: piece 9 of a 20000-byte dictionary".
Result<MetadataMsg> parse_metadata_msg(std::string_view payload);

std::string encode_metadata_request(uint32_t piece);
std::string encode_metadata_reject(uint32_t piece);
// The dictionary followed by `data` (the caller takes it from the info bytes).
std::string encode_metadata_data(uint32_t piece, int64_t total_size, std::string_view data);

}  // namespace btl
