#include "btl/ui/curses_view.hpp"

#include <curses.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "btl/base/format.hpp"
#include "btl/base/utf8.hpp"
#include "btl/ui/table.hpp"
#include "btl/ui/text_width.hpp"

namespace btl::ui {

namespace {

constexpr int64_t kKeyFrameMs = 40;    // after a key: draw almost at once
constexpr int64_t kBusyFrameMs = 250;  // after log lines: at most 4 frames/s
// The selected row's full name and message, the totals, the last log line.
constexpr int kFooterLines = 3;

enum Pair { kError = 1, kSeed = 2, kHeader = 3 };

// Names and messages show as the status JSON writes them: bytes that are
// not UTF-8 as %XX (table.cpp's cells do the same).
void put(int y, int width, const std::string& text, attr_t attr = A_NORMAL) {
    if (attr) attron(attr);
    mvaddstr(y, 0, fit_width(escape_invalid_utf8(text), width).c_str());
    if (attr) attroff(attr);
}

std::string clock_string(std::time_t t) {
    char buf[16];
    std::tm tm{};
    localtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

const char* const kHelp[] = {
    "btlaunchmany keys",
    "",
    "  Up/k, Down/j        move the selection (in the detail pane when it has the focus: scroll)",
    "  PgUp, PgDn          move a page",
    "  Home/g, End/G       first, last torrent",
    "  Enter               show/hide the detail pane (files, peers, trackers)",
    "  Tab                 move the focus between the table and the detail pane",
    "  (detail pane focused) Up/Down choose a file, space: wanted or skipped, +/-: priority",
    "  S                   sequential download on/off for the selected torrent",
    "                      (pieces in order, for media watched while it downloads)",
    "  p                   pause or resume the selected torrent",
    "  r                   re-check the selected torrent's data",
    "  d, Delete           remove the selected torrent (asks: y keeps its data, D deletes it);",
    "                      its .torrent is renamed NAME.torrent.removed so it does not come back",
    "                      (attached to an engine: d detaches, leaving it running; Delete removes)",
    "  /                   filter the rows by name (Enter keeps the filter, Esc clears it)",
    "  +, -                raise, lower the global download limit one step",
    "  R                   type both global limits: DOWN [UP] in kB/s, 0 = unlimited",
    "  L                   type the selected torrent's own limits: DOWN [UP] in kB/s, 0 = none",
    "  [, ]                move the selected torrent up, down in the queue ({, }: top, bottom)",
    "  s                   cycle the sort: name, progress, rate, ratio, added, label",
    "  f                   cycle the label filter: all, each label, unlabelled",
    "  l                   show the log (Up/Down scroll, l or q back)",
    "  ?                   this help",
    "  q                   quit (asks y/n); torrents send `stopped`, resume is saved",
    "                      (attached: y stops the engine, d detaches)",
    "",
    "Removing a .torrent from the watched directory stops it; its data stays.",
    "",
    "Press any key to go back.",
};

// "port 6881", or what the gateway made of it ("port 6881 open via UPnP at
// 203.0.113.7", "port 6881 not mapped: <reason>").
std::string footer_port(const SessionStatus& s) {
    return s.port_mapping.empty() ? "port " + std::to_string(s.listen_port) : s.port_mapping;
}

}  // namespace

CursesView::CursesView(uv_loop_t* loop, ViewModel& m, LogBook& log, double display_interval_s,
                       std::function<void()> on_quit, std::function<void()> on_detach)
    : loop_(loop), l_(m), log_(log), interval_s_(display_interval_s), on_quit_(std::move(on_quit)),
      on_detach_(std::move(on_detach)),
      self_(std::make_shared<CursesView*>(this)) {}

CursesView::~CursesView() {
    *self_ = nullptr;
    stop();
}

Status CursesView::start() {
    if (!initscr()) return make_error("cannot initialise the terminal (TERM=" + std::string(getenv("TERM") ? getenv("TERM") : "") + ")");
    active_ = true;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
        init_pair(kError, COLOR_RED, -1);
        init_pair(kSeed, COLOR_GREEN, -1);
        init_pair(kHeader, COLOR_BLACK, COLOR_CYAN);
    }
    auto timer = [&](UvHandle<uv_timer_t>& t) {
        t = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop_, h); });
        t->data = this;
    };
    timer(draw_timer_);
    timer(tick_timer_);
    timer(disk_timer_);
    auto tick_ms = uint64_t(std::max(0.1, interval_s_) * 1000);
    uv_timer_start(tick_timer_.get(), [](uv_timer_t* h) {
        if (auto* v = static_cast<CursesView*>(h->data)) v->draw();
    }, tick_ms, tick_ms);
    uv_timer_start(disk_timer_.get(), [](uv_timer_t* h) {
        if (auto* v = static_cast<CursesView*>(h->data)) v->update_disk_free();
    }, 0, 10'000);

    stdin_ = UvHandle<uv_poll_t>::create([&](uv_poll_t* h) { return uv_poll_init(loop_, h, 0); });
    if (stdin_) {
        stdin_->data = this;
        uv_poll_start(stdin_.get(), UV_READABLE, [](uv_poll_t* h, int status, int) {
            auto* v = static_cast<CursesView*>(h->data);
            if (!v) return;
            if (status < 0) {
                uv_poll_stop(h);
                return;
            }
            v->on_input();
        });
    }
    winch_ = UvHandle<uv_signal_t>::create([&](uv_signal_t* h) { return uv_signal_init(loop_, h); });
    winch_->data = this;
    uv_signal_start(winch_.get(), [](uv_signal_t* h, int) {
        if (auto* v = static_cast<CursesView*>(h->data)) v->resize();
    }, SIGWINCH);
    draw();
    return Ok{};
}

