#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "btl/base/atomic_file.hpp"

using namespace btl;
namespace fs = std::filesystem;

TEST_CASE("remove_atomic_temps: deletes what a killed write left, nothing else") {
    char tmpl[] = "/tmp/btl-atomic-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    fs::path dir = tmpl;
    std::string path = (dir / "status.json").string();
    auto touch = [](const fs::path& p) { std::ofstream(p) << "x"; };
    touch(path);
    touch(path + ".tmp.Ab12Cd");        // a SIGKILL between write and rename
    touch(path + ".tmp.Zz99Yy");
    touch(path + ".tmp.old");           // not write_file_atomic's shape
    touch(dir / "other.json.tmp.Ab12Cd");  // another file's temporary
    CHECK(remove_atomic_temps(path) == 2);
    CHECK(fs::exists(path));
    CHECK(!fs::exists(path + ".tmp.Ab12Cd"));
    CHECK(fs::exists(path + ".tmp.old"));
    CHECK(fs::exists(dir / "other.json.tmp.Ab12Cd"));
    REQUIRE(write_file_atomic(path, "{}", false).ok());
    CHECK(remove_atomic_temps(path) == 0);
    CHECK(remove_atomic_temps((dir / "nowhere" / "x").string()) == 0);
    fs::remove_all(dir);
}
