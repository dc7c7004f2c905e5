// PlainView: the view for logs, pipes and systemd.  One timestamped line per
// event (added, checked, completed, error, removed — whatever the engine and
// launcher log at info level or above; debug too with --verbose) and a
// summary line every max(display_interval, 10 s), so a journal is not
// flooded by a 1-second default meant for the curses view.  Each interval
// also gives one progress line per active torrent (checking, downloading,
// or moving data); a summary identical to the last one printed, with no
// torrent active, is left out: an idle night is not 3,000 equal lines.
// No curses.
// Lines are valid UTF-8: bytes that are not (a Latin-1 .torrent file name)
// are written as %XX, as in the status JSON.
#pragma once
#include <uv.h>

#include <cstdio>
#include <string>
#include <vector>

#include "btl/base/uv_util.hpp"
#include "btl/ui/view.hpp"

namespace btl::ui {

class PlainView : public View {
public:
    PlainView(uv_loop_t* loop, Launcher& l, double display_interval_s, bool verbose, std::FILE* out = stdout);
    Status start() override;
    void on_log(const LogLine& line) override;
    void shutting_down() override;
    void stop() override;
    // The summary line (public for tests and for the final line at exit).
    std::string summary() const;
    // What one interval prints (without time stamps): the progress lines,
    // then the summary unless it would repeat an idle one.  Advances the
    // "last summary" it compares with.
    std::vector<std::string> tick_lines();

private:
    uv_loop_t* loop_;
    Launcher& l_;
    double interval_s_;
    bool verbose_;
    std::FILE* out_;
    UvHandle<uv_timer_t> timer_;
    std::string last_summary_;
};

// "NAME: downloading 45.2% of 1.2 GiB, down 1.5 MB/s, up 0 B/s, 3 peers (1
// seeds), ETA 2:03"; "" for a torrent that is not active (pure).
std::string progress_line(const Row& r);

}  // namespace btl::ui