void CursesView::stop() {
    stdin_.reset();
    winch_.reset();
    draw_timer_.reset();
    tick_timer_.reset();
    disk_timer_.reset();
    if (active_) {
        endwin();
        active_ = false;
    }
}

void CursesView::shutting_down() {
    closing_ = true;
    prompt_ = Prompt::none;
    if (active_) draw();
}

void CursesView::on_log(const LogLine& line) {
    if (line.level == LogLevel::debug) return;
    request_draw(false);
}

void CursesView::resize() {
    if (!active_) return;
    // libuv owns SIGWINCH, so ncurses' own handler never runs: ask the
    // terminal for its size and tell curses.
    struct winsize ws {};
    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) resizeterm(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE);  // the terminal's contents are unknown after a resize
    draw();
}

void CursesView::update_disk_free() {
    if (l_.disk_path().empty()) {
        disk_free_ = l_.disk_free();
        return;
    }
    if (statfs_running_) return;
    struct Req {
        uv_fs_t fs;
        std::shared_ptr<CursesView*> owner;
    };
    auto* r = new Req{{}, self_};
    r->fs.data = r;
    statfs_running_ = true;
    int err = uv_fs_statfs(loop_, &r->fs, l_.disk_path().c_str(), [](uv_fs_t* req) {
        auto* rq = static_cast<Req*>(req->data);
        if (CursesView* v = *rq->owner) {
            v->statfs_running_ = false;
            if (req->result == 0 && req->ptr) {
                auto* s = static_cast<uv_statfs_t*>(req->ptr);
                v->disk_free_ = int64_t(s->f_bavail * s->f_bsize);
            } else {
                v->disk_free_ = -1;
            }
        }
        uv_fs_req_cleanup(req);
        delete rq;
    });
    if (err < 0) {
        statfs_running_ = false;
        delete r;
    }
}

void CursesView::on_input() {
    int ch, got = 0;
    while (active_ && (ch = getch()) != ERR) {
        ++got;
        handle_key(ch);
    }
    // Readable but nothing to read: the terminal went away.  Stop polling
    // rather than spin; the torrents keep running.
    if (!got && ++empty_reads_ > 100 && stdin_) uv_poll_stop(stdin_.get());
    if (got) empty_reads_ = 0;
    if (active_) request_draw(true);
}

void CursesView::move_selection(int delta, int count) {
    if (count <= 0) return;
    selected_index_ = std::clamp(selected_index_ + delta, 0, count - 1);
    selected_.clear();  // draw() re-reads the file name at the new index
}

