// CursesView: the queue keys ([ ] { }) and the prompt for a torrent's own
// rate limits (L).
#include <cstdio>

#include "btl/ui/curses_view.hpp"

namespace btl::ui {

bool CursesView::handle_queue_key(int ch, const Row* sel) {
    QueueMove m;
    switch (ch) {
        case '[': m = QueueMove::up; break;
        case ']': m = QueueMove::down; break;
        case '{': m = QueueMove::top; break;
        case '}': m = QueueMove::bottom; break;
        case 'L':
            if (!sel || !sel->loaded) return true;
            prompt_ = Prompt::torrent_rates;
            remove_row_ = *sel;  // the row the prompt is about
            input_.clear();
            return true;
        default: return false;
    }
    if (sel && sel->loaded && !l_.queue_move(*sel, m)) hint_ = sel->st.name + " cannot be moved in the queue";
    return true;
}

std::string CursesView::torrent_rates_prompt() const {
    const TorrentLimits& l = remove_row_.st.limits;
    auto kb = [](bool on, int64_t v) { return std::to_string(on ? v / 1000 : 0); };
    return "limits of " + remove_row_.st.name + " in kB/s, DOWN [UP], 0 = none (now " + kb(l.down_limited, l.down_limit) +
           " " + kb(l.up_limited, l.up_limit) + "): " + input_ + "_";
}

void CursesView::apply_torrent_rates_input() {
    prompt_ = Prompt::none;
    const TorrentLimits& now = remove_row_.st.limits;
    RateLimits r{now.up_limited ? now.up_limit : 0, now.down_limited ? now.down_limit : 0};
    if (!parse_rates_input(r.down, r.up)) {
        hint_ = "limits not changed: type DOWN [UP] in kB/s, 0 = none (e.g. 500 100)";
        return;
    }
    if (!l_.set_torrent_rates(remove_row_, r)) hint_ = remove_row_.st.name + ": limits not changed (not running)";
}

}  // namespace btl::ui
