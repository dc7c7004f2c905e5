#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "btl/launcher/config_reload.hpp"

using namespace btl;
namespace fs = std::filesystem;

namespace {

const std::vector<OptionSpec> kSpecs = {
    {"max_upload_rate", "KB/S", "0", ""}, {"max_download_rate", "KB/S", "0", ""}, {"max_uploads", "N", "4", ""},
    {"minport", "PORT", "6881", ""},      {"super_seeder", "", "", ""},           {"config", "FILE", "", ""},
};

Options parsed(std::vector<const char*> args, const std::string& config = "") {
    Options o(kSpecs);
    args.insert(args.begin(), "prog");
    REQUIRE(o.parse(int(args.size()), const_cast<char**>(args.data())).ok());
    if (!config.empty()) REQUIRE(o.parse_config(config, "cfg").ok());
    return o;
}

}  // namespace

TEST_CASE("config_reload: diff of equal option sets applies the limits and reports nothing") {
    Options a = parsed({"dir", "--max_upload_rate", "50"}), b = parsed({"dir", "--max-upload-rate=50"});
    auto d = diff_options(a, b);
    REQUIRE(d.ok());
    CHECK(d->apply == LiveSettings{50'000, 0, 4});
    CHECK(d->live.empty());
    CHECK(d->restart.empty());
}

TEST_CASE("config_reload: live options go to the session, the others need a restart") {
    Options running = parsed({"dir"}, "max_download_rate = 150\n");
    Options reloaded = parsed({"dir"}, "max_download_rate = 2000\nmax_uploads = 8\nminport = 7000\nsuper_seeder = 1\n");
    auto d = diff_options(running, reloaded);
    REQUIRE(d.ok());
    CHECK(d->apply == LiveSettings{0, 2'000'000, 8});
    CHECK(d->live == std::vector<OptionChange>{{"max_download_rate", "2000"}, {"max_uploads", "8"}});
    CHECK(d->restart == std::vector<OptionChange>{{"minport", "7000"}, {"super_seeder", "1"}});
}

TEST_CASE("config_reload: a flag compares by meaning; a bad live value refuses the whole reload") {
    auto d = diff_options(parsed({"dir"}), parsed({"dir"}, "super_seeder = 0\n"));
    REQUIRE(d.ok());
    CHECK(d->restart.empty());
    auto bad = diff_options(parsed({"dir"}), parsed({"dir"}, "max_download_rate = banana\n"));
    REQUIRE(!bad.ok());
    CHECK(bad.error().message == "--max_download_rate must be a whole number, not 'banana'");
}

TEST_CASE("config_reload: load_options reads the command line, then the file; errors say usage or runtime") {
    char tmpl[] = "/tmp/btl-config-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    fs::path dir = tmpl;
    std::string cfg = (dir / "config").string();
    std::ofstream(cfg) << "# comment\nmax_upload_rate = 20\nmax_uploads = 9\n";
    auto r = load_options(kSpecs, {"watch", "--config", cfg, "--max_uploads", "3"});
    REQUIRE(r.ok());
    CHECK(r.loaded->config_used == cfg);
    CHECK(r.loaded->options.get("max_upload_rate") == "20");
    CHECK(r.loaded->options.get("max_uploads") == "3");  // the command line wins

    auto missing = load_options(kSpecs, {"watch", "--config", (dir / "nope").string()});
    REQUIRE(!missing.ok());
    CHECK(!missing.failure.usage);
    auto unknown = load_options(kSpecs, {"watch", "--bogus"});
    REQUIRE(!unknown.ok());
    CHECK(unknown.failure.usage);
    std::ofstream(cfg) << "bogus = 1\n";
    auto bad_key = load_options(kSpecs, {"watch", "--config", cfg});
    REQUIRE(!bad_key.ok());
    CHECK(bad_key.failure.usage);
    fs::remove_all(dir);
}

TEST_CASE("config_reload: no --config and no default file is no error") {
    char tmpl[] = "/tmp/btl-config-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const char* old = std::getenv("XDG_CONFIG_HOME");
    std::string saved = old ? old : "";
    ::setenv("XDG_CONFIG_HOME", tmpl, 1);
    CHECK(default_config_path() == std::string(tmpl) + "/btlaunchmany/config");
    auto r = load_options(kSpecs, {"watch"});
    if (old) ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
    else ::unsetenv("XDG_CONFIG_HOME");
    REQUIRE(r.ok());
    CHECK(r.loaded->config_used.empty());
    fs::remove_all(tmpl);
}

TEST_CASE("config reload: dht and dht_bootstrap apply live, not after a restart") {
    const std::vector<OptionSpec> specs = {{"max_upload_rate", "KB/S", "0", ""}, {"max_download_rate", "KB/S", "0", ""},
                                           {"max_uploads", "N", "4", ""},        {"dht", "0|1", "1", ""},
                                           {"dht_bootstrap", "HOST:PORT,...", "", ""}};
    auto make = [&](const std::string& config) {
        Options o(specs);
        const char* argv[] = {"prog"};
        REQUIRE(o.parse(1, const_cast<char**>(argv)).ok());
        REQUIRE(o.parse_config(config, "cfg").ok());
        return o;
    };
    Options running = make("dht = 0\n");
    Options reloaded = make("dht = 1\ndht_bootstrap = 127.0.0.1:6881\n");
    auto d = diff_options(running, reloaded);
    REQUIRE(d.ok());
    CHECK(d->restart.empty());
    CHECK(d->live == std::vector<OptionChange>{{"dht", "1"}, {"dht_bootstrap", "127.0.0.1:6881"}});
}
