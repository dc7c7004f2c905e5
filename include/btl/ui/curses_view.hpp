// CursesView: the full-screen table of btlaunchmany (ncursesw).  One row per
// torrent, a header, a footer with totals and the last log line; a detail
// pane (Enter), the log (l), help (?), sorting (s), pause (p), re-check (r),
// quit with confirmation (q, y).  It reads a ViewModel: the Launcher of this
// process, or an engine elsewhere over RPC (then `d` detaches, Delete
// removes, and the footer says when the engine does not answer).
//
// Drawing: every frame is drawn into stdscr and pushed with one refresh(),
// so ncurses sends only what changed.  Frames are drawn at most every
// 250 ms while something changes (keys, log lines) and every
// display_interval otherwise; only the visible rows are formatted.  Input
// comes through a uv_poll on fd 0 with nodelay getch(); SIGWINCH is a
// uv_signal that resizes the curses screen.  Free disk space is computed
// with uv_fs_statfs on the thread pool every 10 s, not per frame.  Text is
// shown as the status JSON writes it (bytes that are not UTF-8 as %XX).
//
// The caller must setlocale(LC_ALL, "") before start() (wide characters).
#pragma once
#include <uv.h>

#include <functional>
#include <string>
#include <vector>

#include "btl/base/uv_util.hpp"
#include "btl/launcher/launcher.hpp"
#include "btl/ui/view.hpp"
#include "btl/ui/view_model.hpp"

namespace btl::ui {

class CursesView : public View {
public:
    // on_quit: the user confirmed `q`; on_detach: `d` in an attached view
    // (a model whose engine runs elsewhere).
    CursesView(uv_loop_t* loop, ViewModel& m, LogBook& log, double display_interval_s, std::function<void()> on_quit,
               std::function<void()> on_detach = {});
    ~CursesView() override;
    Status start() override;
    void on_log(const LogLine& line) override;
    void shutting_down() override;
    void stop() override;

private:
    enum class Mode { table, log, help };
    // A question or a line being typed in the footer's last line.
    enum class Prompt { none, quit, remove, filter, rates, torrent_rates };
    void on_input();
    void handle_key(int ch);
    void handle_table_key(int ch);
    bool handle_detail_key(int ch);
    // The detail pane's file list (curses_files.cpp): a cursor, space
    // toggles wanted, +/- priority; S toggles sequential download.
    bool handle_file_key(int ch);
    void toggle_sequential(const Row& r);
    void handle_prompt_key(int ch);
    bool edit_input(int ch);
    void apply_rates_input();
    // input_ as "DOWN [UP]" in kB/s, each 0..100,000: bytes/s in down (and
    // up when given, else up is left alone); false when malformed.
    bool parse_rates_input(int64_t& down, int64_t& up) const;
    void step_download_rate(bool up);
    // Queue moves and a torrent's own limits (curses_queue.cpp).
    bool handle_queue_key(int ch, const Row* sel);
    void apply_torrent_rates_input();
    std::string torrent_rates_prompt() const;
    // The launcher's sorted rows, narrowed by the filter (`/`).
    const std::vector<const Row*>& visible_rows();
    std::string prompt_line() const;
    void request_draw(bool soon);
    void draw();
    void draw_table(int top, int height, const std::vector<const Row*>& rows);
    void draw_detail(int top, int height, const Row& r);
    void draw_log(int top, int height);
    void draw_help(int top, int height);
    void draw_footer(const std::vector<const Row*>& rows);
    void resize();
    void move_selection(int delta, int list_height);
    void update_disk_free();

    uv_loop_t* loop_;
    ViewModel& l_;
    LogBook& log_;
    double interval_s_;
    std::function<void()> on_quit_, on_detach_;
    bool active_ = false, detail_ = false, detail_focus_ = false, closing_ = false;
    Prompt prompt_ = Prompt::none;
    std::string input_;                      // the line being typed
    std::string filter_;                     // rows whose name or file contains it
    std::string label_filter_;               // "" all rows; see next_label_filter()
    Row remove_row_;                         // the row the remove prompt asks about
    std::vector<const Row*> filtered_;
    int detail_scroll_ = 0, detail_height_ = 1;
    Mode mode_ = Mode::table;
    SortKey sort_ = SortKey::name;
    std::string hint_;           // one-shot footer line ("? for help", prompts' results)
    std::string selected_;       // file name of the selected row (survives re-sorting)
    int selected_index_ = 0, scroll_ = 0, log_scroll_ = 0;
    int list_height_ = 1;
    int64_t last_draw_ms_ = 0;
    int64_t disk_free_ = -1;
    bool statfs_running_ = false;
    int empty_reads_ = 0;
    UvHandle<uv_poll_t> stdin_;
    UvHandle<uv_signal_t> winch_;
    UvHandle<uv_timer_t> draw_timer_, tick_timer_, disk_timer_;
    std::shared_ptr<CursesView*> self_;
    // per-file choices: the files the detail pane last showed, the cursor,
    // and the line of the first file in the pane's lines
    std::vector<FileStatus> detail_files_;
    int file_cursor_ = 0, files_line_ = -1;
};

}  // namespace btl::ui
