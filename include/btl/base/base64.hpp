// Base64 (RFC 4648, standard alphabet): Transmission's RPC carries .torrent
// files in it and HTTP Basic authentication carries credentials in it.
//
// Contract: base64_decode() accepts the canonical padded form and, as
// Transmission's clients and browsers' btoa() differ, also unpadded input;
// whitespace (line breaks of MIME-style encoders) is skipped.  Any other
// byte, a stray '=' or leftover bits that are not zero make it fail.
// Output is bounded by the input (3/4 of it); the caller bounds the input.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace btl {

std::string base64_encode(std::string_view in);
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace btl
