// Where btlaunchmany puts a torrent's data: --save_in, --saveas_style,
// --incomplete_dir, --move_completed_to and labels from folders
// (labels.hpp), read from the options and applied to each torrent.
//
// place_torrent() is pure: the save path choose_save_path() gives (under
// the label's directory for WATCH/LABEL/x.torrent), then
// - --move_completed_to DIR (or the label's): the data moves to DIR/<last
//   element> when complete (final_path);
// - --incomplete_dir DIR: the download lives in DIR/<last element> and
//   moves to the save path (or the move_completed_to place) when complete.
#pragma once
#include <string>
#include <vector>

#include "btl/base/options.hpp"
#include "btl/base/result.hpp"
#include "btl/launcher/labels.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl {

// --incomplete_dir and --move_completed_to must be absolute or are made
// so; they must not lie inside the watched directory.
Status read_places(const Options& o, const LabelTable& labels, LauncherOptions& lo);
// The directories data may go to (RPC download-dir and location checks).
std::vector<std::string> place_roots(const LauncherOptions& lo);

struct Placement {
    std::string save_path;   // where the data lives now
    std::string final_path;  // where it moves when complete ("" = stays)
    std::string label;
};
Placement place_torrent(const LauncherOptions& opt, const std::string& save_in_override, const std::string& name,
                        const std::string& torrent_name, const TakenPaths& taken);

}  // namespace btl
