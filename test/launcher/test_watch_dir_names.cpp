// Which names in a watched directory the launcher looks at (issue 12: a
// .magnet file gets an error row, not silence).
#include <doctest/doctest.h>

#include "btl/launcher/watch_dir.hpp"

using namespace btl;

TEST_CASE("watch dir: .torrent and .magnet files are watched, dotfiles and partial names are not") {
    CHECK(watched_name("ubuntu.iso.torrent"));
    CHECK(watched_name("ubuntu.iso.magnet"));
    CHECK(watched_name("日本語.magnet"));
    CHECK_FALSE(watched_name(".magnet"));
    CHECK_FALSE(watched_name(".hidden.magnet"));
    CHECK_FALSE(watched_name("x.magnet.part"));
    CHECK_FALSE(watched_name("x.magnet.tmp"));
    CHECK_FALSE(watched_name("x.magnet~"));
    CHECK_FALSE(watched_name("notes.txt"));
    CHECK_FALSE(watched_name("magnet"));
}
