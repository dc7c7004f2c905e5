#include <doctest/doctest.h>

#include "btl/base/options.hpp"
#include "btl/engine/session_options.hpp"

using namespace btl;

namespace {
Status parse(std::vector<std::string> args, SessionOptions& so) {
    Options o(session_option_specs());
    std::vector<char*> argv;
    static char prog[] = "prog";
    argv.push_back(prog);
    for (auto& a : args) argv.push_back(a.data());
    if (auto st = o.parse(int(argv.size()), argv.data()); !st.ok()) return st;
    return read_session_options(o, so);
}
}  // namespace

TEST_CASE("reach options: the programs map ports and use LSD by default; a plain SessionOptions does not") {
    SessionOptions plain;
    CHECK_FALSE(plain.upnp);
    CHECK_FALSE(plain.natpmp);
    CHECK_FALSE(plain.lsd);
    SessionOptions so;
    REQUIRE(parse({}, so).ok());
    CHECK(so.upnp);
    CHECK(so.natpmp);
    CHECK(so.lsd);
    CHECK(so.portmap_lease_s == 3600);
    SessionOptions off;
    REQUIRE(parse({"--upnp", "0", "--natpmp=0", "--lsd", "0", "--portmap-lease", "60"}, off).ok());
    CHECK_FALSE(off.upnp);
    CHECK_FALSE(off.natpmp);
    CHECK_FALSE(off.lsd);
    CHECK(off.portmap_lease_s == 60);
}

TEST_CASE("reach options: a bad value is one error naming the option") {
    SessionOptions so;
    auto st = parse({"--upnp", "2"}, so);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("--upnp") != std::string::npos);
    st = parse({"--lsd", "yes"}, so);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("--lsd") != std::string::npos);
    st = parse({"--portmap_lease", "1"}, so);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("--portmap_lease") != std::string::npos);
}
