// The torrent table as text, without curses: which columns fit a terminal
// width, the header, one line per row, and the detail pane's lines.  Every
// line returned is exactly `width` display columns (fit_width), so the
// curses view can draw it without wrapping and tests can check the layout
// for any width.  Columns are dropped in a fixed order as the terminal
// narrows (ratio, peers, ETA, size, up, down, then the message); the name
// and the state always stay.  Cells show a Row's values as the status JSON
// writes them (engine/status_json.hpp): states by state_name(), bytes that
// are not UTF-8 as %XX.
#pragma once
#include <string>
#include <vector>

#include "btl/launcher/launcher.hpp"

namespace btl::ui {

enum class Col { name, size, progress, state, down, up, peers, ratio, eta, message };

struct Column {
    Col id;
    int width;
};

std::vector<Column> layout_columns(int width);
std::string header_line(const std::vector<Column>& cols, int width);
std::string row_line(const Row& r, const std::vector<Column>& cols, int width);
// Files, trackers and peers of one torrent (TorrentStatus with detail).
std::vector<std::string> detail_lines(const TorrentStatus& t, int width);
std::string progress_bar(double fraction, int bar_width);  // "#####-----  50.0%"

}  // namespace btl::ui