void CursesView::handle_key(int ch) {
    // resizeterm() (from our SIGWINCH handler) queues KEY_RESIZE: the
    // screen is already resized; calling resize() again here would queue
    // another one and repaint forever.
    if (ch == KEY_RESIZE) return;
    if (closing_) return;
    hint_.clear();  // a hint lasts until the next key
    if (prompt_ != Prompt::none) return handle_prompt_key(ch);
    if (mode_ == Mode::help) {
        mode_ = Mode::table;
        return;
    }
    if (mode_ == Mode::log) {
        switch (ch) {
            case KEY_UP: case 'k': ++log_scroll_; break;
            case KEY_DOWN: case 'j': log_scroll_ = std::max(0, log_scroll_ - 1); break;
            case KEY_PPAGE: log_scroll_ += list_height_; break;
            case KEY_NPAGE: log_scroll_ = std::max(0, log_scroll_ - list_height_); break;
            case KEY_END: case 'G': log_scroll_ = 0; break;
            case 'l': case 'q': case 27: mode_ = Mode::table; break;
            case '?': mode_ = Mode::help; break;
        }
        return;
    }
    if (detail_ && detail_focus_ && (handle_file_key(ch) || handle_detail_key(ch))) return;
    handle_table_key(ch);
}

bool CursesView::handle_detail_key(int ch) {
    // The focused pane scrolls; keys it does not use fall to the table.
    const int page = std::max(1, detail_height_ - 1);
    switch (ch) {
        case KEY_UP: case 'k': detail_scroll_ = std::max(0, detail_scroll_ - 1); return true;
        case KEY_DOWN: case 'j': ++detail_scroll_; return true;  // draw_detail clamps
        case KEY_PPAGE: detail_scroll_ = std::max(0, detail_scroll_ - page); return true;
        case KEY_NPAGE: detail_scroll_ += page; return true;
        case KEY_HOME: case 'g': detail_scroll_ = 0; return true;
        case KEY_END: case 'G': detail_scroll_ = 1 << 30; return true;
        case 27: detail_focus_ = false; return true;
        default: return false;
    }
}

void CursesView::handle_table_key(int ch) {
    const auto& rows = visible_rows();
    const int n = int(rows.size());
    const Row* sel = selected_index_ < n ? rows[size_t(selected_index_)] : nullptr;
    switch (ch) {
        case KEY_UP: case 'k': move_selection(-1, n); break;
        case KEY_DOWN: case 'j': move_selection(1, n); break;
        case KEY_PPAGE: move_selection(-list_height_, n); break;
        case KEY_NPAGE: move_selection(list_height_, n); break;
        case KEY_HOME: case 'g': move_selection(-n, n); break;
        case KEY_END: case 'G': move_selection(n, n); break;
        case '\n': case '\r': case KEY_ENTER:
            detail_ = !detail_;
            detail_focus_ = false;
            detail_scroll_ = 0;
            break;
        case '\t':
            if (detail_) detail_focus_ = !detail_focus_;
            else hint_ = "Tab moves between the table and the detail pane (Enter opens it)";
            break;
        case 's': sort_ = next_sort_key(sort_); break;
        case 'f': label_filter_ = next_label_filter(l_.sorted_rows(sort_), label_filter_); break;
        case 'l': mode_ = Mode::log; log_scroll_ = 0; break;
        case '?': mode_ = Mode::help; break;
        case 'q': prompt_ = Prompt::quit; break;
        case '/': prompt_ = Prompt::filter; input_ = filter_; break;
        case 27: filter_.clear(); break;
        case '+': case '-': case '=': case '_': step_download_rate(ch == '+' || ch == '='); break;
        case 'R': prompt_ = Prompt::rates; input_.clear(); break;
        case 'S':
            if (sel && sel->loaded) toggle_sequential(*sel);
            break;
        case 'd':
            // Attached to an engine elsewhere, `d` leaves it running.
            if (l_.attached() && on_detach_) return on_detach_();
            [[fallthrough]];
        case KEY_DC:
            if (sel) {
                prompt_ = Prompt::remove;
                remove_row_ = *sel;
            }
            break;
        case 'p': case 'r':
            if (sel && sel->loaded) {
                if (ch == 'p') l_.toggle_pause(*sel);
                else l_.recheck(*sel);
            }
            break;
        default:
            if (!handle_queue_key(ch, sel)) hint_ = "unknown key; ? for help";
            break;
    }
}

