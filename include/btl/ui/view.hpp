// View: what the btlaunchmany main() needs from a front end (curses or
// plain).  A view reads Launcher rows (copies) on its own timers and hears
// every log line; it never touches engine objects.  stop() releases the
// terminal and stops its timers; it is safe to call twice.
#pragma once
#include "btl/base/result.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl::ui {

class View {
public:
    virtual ~View() = default;
    virtual Status start() = 0;
    virtual void on_log(const LogLine& line) = 0;
    // The program is shutting down (a signal or the quit key): say so.
    virtual void shutting_down() = 0;
    virtual void stop() = 0;
};

}  // namespace btl::ui
