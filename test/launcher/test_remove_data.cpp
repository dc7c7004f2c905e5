#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "btl/core/ready_queue.hpp"
#include "btl/launcher/remove_data.hpp"

using namespace btl;

namespace {
void touch(const std::string& p) { std::ofstream(p) << "x"; }
bool exists(const std::string& p) {
    struct stat st {};
    return lstat(p.c_str(), &st) == 0;
}
}  // namespace

TEST_CASE("only a path strictly inside the save directory may be deleted") {
    CHECK(removable_data_path("/srv/dl", "/srv/dl/a"));
    CHECK(removable_data_path("/srv/dl", "/srv/dl/a/b"));
    CHECK(removable_data_path("/srv/dl/", "/srv/dl//a"));
    CHECK_FALSE(removable_data_path("/srv/dl", "/srv/dl"));
    CHECK_FALSE(removable_data_path("/srv/dl", "/srv/dl/"));
    CHECK_FALSE(removable_data_path("/srv/dl", "/srv/dlx/a"));
    CHECK_FALSE(removable_data_path("/srv/dl", "/srv/dl/../etc"));
    CHECK_FALSE(removable_data_path("/srv/dl", "/srv/dl/a/./b"));
    CHECK_FALSE(removable_data_path("/srv/dl", "srv/dl/a"));
    CHECK_FALSE(removable_data_path("", "/a"));
}

TEST_CASE("deleting a torrent's data removes its tree, never what its links point to") {
    char tmpl[] = "/tmp/btl-remove-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    const std::string base = tmpl, root = base + "/save", outside = base + "/outside";
    REQUIRE(mkdir(root.c_str(), 0755) == 0);
    REQUIRE(mkdir(outside.c_str(), 0755) == 0);
    touch(outside + "/precious");
    // style 3: save/STEM/NAME with files, a subdirectory and two links out.
    REQUIRE(mkdir((root + "/stem").c_str(), 0755) == 0);
    const std::string data = root + "/stem/name";
    REQUIRE(mkdir(data.c_str(), 0755) == 0);
    REQUIRE(mkdir((data + "/sub").c_str(), 0755) == 0);
    touch(data + "/a.bin");
    touch(data + "/sub/b.bin");
    REQUIRE(symlink(outside.c_str(), (data + "/sub/dirlink").c_str()) == 0);
    REQUIRE(symlink((outside + "/precious").c_str(), (data + "/filelink").c_str()) == 0);
    touch(root + "/other.bin");

    REQUIRE(remove_torrent_data(root, data).ok());
    CHECK_FALSE(exists(data));
    CHECK_FALSE(exists(root + "/stem"));  // left empty: removed too
    CHECK(exists(root));
    CHECK(exists(root + "/other.bin"));
    CHECK(exists(outside + "/precious"));

    // The data path itself a link: the link goes, its target stays.
    REQUIRE(symlink(outside.c_str(), (root + "/linked").c_str()) == 0);
    REQUIRE(remove_torrent_data(root, root + "/linked").ok());
    CHECK_FALSE(exists(root + "/linked"));
    CHECK(exists(outside + "/precious"));

    CHECK(remove_torrent_data(root, root + "/never-written").ok());
    CHECK_FALSE(remove_torrent_data(root, outside).ok());
    CHECK_FALSE(remove_torrent_data(root, root).ok());
    CHECK(exists(outside + "/precious"));
    (void)!std::system(("rm -rf '" + base + "'").c_str());
}

TEST_CASE("a removed .torrent renamed NAME.torrent.removed is not watched") {
    CHECK(wanted_watch_name("a.torrent"));
    CHECK_FALSE(wanted_watch_name("a.torrent.removed"));
}