// Line editing for the filter and rates prompts: bytes of a UTF-8 name
// arrive one getch() each; Backspace takes back a whole character.
bool CursesView::edit_input(int ch) {
    if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        while (!input_.empty() && (static_cast<unsigned char>(input_.back()) & 0xC0) == 0x80) input_.pop_back();
        if (!input_.empty()) input_.pop_back();
        return true;
    }
    if (ch >= 32 && ch < 256 && ch != 127 && input_.size() < 200) {
        input_ += char(ch);
        return true;
    }
    return false;
}

void CursesView::handle_prompt_key(int ch) {
    const Prompt p = prompt_;
    const bool enter = ch == '\n' || ch == '\r' || ch == KEY_ENTER;
    switch (p) {
        case Prompt::quit:
            prompt_ = Prompt::none;
            if (ch == 'y' || ch == 'Y') on_quit_();
            else if (ch == 'd' && l_.attached() && on_detach_) on_detach_();
            return;
        case Prompt::remove:
            prompt_ = Prompt::none;
            if (ch == 'y' || ch == 'D') {
                if (!l_.remove(remove_row_, ch == 'D')) hint_ = remove_row_.file + " is already gone";
            } else {
                hint_ = "not removed";
            }
            return;
        case Prompt::filter:
            if (ch == 27) filter_.clear();
            if (ch == 27 || enter) prompt_ = Prompt::none;
            else if (edit_input(ch)) filter_ = input_;
            selected_index_ = 0;
            selected_.clear();
            return;
        case Prompt::rates:
        case Prompt::torrent_rates:
            if (ch == 27) prompt_ = Prompt::none;
            else if (enter) p == Prompt::rates ? apply_rates_input() : apply_torrent_rates_input();
            else edit_input(ch);
            return;
        case Prompt::none: return;
    }
}

bool CursesView::parse_rates_input(int64_t& down, int64_t& up) const {
    long long d = -1, u = -1;
    char extra = 0;
    int got = std::sscanf(input_.c_str(), "%lld %lld %c", &d, &u, &extra);
    const long long kMax = 100'000'000 / 1000;
    if (got < 1 || got > 2 || d < 0 || d > kMax || (got == 2 && (u < 0 || u > kMax))) return false;
    down = d * 1000;
    if (got == 2) up = u * 1000;
    return true;
}

void CursesView::apply_rates_input() {
    prompt_ = Prompt::none;
    // "DOWN UP" in kB/s; one number sets the download limit only.
    RateLimits r = l_.rate_limits();
    if (!parse_rates_input(r.down, r.up)) {
        hint_ = "rates not changed: type DOWN [UP] in kB/s, 0 = unlimited (e.g. 500 100)";
        return;
    }
    l_.set_rate_limits(r);
}

void CursesView::step_download_rate(bool up) {
    RateLimits r = l_.rate_limits();
    r.down = next_rate_step(r.down, up);
    l_.set_rate_limits(r);
}

const std::vector<const Row*>& CursesView::visible_rows() {
    const auto& all = l_.sorted_rows(sort_);
    if (filter_.empty() && label_filter_.empty()) return all;
    filtered_.clear();
    for (const Row* r : all)
        if ((filter_.empty() || row_matches(*r, filter_)) && label_matches(*r, label_filter_)) filtered_.push_back(r);
    return filtered_;
}

void CursesView::request_draw(bool soon) {
    if (!active_ || !draw_timer_) return;
    int64_t now = int64_t(uv_now(loop_));
    int64_t at = last_draw_ms_ + (soon ? kKeyFrameMs : kBusyFrameMs);
    uint64_t wait = at > now ? uint64_t(at - now) : 0;
    // A pending frame that comes sooner stays.
    if (uv_is_active(draw_timer_.handle()) && uv_timer_get_due_in(draw_timer_.get()) <= wait) return;
    uv_timer_start(draw_timer_.get(), [](uv_timer_t* h) {
        if (auto* v = static_cast<CursesView*>(h->data)) v->draw();
    }, wait, 0);
}

