#include <doctest/doctest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "btl/base/options.hpp"
#include "btl/base/version.hpp"

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

TEST_CASE("options: a flag takes an optional 0/1, and the command line's 0 beats the config") {
    Options o({{"private", "", "", "private flag"}, {"json", "", "", "json"}});
    const char* argv[] = {"prog", "--private=0", "--json=yes"};
    REQUIRE(o.parse(3, const_cast<char**>(argv)).ok());
    CHECK(!o.flag("private"));
    CHECK(o.flag("json"));
    REQUIRE(o.parse_config("private = 1\n", "cfg").ok());
    CHECK(!o.flag("private"));
    Options bad({{"private", "", "", "private flag"}});
    const char* argv2[] = {"prog", "--private=maybe"};
    CHECK(bad.parse(2, const_cast<char**>(argv2)).error().message == "option --private takes 0 or 1, not 'maybe'");
    Options cfg({{"private", "", "", "private flag"}});
    REQUIRE(cfg.parse_config("private = no\n", "cfg").ok());
    CHECK(!cfg.flag("private"));
    CHECK(!cfg.parse_config("private = perhaps\n", "cfg2").ok());
}

TEST_CASE("options: single-dash words are unknown options, '-' and words after '--' are arguments") {
    Options o = make();
    const char* argv[] = {"prog", "-", "-h", "--", "-x"};
    REQUIRE(o.parse(5, const_cast<char**>(argv)).ok());
    CHECK(o.flag("help"));
    REQUIRE(o.positional().size() == 2);
    CHECK(o.positional()[0] == "-");
    CHECK(o.positional()[1] == "-x");
    Options o2 = make();
    const char* bad[] = {"prog", "-port", "5"};
    CHECK(o2.parse(3, const_cast<char**>(bad)).error().message == "unknown option -port (see --help)");
}

TEST_CASE("options: get_choice names the option and the allowed values") {
    Options o({{"scrape_allowed", "MODE", "full", "scrape"}});
    CHECK(*o.get_choice("scrape_allowed", {"full", "specific", "none"}) == "full");
    const char* argv[] = {"prog", "--scrape-allowed", "some"};
    REQUIRE(o.parse(3, const_cast<char**>(argv)).ok());
    CHECK(o.get_choice("scrape_allowed", {"full", "specific", "none"}).error().message ==
          "--scrape_allowed must be full, specific or none, not 'some'");
}

namespace {
// What parse_command_line printed and returned.
struct Parsed {
    std::optional<int> code;
    std::string out, err;
};

std::string slurp(std::FILE* f) {
    std::rewind(f);
    std::string s;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
}

Parsed run_cli(std::vector<const char*> args) {
    Options o = make();
    ProgramInfo p{"prog", "prog FILE [options]", "Does things.", 1, 1, "exactly one FILE"};
    args.insert(args.begin(), "prog");
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    Parsed r;
    r.code = parse_command_line(o, p, int(args.size()), const_cast<char**>(args.data()), out, err);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}
}  // namespace

TEST_CASE("parse_command_line: --help is 0 on stdout, usage errors are 2 with one line naming the problem") {
    Parsed help = run_cli({"--help", "--nope"});
    CHECK(help.code == std::optional<int>(2));  // a bad option wins over --help: the user must see it
    help = run_cli({"--help"});
    CHECK(help.code == std::optional<int>(kExitOk));
    CHECK(help.out.find("usage: prog FILE [options]") == 0);
    CHECK(help.out.find("--max_upload_rate KB/S") != std::string::npos);
    CHECK(help.err.empty());

    Parsed unknown = run_cli({"--bogus", "x"});
    CHECK(unknown.code == std::optional<int>(kExitUsage));
    CHECK(unknown.err == "prog: unknown option --bogus (see --help)\n");

    Parsed none = run_cli({});
    CHECK(none.code == std::optional<int>(kExitUsage));
    CHECK(none.err == "prog: expected exactly one FILE (see --help)\n");

    Parsed extra = run_cli({"a", "b"});
    CHECK(extra.code == std::optional<int>(kExitUsage));
    CHECK(extra.err == "prog: unexpected argument 'b' (expected exactly one FILE) (see --help)\n");

    Parsed ok = run_cli({"a", "--seed-time=3"});
    CHECK(!ok.code);
    CHECK(ok.out.empty());
    CHECK(ok.err.empty());
}

TEST_CASE("parse_command_line: --version prints PROG VERSION on stdout and exits 0, for every program") {
    Parsed v = run_cli({"--version"});
    CHECK(v.code == std::optional<int>(kExitOk));
    CHECK(v.out == std::string("prog ") + kVersion + "\n");
    CHECK(v.err.empty());
    CHECK(run_cli({"--help"}).out.find("--version") != std::string::npos);
    CHECK(run_cli({"--version=1", "x"}).code == std::optional<int>(kExitUsage));  // not a value option
}

TEST_CASE("usage_line adds the --help hint once; runtime_error returns 1") {
    CHECK(usage_line("p", "bad") == "p: bad (see --help)");
    CHECK(usage_line("p", "unknown option --x (see --help)") == "p: unknown option --x (see --help)");
    std::FILE* err = std::tmpfile();
    CHECK(runtime_error("p", "x: No such file", err) == kExitRuntime);
    CHECK(slurp(err) == "p: x: No such file\n");
}
