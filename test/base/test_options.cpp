#include <doctest/doctest.h>

#include "btl/base/options.hpp"

using namespace btl;

static Options make() {
    return Options({{"max_upload_rate", "KB/S", "0", "upload cap"},
                    {"seed_time", "S", "", "seed time"},
                    {"help", "", "", "show help"}});
}

TEST_CASE("options: underscore and dash spellings, = and separate values") {
    Options o = make();
    const char* argv[] = {"prog", "--max-upload-rate", "50", "file.torrent", "--seed_time=0", "--help"};
    REQUIRE(o.parse(6, const_cast<char**>(argv)).ok());
    CHECK(o.get("max_upload_rate") == "50");
    CHECK(*o.get_int("max_upload_rate", 0, 100) == 50);
    CHECK(o.get("seed_time") == "0");
    CHECK(o.flag("help"));
    REQUIRE(o.positional().size() == 1);
    CHECK(o.positional()[0] == "file.torrent");
}

TEST_CASE("options: errors name the option") {
    Options o = make();
    const char* bad[] = {"prog", "--nope"};
    CHECK(o.parse(2, const_cast<char**>(bad)).error().message == "unknown option --nope (see --help)");
    Options o2 = make();
    const char* missing[] = {"prog", "--seed_time"};
    CHECK(o2.parse(2, const_cast<char**>(missing)).error().message.find("needs a value") != std::string::npos);
    Options o3 = make();
    const char* range[] = {"prog", "--max_upload_rate", "x5"};
    REQUIRE(o3.parse(3, const_cast<char**>(range)).ok());
    CHECK(o3.get_int("max_upload_rate", 0, 10).error().message == "--max_upload_rate must be a whole number, not 'x5'");
    CHECK(make().get("max_upload_rate") == "0");
}

TEST_CASE("options: config file lines, command line wins") {
    Options o = make();
    const char* argv[] = {"prog", "--seed_time", "5"};
    REQUIRE(o.parse(3, const_cast<char**>(argv)).ok());
    REQUIRE(o.parse_config("# comment\nmax-upload-rate = 20\nseed_time = 9\n", "cfg").ok());
    CHECK(o.get("max_upload_rate") == "20");
    CHECK(o.get("seed_time") == "5");
    CHECK(!o.parse_config("bogus = 1\n", "cfg").ok());
    CHECK(o.parse_config("novalue\n", "cfg").error().message == "cfg:1: expected key = value");
}
