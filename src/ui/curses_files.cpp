// The curses view's per-file keys: in the focused detail pane Up/Down move a
// cursor over the files (the pane scrolls to keep it in sight), space marks
// the file wanted or skipped, +/- raise or lower its priority; S in the
// table turns sequential download on or off.  The model carries the change
// out (this process's engine, or torrent-set over RPC).
#include <algorithm>

#include "btl/core/piece_priority.hpp"
#include "btl/ui/curses_view.hpp"
// After our headers: curses.h defines macros (is_pad) that clash with them.
#include <curses.h>

namespace btl::ui {

bool CursesView::handle_file_key(int ch) {
    const int n = int(detail_files_.size());
    if (n == 0 || files_line_ < 0) return false;
    const auto& rows = visible_rows();
    if (selected_index_ >= int(rows.size())) return false;
    const Row& r = *rows[size_t(selected_index_)];
    const int cur = std::clamp(file_cursor_, 0, n - 1);
    const FileStatus& f = detail_files_[size_t(cur)];
    rpc::FileChange c;
    c.files = {uint32_t(cur)};
    switch (ch) {
        case KEY_UP: case 'k': case KEY_DOWN: case 'j': {
            file_cursor_ = std::clamp(cur + (ch == KEY_UP || ch == 'k' ? -1 : 1), 0, n - 1);
            // Keep the cursor's line inside the pane (one line of markers spare).
            const int line = files_line_ + file_cursor_;
            if (line < detail_scroll_ + 1) detail_scroll_ = std::max(0, line - 1);
            if (line > detail_scroll_ + detail_height_ - 2) detail_scroll_ = line - detail_height_ + 2;
            return true;
        }
        case ' ':
            c.kind = f.wanted ? rpc::FileChange::Kind::unwanted : rpc::FileChange::Kind::wanted;
            hint_ = (f.wanted ? "skipping " : "wanting ") + f.path;
            break;
        case '+': case '=': case '-': case '_': {
            const bool up = ch == '+' || ch == '=';
            FilePriority now = f.priority > 0 ? FilePriority::high : f.priority < 0 ? FilePriority::low : FilePriority::normal;
            c.kind = rpc::FileChange::Kind::priority;
            c.priority = up ? raise(now) : lower(now);
            hint_ = f.path + ": priority " + priority_name(c.priority);
            break;
        }
        default: return false;
    }
    l_.change_files(r, c);
    request_draw(true);
    return true;
}

void CursesView::toggle_sequential(const Row& r) {
    rpc::FileChange c;
    c.kind = rpc::FileChange::Kind::sequential;
    c.on = !r.st.sequential;
    l_.change_files(r, c);
    hint_ = std::string("sequential download ") + (c.on ? "on" : "off") + " for " + r.st.name;
    request_draw(true);
}

}  // namespace btl::ui