void CursesView::draw() {
    if (!active_) return;
    last_draw_ms_ = int64_t(uv_now(loop_));
    if (draw_timer_) uv_timer_stop(draw_timer_.get());
    const int H = LINES, W = COLS;
    erase();
    if (H < 6 || W < 30) {
        put(0, W, "terminal too small");
        refresh();
        return;
    }
    // Views draw every interval: sorted pointers into the launcher's row
    // cache, not 10,000 copies.
    const auto& rows = visible_rows();
    // Keep the selection on the same torrent across re-sorts and new rows.
    if (!selected_.empty()) {
        for (size_t i = 0; i < rows.size(); ++i)
            if (rows[i]->file == selected_) selected_index_ = int(i);
    }
    selected_index_ = rows.empty() ? 0 : std::clamp(selected_index_, 0, int(rows.size()) - 1);
    if (!rows.empty()) selected_ = rows[size_t(selected_index_)]->file;

    const int body = H - kFooterLines;
    if (mode_ == Mode::log) {
        draw_log(0, body);
    } else if (mode_ == Mode::help) {
        draw_help(0, body);
    } else if (detail_ && !rows.empty()) {
        int table_h = std::max(3, body / 3);
        draw_table(0, table_h, rows);
        draw_detail(table_h, body - table_h, *rows[size_t(selected_index_)]);
    } else {
        draw_table(0, body, rows);
    }
    draw_footer(rows);
    refresh();
}

void CursesView::draw_table(int top, int height, const std::vector<const Row*>& rows) {
    const int W = COLS;
    auto cols = layout_columns(W);
    put(top, W, header_line(cols, W), has_colors() ? COLOR_PAIR(kHeader) : A_REVERSE);
    list_height_ = std::max(1, height - 1);
    if (selected_index_ < scroll_) scroll_ = selected_index_;
    if (selected_index_ >= scroll_ + list_height_) scroll_ = selected_index_ - list_height_ + 1;
    scroll_ = std::clamp(scroll_, 0, std::max(0, int(rows.size()) - list_height_));
    if (rows.empty()) {
        put(top + 1, W, "  " + l_.empty_hint());
        return;
    }
    // Only the visible rows are formatted.
    for (int i = 0; i < list_height_ && scroll_ + i < int(rows.size()); ++i) {
        const Row& r = *rows[size_t(scroll_ + i)];
        attr_t a = A_NORMAL;
        if (has_colors() && r.st.state == TorrentState::error) a |= COLOR_PAIR(kError);
        else if (has_colors() && r.st.state == TorrentState::seeding) a |= COLOR_PAIR(kSeed);
        if (scroll_ + i == selected_index_) a |= A_REVERSE;
        put(top + 1 + i, W, row_line(r, cols, W), a);
    }
}

void CursesView::draw_detail(int top, int height, const Row& r) {
    const int W = COLS;
    put(top, W, "-- detail: " + r.file +
                    (detail_focus_ ? " [focus: Up/Down/PgUp/PgDn/Home/End scroll, Tab back to the table, Enter closes] "
                                   : " (Tab: focus and scroll, Enter closes) "),
        detail_focus_ ? A_REVERSE : A_BOLD);
    std::vector<std::string> lines;
    TorrentStatus t;
    detail_files_.clear();
    if (l_.detail(r, t)) {
        file_cursor_ = std::clamp(file_cursor_, 0, std::max(0, int(t.files.size()) - 1));
        lines = detail_lines(t, W, detail_focus_ ? file_cursor_ : -1, &files_line_);
        detail_files_ = std::move(t.files);
    }
    else if (r.loaded) lines.push_back(fit_width("waiting for the engine's detail of " + r.file, W));
    else lines.push_back(fit_width(r.file + ": " + r.st.error, W));
    detail_height_ = std::max(1, height - 1);
    auto shown = scroll_window(lines, detail_height_, detail_scroll_, W);
    for (size_t i = 0; i < shown.size(); ++i) mvaddstr(top + 1 + int(i), 0, shown[i].c_str());
}

