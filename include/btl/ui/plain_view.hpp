// PlainView: the view for logs, pipes and systemd.  One timestamped line per
// event (added, checked, completed, error, removed — whatever the engine and
// launcher log at info level or above; debug too with --verbose) and a
// summary line every max(display_interval, 10 s), so a journal is not
// flooded by a 1-second default meant for the curses view.  No curses.
// Lines are valid UTF-8: bytes that are not (a Latin-1 .torrent file name)
// are written as %XX, as in the status JSON.
#pragma once
#include <uv.h>

#include <cstdio>

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

private:
    uv_loop_t* loop_;
    Launcher& l_;
    double interval_s_;
    bool verbose_;
    std::FILE* out_;
    UvHandle<uv_timer_t> timer_;
};

}  // namespace btl::ui
