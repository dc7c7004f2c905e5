// Display-width arithmetic for UTF-8 text in a terminal.  A torrent name is
// cut by the columns it occupies, not by bytes or code points: CJK
// characters take two columns, combining marks none.  fit_width() never
// splits a wide character and never lets a control character through (it
// would move the cursor and leave garbage on the screen).
//
// Widths come from wcwidth(), so the process must run with a UTF-8 LC_CTYPE
// (setlocale(LC_ALL, "") under LANG=C.UTF-8).  Invalid UTF-8 counts as one
// U+FFFD per bad byte.
#pragma once
#include <string>
#include <string_view>

namespace btl::ui {

int display_width(std::string_view utf8);
// Exactly `width` columns: cut with "…" at the end if too long, padded with
// spaces if short (pad = false: no padding).
std::string fit_width(std::string_view utf8, int width, bool pad = true);

}  // namespace btl::ui
