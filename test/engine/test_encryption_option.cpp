// --encryption (session_options.cpp): the three modes, prefer by default, one
// clear error for anything else.
#include <doctest/doctest.h>

#include "btl/engine/session_options.hpp"

using namespace btl;

namespace {
Status read(std::vector<const char*> args, SessionOptions& so) {
    Options o(session_option_specs());
    args.insert(args.begin(), "prog");
    REQUIRE(o.parse(int(args.size()), const_cast<char**>(args.data())).ok());
    return read_session_options(o, so);
}
}  // namespace

TEST_CASE("session options: --encryption allow|prefer|require, prefer by default") {
    SessionOptions so;
    so.encryption = Encryption::require;
    REQUIRE(read({}, so).ok());
    CHECK(so.encryption == Encryption::prefer);
    REQUIRE(read({"--encryption", "allow"}, so).ok());
    CHECK(so.encryption == Encryption::allow);
    REQUIRE(read({"--encryption", "require"}, so).ok());
    CHECK(so.encryption == Encryption::require);
    auto st = read({"--encryption", "forced"}, so);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message == "--encryption must be allow, prefer or require, not 'forced'");
}
