// The torrent table as text, without curses: which columns fit a terminal
// width, the header, one line per row, and the detail pane's lines.  Every
// line returned is exactly `width` display columns (fit_width), so the
// curses view can draw it without wrapping and tests can check the layout
// for any width.  Columns are dropped in a fixed order as the terminal
// narrows (ratio, peers, ETA, size, up, down, progress); the name and the
// state always stay.  The name gets the spare width; only past 64 name
// cells does a MESSAGE column appear.  An error row's message replaces its
// rates (DOWN to the end of the line).  Cells show a Row's values as the status JSON
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
// file_cursor >= 0 marks that file's line (the pane's file cursor);
// *files_line (if given) receives the index of the first file's line.
std::vector<std::string> detail_lines(const TorrentStatus& t, int width, int file_cursor = -1,
                                      int* files_line = nullptr);
std::string progress_bar(double fraction, int bar_width);  // "#####-----  50.0%"
// A row's message: the error (with the re-check hint when one helps) or
// the tracker's last word; "" when there is nothing to say.
std::string row_message(const TorrentStatus& t);
// The STATE cell: state_name(), except that a stopped torrent says "paused"
// (only the user's `p` stops one that keeps its row).
std::string state_cell(const TorrentStatus& t);
// The `height` lines of `lines` to show from `scroll` on (clamped in
// place): when some are hidden, the first and/or last line says
// "N more above" / "N more below" instead.
std::vector<std::string> scroll_window(const std::vector<std::string>& lines, int height, int& scroll, int width);
// The `/` filter: the row's name or file contains `filter` (ASCII letters
// compared without case).
bool row_matches(const Row& r, const std::string& filter);
// "DHT 120 nodes (45 IPv6)": both routing tables, the IPv6 share (BEP 32)
// when it has any; "" when the DHT is off.
std::string dht_nodes_text(const SessionStatus& s);

}  // namespace btl::ui
