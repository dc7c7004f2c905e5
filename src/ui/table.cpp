#include "btl/ui/table.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "btl/base/format.hpp"
#include "btl/base/utf8.hpp"
#include "btl/ui/text_width.hpp"

namespace btl::ui {

namespace {

constexpr int kNameMin = 12, kNameMax = 64, kMessageMin = 12;

int fixed_width(Col c) {
    switch (c) {
        case Col::size: return 10;
        case Col::progress: return 17;
        case Col::state: return 11;
        case Col::down: case Col::up: return 10;
        case Col::peers: return 7;
        case Col::ratio: return 6;
        case Col::eta: return 8;
        default: return 0;
    }
}

const char* title(Col c) {
    switch (c) {
        case Col::name: return "NAME";
        case Col::size: return "SIZE";
        case Col::progress: return "PROGRESS";
        case Col::state: return "STATE";
        case Col::down: return "DOWN";
        case Col::up: return "UP";
        case Col::peers: return "PEERS";
        case Col::ratio: return "RATIO";
        case Col::eta: return "ETA";
        case Col::message: return "MESSAGE";
    }
    return "";
}

bool right_aligned(Col c) {
    return c == Col::size || c == Col::down || c == Col::up || c == Col::peers || c == Col::ratio || c == Col::eta;
}

// Text from the outside world (names, paths, tracker messages) shows as
// the status JSON writes it: bytes that are not UTF-8 as %XX, the same in
// every view and in btshowmetainfo, instead of one U+FFFD per byte here.
std::string cell(const std::string& raw, int width, bool right) {
    const std::string text = escape_invalid_utf8(raw);
    if (!right) return fit_width(text, width);
    int w = display_width(text);
    if (w >= width) return fit_width(text, width);
    return std::string(size_t(width - w), ' ') + text;
}

std::string join_cells(const std::vector<Column>& cols, const std::vector<std::string>& cells, int width) {
    std::string line;
    for (size_t i = 0; i < cols.size(); ++i) {
        if (i) line += ' ';
        line += cells[i];
    }
    return fit_width(line, width);
}

std::string pct(double f) {
    char b[16];
    std::snprintf(b, sizeof b, "%5.1f%%", std::clamp(f, 0.0, 1.0) * 100);
    return b;
}

// The row's message: an error that needs a re-check says how to start one,
// and names its file relative to the torrent's save path so that the hint
// is not cut off by a long path (the detail pane shows the full path).
}  // namespace

std::string row_message(const TorrentStatus& t) {
    if (t.error.empty()) return t.tracker_message;
    // `r` starts the torrent again (a re-check opens the files anew), so
    // a save directory made writable needs no restart: say so.
    if (!t.needs_recheck && t.error.find(" is not writable") != std::string::npos)
        return t.error + " \u2014 make it writable, then press r to retry";
    if (!t.needs_recheck) return t.error;
    std::string e = t.error;
    const std::string& sp = t.save_path;
    if (!sp.empty()) {
        std::string prefix = sp + "/";
        size_t slash = sp.rfind('/');
        std::string base = slash == std::string::npos ? sp : sp.substr(slash + 1);
        for (size_t at; (at = e.find(prefix)) != std::string::npos;) e.replace(at, prefix.size(), "");
        for (size_t at = 0; (at = e.find(sp, at)) != std::string::npos; at += base.size()) e.replace(at, sp.size(), base);
    }
    // "(piece N fails its hash check)" is for the log; the row keeps the hint.
    size_t detail = e.rfind(" (piece ");
    if (detail != std::string::npos && e.back() == ')') e.resize(detail);
    return e + " \u2014 press r to re-check";
}

namespace {

bool rate_like(Col c) {
    return c == Col::down || c == Col::up || c == Col::peers || c == Col::ratio || c == Col::eta || c == Col::message;
}

}  // namespace

std::string state_cell(const TorrentStatus& t) {
    // A move of the data shows over the state it runs under.
    if (!t.moving_to.empty()) return "moving " + std::to_string(int(t.move_progress * 100)) + "%";
    // The engine's "stopped" is what the user did with `p`: say so.
    return t.state == TorrentState::stopped ? "paused" : state_name(t.state);
}

std::vector<Column> layout_columns(int width) {
    std::vector<Col> fixed = {Col::size, Col::progress, Col::state, Col::down, Col::up, Col::peers, Col::ratio, Col::eta};
    const Col drop_order[] = {Col::ratio, Col::peers, Col::eta, Col::size, Col::up, Col::down, Col::progress};
    auto need = [&] {
        int n = kNameMin;
        for (Col c : fixed) n += fixed_width(c) + 1;
        return n;
    };
    for (Col d : drop_order) {
        if (need() <= width) break;
        fixed.erase(std::remove(fixed.begin(), fixed.end(), d), fixed.end());
    }
    // The name takes the spare room: similar long names must stay apart.
    // Only past kNameMax does a MESSAGE column appear; below that a row's
    // message shows in place of its rates (error rows) and in the footer
    // (the selected row), not in a mostly empty column.
    int spare = std::max(0, width - need());
    bool message = spare >= kNameMax - kNameMin + 1 + kMessageMin;
    int name_w = kNameMin + (message ? kNameMax - kNameMin : spare);
    std::vector<Column> cols{{Col::name, name_w}};
    for (Col c : fixed) cols.push_back({c, fixed_width(c)});
    if (message) {
        int used = 0;
        for (auto& c : cols) used += c.width + 1;
        cols.push_back({Col::message, std::max(1, width - used)});
    }
    return cols;
}

std::string header_line(const std::vector<Column>& cols, int width) {
    std::vector<std::string> cells;
    for (const auto& c : cols) cells.push_back(cell(title(c.id), c.width, right_aligned(c.id)));
    return join_cells(cols, cells, width);
}

std::string progress_bar(double f, int bar_width) {
    f = std::clamp(f, 0.0, 1.0);
    int full = int(std::floor(f * bar_width + 1e-9));
    return std::string(size_t(full), '#') + std::string(size_t(bar_width - full), '-') + " " + pct(f);
}

std::string row_line(const Row& r, const std::vector<Column>& cols, int width) {
    const TorrentStatus& t = r.st;
    std::vector<std::string> cells;
    for (const auto& c : cols) {
        std::string s;
        switch (c.id) {
            case Col::name: s = t.name; break;
            case Col::size: s = r.loaded ? format_size(t.total_size) : ""; break;
            case Col::progress:
                if (r.loaded)
                    s = progress_bar(t.state == TorrentState::checking ? t.check_progress : t.progress,
                                     c.width - 7);
                break;
            case Col::state: s = state_cell(t); break;  // error rows have state error
            case Col::down: s = r.loaded ? format_rate(t.down_rate) : ""; break;
            case Col::up: s = r.loaded ? format_rate(t.up_rate) : ""; break;
            case Col::peers: s = r.loaded ? std::to_string(t.peers) + "/" + std::to_string(t.seeds) : ""; break;
            case Col::ratio:
                if (r.loaded) {
                    char b[16];
                    std::snprintf(b, sizeof b, "%.2f", share_ratio(t));
                    s = b;
                }
                break;
            case Col::eta:
                s = r.loaded && t.state == TorrentState::downloading ? format_eta(t.eta_s) : "";
                break;
            case Col::message: s = row_message(t); break;
        }
        cells.push_back(cell(s, c.width, right_aligned(c.id)));
    }
    // An error row has no rates worth showing: its message takes their
    // place and the message column's, so the reason is not cut at 16 cells.
    if (t.state == TorrentState::error) {
        size_t first = cols.size();
        for (size_t i = 0; i < cols.size(); ++i)
            if (rate_like(cols[i].id)) {
                first = i;
                break;
            }
        if (first < cols.size()) {
            int w = int(cols.size() - first) - 1;
            for (size_t i = first; i < cols.size(); ++i) w += cols[i].width;
            cells.resize(first);
            cells.push_back(cell(row_message(t), w, false));
            std::vector<Column> merged(cols.begin(), cols.begin() + long(first));
            merged.push_back({Col::message, w});
            return join_cells(merged, cells, width);
        }
    }
    return join_cells(cols, cells, width);
}

std::vector<std::string> detail_lines(const TorrentStatus& t, int width, int file_cursor, int* files_line) {
    std::vector<std::string> out;
    auto add = [&](const std::string& s) { out.push_back(fit_width(escape_invalid_utf8(s), width)); };
    add(t.name + "  " + to_hex(t.info_hash) + "  " + format_size(t.total_size) + " in " +
        std::to_string(t.num_pieces) + " pieces (" + std::to_string(t.pieces_have) + " have)  -> " + t.save_path);
    if (t.wanted_bytes < t.total_size || t.sequential)
        add((t.wanted_bytes < t.total_size ? "wanted " + format_size(t.wanted_bytes) + " of " + format_size(t.total_size)
                                           : std::string("all files wanted")) +
            (t.sequential ? ", sequential download" : ""));
    add("downloaded " + format_size(t.total_downloaded) + ", uploaded " + format_size(t.total_uploaded) +
        (t.error.empty() ? "" : "  error: " + t.error + (t.needs_recheck ? " \u2014 press r to re-check" : "")));
    add("Trackers (" + std::to_string(t.trackers.size()) + "):");
    for (const auto& tr : t.trackers) {
        std::string s = "  " + tr.url + "  " + tr.status;
        if (tr.seeds >= 0) s += "  seeds " + std::to_string(tr.seeds) + " leechers " + std::to_string(tr.leechers);
        if (tr.next_announce_s >= 0) s += "  next in " + format_eta(tr.next_announce_s);
        add(s);
    }
    add("Peers (" + std::to_string(t.peer_list.size()) + "):");
    // Client names in full ("qBittorrent 4.6.2" and the like): the column
    // is as wide as the longest one, up to 40 cells.
    int client_w = 10;
    for (const auto& p : t.peer_list) client_w = std::max(client_w, display_width(escape_invalid_utf8(p.client)));
    client_w = std::min(client_w, 40);
    if (!t.peer_list.empty())
        add("  flags: D/d we download (d: the peer chokes us), U/u we upload (u: we choke it), "
            "S snubbed, I/O incoming/outgoing, F fast extension, X heard of through PEX, E encrypted; DHT: found through the DHT");
    for (const auto& p : t.peer_list) {
        std::string left = "  " + fit_width(escape_invalid_utf8(p.address), 22) + " " +
                           fit_width(escape_invalid_utf8(p.client), client_w) + " ";
        add(left + cell(format_rate(p.down_rate), 10, true) + " " + cell(format_rate(p.up_rate), 10, true) + " " +
            pct(p.progress) + " " + (p.incoming ? "in  " : "out ") + p.flags + (p.source == "dht" ? " DHT" : ""));
    }
    add("Files (" + std::to_string(t.files.size()) + "; focused pane: Up/Down choose, space wanted, +/- priority):");
    if (files_line) *files_line = int(out.size());
    for (size_t i = 0; i < t.files.size(); ++i) {
        const FileStatus& f = t.files[i];
        const char* prio = f.priority > 0 ? "high  " : f.priority < 0 ? "low   " : "normal";
        add(std::string(int(i) == file_cursor ? "> " : "  ") + (f.wanted ? "[x] " : "[ ] ") + prio + " " +
            pct(f.progress) + " " + cell(format_size(f.length), 10, true) + "  " + f.path);
    }
    return out;
}

std::vector<std::string> scroll_window(const std::vector<std::string>& lines, int height, int& scroll, int width) {
    const int n = int(lines.size());
    if (height <= 0) return {};
    if (n <= height || height < 3) {
        scroll = std::clamp(scroll, 0, std::max(0, n - height));
        return std::vector<std::string>(lines.begin() + scroll, lines.begin() + std::min(n, scroll + height));
    }
    // The last position shows the end under one "more above" marker.
    scroll = std::clamp(scroll, 0, n - height + 1);
    int content = height - (scroll > 0 ? 1 : 0);
    if (scroll + content < n) --content;  // room for the "more below" marker
    std::vector<std::string> out;
    if (scroll > 0) out.push_back(fit_width("  \u2191 " + std::to_string(scroll) + " more above", width));
    for (int i = scroll; i < scroll + content; ++i) out.push_back(lines[size_t(i)]);
    if (scroll + content < n)
        out.push_back(fit_width("  \u2193 " + std::to_string(n - scroll - content) + " more below", width));
    return out;
}

bool row_matches(const Row& r, const std::string& filter) {
    auto lower = [](std::string s) {
        for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    const std::string f = lower(filter);
    return lower(r.st.name).find(f) != std::string::npos || lower(r.file).find(f) != std::string::npos;
}

std::string dht_nodes_text(const SessionStatus& s) {
    if (s.dht_nodes < 0) return "";
    return "DHT " + std::to_string(s.dht_nodes) + " nodes" +
           (s.dht_nodes6 > 0 ? " (" + std::to_string(s.dht_nodes6) + " IPv6)" : std::string());
}

}  // namespace btl::ui
