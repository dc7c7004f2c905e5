#include "btl/ui/plain_view.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "btl/base/format.hpp"
#include "btl/base/utf8.hpp"
#include "btl/ui/table.hpp"

namespace btl::ui {

namespace {
std::string stamp(std::time_t t) {
    char buf[32];
    std::tm tm{};
    localtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}
}  // namespace

PlainView::PlainView(uv_loop_t* loop, Launcher& l, double display_interval_s, bool verbose, std::FILE* out)
    : loop_(loop), l_(l), interval_s_(display_interval_s), verbose_(verbose), out_(out) {}

Status PlainView::start() {
    timer_ = UvHandle<uv_timer_t>::create([&](uv_timer_t* h) { return uv_timer_init(loop_, h); });
    timer_->data = this;
    auto ms = uint64_t(std::max(interval_s_, 10.0) * 1000);
    uv_timer_start(
        timer_.get(),
        [](uv_timer_t* h) {
            auto* self = static_cast<PlainView*>(h->data);
            if (!self) return;
            auto lines = self->tick_lines();
            if (lines.empty()) return;
            const std::string now = stamp(std::time(nullptr));
            for (const auto& l : lines) std::fprintf(self->out_, "%s %s\n", now.c_str(), l.c_str());
            std::fflush(self->out_);
        },
        ms, ms);
    return Ok{};
}

std::string PlainView::summary() const {
    // The launcher keeps the counts as rows change: no pass over every row.
    const auto& counts = l_.state_counts();
    SessionStatus s = l_.session_status();
    std::string o = "summary: " + std::to_string(l_.row_count()) + " torrents";
    // The states by the names the status JSON gives them.
    for (int i = 0; i < kTorrentStateCount; ++i)
        if (counts[i]) o += ", " + std::to_string(counts[i]) + " " + state_name(static_cast<TorrentState>(i));
    o += "; down " + format_rate(s.down_rate) + ", up " + format_rate(s.up_rate) + ", " + std::to_string(s.peers) +
         " peers, " + (s.port_mapping.empty() ? "port " + std::to_string(s.listen_port) : s.port_mapping);
    if (s.dht_nodes >= 0) o += ", " + dht_nodes_text(s);
    return o;
}

std::string progress_line(const Row& r) {
    const TorrentStatus& t = r.st;
    const bool moving = t.down_rate > 0 || t.up_rate > 0;
    if (t.state == TorrentState::fetching) return escape_invalid_utf8(t.name) + ": " + t.tracker_message;
    if (!r.loaded || !(t.state == TorrentState::checking || t.state == TorrentState::downloading || moving)) return "";
    char pct[16];
    double f = t.state == TorrentState::checking ? t.check_progress : t.progress;
    std::snprintf(pct, sizeof pct, "%.1f%%", std::clamp(f, 0.0, 1.0) * 100);
    std::string o = escape_invalid_utf8(t.name) + ": " + state_name(t.state) + " " + pct + " of " +
                    format_size(t.total_size) + ", down " + format_rate(t.down_rate) + ", up " + format_rate(t.up_rate) +
                    ", " + std::to_string(t.peers) + " peers (" + std::to_string(t.seeds) + " seeds)";
    if (t.state == TorrentState::downloading && t.eta_s >= 0) o += ", ETA " + format_eta(t.eta_s);
    return o;
}

std::vector<std::string> PlainView::tick_lines() {
    std::vector<std::string> out;
    // Only a live row (rates, peers, checking, downloading, fetching) has a
    // progress line: the others are not visited.
    for (const Row* r : l_.live_rows())
        if (std::string p = progress_line(*r); !p.empty()) out.push_back("  " + p);
    std::string s = summary();
    if (!out.empty() || s != last_summary_) out.push_back(s);
    last_summary_ = std::move(s);
    return out;
}

void PlainView::on_log(const LogLine& line) {
    if (line.level == LogLevel::debug && !verbose_) return;
    const char* tag = line.level == LogLevel::error     ? "error: "
                      : line.level == LogLevel::warning ? "warning: "
                                                        : "";
    // A journal or a pipe gets valid UTF-8 too: a Latin-1 .torrent file
    // name reads as in the status JSON (%XX), not as raw bytes.
    std::fprintf(out_, "%s %s%s%s%s\n", stamp(line.time).c_str(), tag, escape_invalid_utf8(line.torrent).c_str(),
                 line.torrent.empty() ? "" : ": ", escape_invalid_utf8(line.message).c_str());
    std::fflush(out_);
}

void PlainView::shutting_down() {
    std::fprintf(out_, "%s shutting down (sending stopped, saving resume data)\n", stamp(std::time(nullptr)).c_str());
    std::fflush(out_);
}

void PlainView::stop() { timer_.reset(); }

}  // namespace btl::ui