void CursesView::draw_log(int top, int height) {
    const int W = COLS;
    put(top, W, "log (newest last; Up/Down scroll, l back)", A_REVERSE);
    const auto& lines = log_.lines();
    int n = int(lines.size()), avail = height - 1;
    log_scroll_ = std::clamp(log_scroll_, 0, std::max(0, n - avail));
    int first = std::max(0, n - avail - log_scroll_);
    for (int i = 0; i < avail && first + i < n; ++i) {
        const LogLine& l = lines[size_t(first + i)];
        std::string s = clock_string(l.time) + " " + (l.level == LogLevel::error ? "error: " : l.level == LogLevel::warning ? "warning: " : "") +
                        (l.torrent.empty() ? "" : l.torrent + ": ") + l.message;
        put(top + 1 + i, W, s, l.level == LogLevel::error && has_colors() ? COLOR_PAIR(kError) : A_NORMAL);
    }
}

void CursesView::draw_help(int top, int height) {
    int i = 0;
    for (const char* line : kHelp) {
        if (i >= height) break;
        put(top + i, COLS, line, i == 0 ? A_BOLD : A_NORMAL);
        ++i;
    }
}

std::string CursesView::prompt_line() const {
    switch (prompt_) {
        case Prompt::quit:
            return l_.attached() ? "Stop the engine and quit? (y/n)  d detaches and leaves it running"
                                 : "Quit btlaunchmany? (y/n)";
        case Prompt::remove:
            return "Remove " + remove_row_.st.name + "? y: remove, keep the data   D: remove and DELETE its data   other key: cancel";
        case Prompt::filter: return "filter (Enter keeps, Esc clears): " + input_ + "_";
        case Prompt::rates: {
            RateLimits r = l_.rate_limits();
            auto kb = [](int64_t v) { return std::to_string(v / 1000); };
            return "rate limits in kB/s, DOWN [UP], 0 = unlimited (now " + kb(r.down) + " " + kb(r.up) + "): " + input_ + "_";
        }
        case Prompt::torrent_rates: return torrent_rates_prompt();
        case Prompt::none: break;
    }
    return "";
}

void CursesView::draw_footer(const std::vector<const Row*>& rows) {
    const int H = LINES, W = COLS;
    // The selected row in full: the table cuts long names and messages.
    std::string sel;
    if (!rows.empty()) {
        const TorrentStatus& t = rows[size_t(selected_index_)]->st;
        std::string msg = row_message(t);
        sel = " " + t.name + (msg.empty() ? "" : "  \u2014 " + msg);
    }
    put(H - 3, W, sel, A_BOLD);
    SessionStatus s = l_.session_status();
    size_t errors = 0;
    for (const Row* r : rows) errors += !r->loaded;
    std::string pos = rows.empty() ? "0/0" : std::to_string(selected_index_ + 1) + "/" + std::to_string(rows.size());
    if (!filter_.empty()) pos += " matching \"" + filter_ + "\"";
    RateLimits lim = l_.rate_limits();
    auto limit = [](int64_t v) { return v ? " (max " + format_rate(double(v)) + ")" : std::string(); };
    std::string totals = " " + pos + "  " + std::to_string(rows.size() - errors) + " torrents" +
                         (errors ? ", " + std::to_string(errors) + " errors" : std::string()) + "  down " +
                         format_rate(s.down_rate) + limit(lim.down) + "  up " + format_rate(s.up_rate) + limit(lim.up) +
                         "  peers " +
                         std::to_string(s.peers) + "  " + footer_port(s) +
                         (s.dht_nodes >= 0 ? "  " + dht_nodes_text(s) : std::string()) + "  free " +
                         (disk_free_ >= 0 ? format_size(disk_free_) : std::string("?")) + "  sort " +
                         sort_key_name(sort_) + label_filter_text(label_filter_) + "  ? help";
    put(H - 2, W, totals, A_REVERSE);
    std::string last;
    bool bold = true;
    if (closing_) last = "shutting down: sending `stopped` to trackers and saving resume data...";
    else if (prompt_ != Prompt::none) last = prompt_line();
    else if (!l_.link_state().empty()) last = l_.link_state();
    else if (!hint_.empty()) last = hint_;
    else if (!log_.lines().empty()) {
        const LogLine& l = log_.lines().back();
        last = clock_string(l.time) + " " + (l.torrent.empty() ? "" : l.torrent + ": ") + l.message;
        bold = false;
    }
    put(H - 1, W - 1, last, bold && !last.empty() ? A_BOLD : A_NORMAL);
}

}  // namespace btl::ui
