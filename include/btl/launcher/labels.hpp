// Labels from folders: a subdirectory of the watched directory is a label
// (one level: WATCH/movies/x.torrent is "movies"; deeper directories are not
// watched).  A label's torrents save under SAVE/LABEL unless the config file
// gives the label its own places and seeding goal:
//
//     label.movies.save_in = /srv/movies
//     label.movies.move_completed_to = /srv/done/movies
//     label.movies.seed_ratio = 2.0
//
// Contract: take_label_lines() lifts the `label.NAME.KEY = VALUE` lines out
// of a config text (blanking them, so the rest keeps its line numbers for
// Options::parse_config) into a LabelTable; a bad line is one error naming
// origin:line and what is wrong (unknown key, bad name, empty directory,
// ratio out of range).  Pure; the rest are pure look-ups.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "btl/base/result.hpp"

namespace btl {

struct LabelConfig {
    std::string save_in;            // "" = SAVE/NAME
    std::string move_completed_to;  // "" = the global --move_completed_to
    // The seeding goal of the label's torrents (share ratio); unset = the
    // global one.  Read by label_seed_ratio() for the per-torrent ratio.
    std::optional<double> seed_ratio;
};
using LabelTable = std::map<std::string, LabelConfig>;

// A label name: 1-64 bytes, no '/', no control character, not "." or "..",
// not starting with '.'.
bool valid_label(std::string_view name);
// "movies/x.torrent" -> "movies"; "x.torrent" -> "".
std::string label_of_watch_name(const std::string& name);
// "movies/x.torrent" -> "x.torrent".
std::string watch_leaf_name(const std::string& name);

Result<std::string> take_label_lines(const std::string& text, const std::string& origin, LabelTable& labels);

// Where a label's torrents are saved: its save_in, else save_in/NAME;
// save_in itself for no label.
std::string label_save_in(const LabelTable& t, const std::string& label, const std::string& save_in);
// Its move_completed_to, else the global one.
std::string label_move_completed_to(const LabelTable& t, const std::string& label, const std::string& global);
std::optional<double> label_seed_ratio(const LabelTable& t, const std::string& label);

}  // namespace btl
