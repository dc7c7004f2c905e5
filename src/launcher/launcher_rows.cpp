// The pure parts of the launcher: save-path choice, row sorting, the rows
// document (through engine/status_json's writer), the log book.  Kept apart
// from launcher.cpp so they are testable without a loop.
#include <algorithm>
#include <set>

#include "btl/base/format.hpp"
#include "btl/base/json.hpp"
#include "btl/base/sha1.hpp"
#include "btl/engine/status_json.hpp"
#include "btl/launcher/launcher.hpp"

namespace btl {

namespace {
std::string join(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

// ASCII folding only: names are UTF-8, where std::tolower (locale-bound, a
// call per byte) leaves every byte >= 0x80 alone anyway.
inline int fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

int compare_names(const std::string& a, const std::string& b) {
    size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        int x = fold(static_cast<unsigned char>(a[i])), y = fold(static_cast<unsigned char>(b[i]));
        if (x != y) return x < y ? -1 : 1;
    }
    return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}
}  // namespace

std::string torrent_file_stem(const std::string& file_name) {
    for (const std::string ext : {".torrent", ".magnet"})
        if (file_name.size() > ext.size() && file_name.compare(file_name.size() - ext.size(), ext.size(), ext) == 0)
            return file_name.substr(0, file_name.size() - ext.size());
    return file_name;
}

bool is_magnet_file(const std::string& file_name) {
    const std::string ext = ".magnet";
    return file_name.size() > ext.size() && file_name.compare(file_name.size() - ext.size(), ext.size(), ext) == 0;
}

bool paths_overlap(const std::string& a, const std::string& b) {
    if (a == b) return true;
    const std::string& shorter = a.size() < b.size() ? a : b;
    const std::string& longer = a.size() < b.size() ? b : a;
    return longer.compare(0, shorter.size(), shorter) == 0 &&
           (longer[shorter.size()] == '/' || (!shorter.empty() && shorter.back() == '/'));
}

TakenPaths::TakenPaths(std::initializer_list<std::string> paths) : paths_(paths) {}
TakenPaths::TakenPaths(const std::vector<std::string>& paths) : paths_(paths.begin(), paths.end()) {}

void TakenPaths::remove(const std::string& p) {
    auto it = paths_.find(p);
    if (it != paths_.end()) paths_.erase(it);
}

bool TakenPaths::overlaps(const std::string& p) const {
    // A taken path overlaps p when it equals p, is an ancestor of p (p goes
    // on with '/' after it, or it ends in '/'), or lies inside p.
    if (paths_.count(p)) return true;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] != '/') continue;
        if (paths_.count(p.substr(0, i)) || paths_.count(p.substr(0, i + 1))) return true;
    }
    std::string inside = !p.empty() && p.back() == '/' ? p : p + '/';
    auto it = paths_.lower_bound(inside);
    return it != paths_.end() && it->compare(0, inside.size(), inside) == 0;
}

std::string choose_save_path(int style, const std::string& save_in, const std::string& file_name,
                             const std::string& torrent_name, const TakenPaths& taken) {
    const std::string stem = torrent_file_stem(file_name);
    std::vector<std::string> candidates;
    if (style == 1) candidates.push_back(join(save_in, stem));
    if (style == 2 || style == 4) candidates.push_back(join(save_in, torrent_name));
    candidates.push_back(join(join(save_in, stem), torrent_name));
    for (const auto& c : candidates)
        if (!taken.overlaps(c)) return c;
    // A directory named after the file is taken too (a torrent named like
    // this file's stem): number it.  Bounded by the number of torrents.
    for (size_t i = 2;; ++i) {
        std::string c = join(join(save_in, stem + "." + std::to_string(i)), torrent_name);
        if (!taken.overlaps(c)) return c;
    }
}

const char* sort_key_name(SortKey k) {
    switch (k) {
        case SortKey::name: return "name";
        case SortKey::progress: return "progress";
        case SortKey::rate: return "rate";
        case SortKey::ratio: return "ratio";
        case SortKey::added: return "added";
        case SortKey::label: return "label";
    }
    return "?";
}

SortKey next_sort_key(SortKey k) {
    switch (k) {
        case SortKey::name: return SortKey::progress;
        case SortKey::progress: return SortKey::rate;
        case SortKey::rate: return SortKey::ratio;
        case SortKey::ratio: return SortKey::added;
        case SortKey::added: return SortKey::label;
        case SortKey::label: return SortKey::name;
    }
    return SortKey::name;
}

std::string next_label_filter(const std::vector<const Row*>& rows, const std::string& current) {
    std::set<std::string> labels;
    bool unlabelled = false;
    for (const Row* r : rows) {
        if (r->st.label.empty()) unlabelled = true;
        else labels.insert(r->st.label);
    }
    if (current == kNoLabel) return "";
    auto next = current.empty() ? labels.begin() : labels.upper_bound(current);
    if (next != labels.end()) return *next;
    return unlabelled && !labels.empty() ? kNoLabel : "";
}

bool label_matches(const Row& r, const std::string& filter) {
    if (filter.empty()) return true;
    if (filter == kNoLabel) return r.st.label.empty();
    return r.st.label == filter;
}

std::string label_filter_text(const std::string& filter) {
    if (filter.empty()) return "";
    return filter == kNoLabel ? "  label (none)" : "  label " + filter;
}

double share_ratio(const TorrentStatus& t) {
    int64_t base = t.total_downloaded > 0 ? t.total_downloaded : t.have_bytes;
    return base > 0 ? double(t.total_uploaded) / double(base) : 0.0;
}

namespace {
// One set of comparators for rows and for pointers to rows.
template <class T, class Get>
void sort_any(std::vector<T>& rows, SortKey k, Get get) {
    auto tie = [get](const T& pa, const T& pb) {
        const Row &a = get(pa), &b = get(pb);
        int c = compare_names(a.st.name, b.st.name);
        if (c != 0) return c < 0;
        return a.file < b.file;
    };
    // Numeric keys sort the biggest first: that is what one looks for.
    auto by = [&](auto key) {
        return [&, key](const T& a, const T& b) {
            auto x = key(get(a)), y = key(get(b));
            if (x != y) return x > y;
            return tie(a, b);
        };
    };
    switch (k) {
        case SortKey::name: std::sort(rows.begin(), rows.end(), tie); break;
        case SortKey::progress:
            std::sort(rows.begin(), rows.end(), by([](const Row& r) { return r.st.progress; }));
            break;
        case SortKey::rate:
            std::sort(rows.begin(), rows.end(), by([](const Row& r) { return r.st.down_rate + r.st.up_rate; }));
            break;
        case SortKey::ratio:
            std::sort(rows.begin(), rows.end(), by([](const Row& r) { return share_ratio(r.st); }));
            break;
        case SortKey::added:
            // Oldest first, as they were dropped in; error rows (seq 0) last.
            std::sort(rows.begin(), rows.end(), [&](const T& pa, const T& pb) {
                const Row &a = get(pa), &b = get(pb);
                uint64_t x = a.added_seq ? a.added_seq : UINT64_MAX, y = b.added_seq ? b.added_seq : UINT64_MAX;
                if (x != y) return x < y;
                return tie(pa, pb);
            });
            break;
        case SortKey::label:
            // By label, unlabelled rows last; by name within a label.
            std::sort(rows.begin(), rows.end(), [&](const T& pa, const T& pb) {
                const Row &a = get(pa), &b = get(pb);
                if (a.st.label.empty() != b.st.label.empty()) return b.st.label.empty();
                if (int c = compare_names(a.st.label, b.st.label); c != 0) return c < 0;
                return tie(pa, pb);
            });
            break;
    }
}
}  // namespace

void Launcher::sort_order() const {
    // Sorted as sort_rows(SortKey::name) sorts rows: by the shown name (the
    // torrent's for loaded files, the file's for error rows), then file.
    // Pairs of (entry, name), not Rows: with 100,000 files a vector of
    // whole Rows made every re-sort during a long load cost more than the load.
    order_.clear();
    order_.reserve(files_.size());
    for (auto it = files_.begin(); it != files_.end(); ++it)
        order_.emplace_back(it, it->second.loaded ? it->second.torrent_name : it->first);
    std::sort(order_.begin(), order_.end(), [](const auto& a, const auto& b) {
        int c = compare_names(a.second, b.second);
        if (c != 0) return c < 0;
        return a.first->first < b.first->first;
    });
    order_dirty_ = false;
}

void sort_rows(std::vector<Row>& rows, SortKey k) {
    sort_any(rows, k, [](const Row& r) -> const Row& { return r; });
}

void sort_rows(std::vector<const Row*>& rows, SortKey k) {
    sort_any(rows, k, [](const Row* r) -> const Row& { return *r; });
}

SessionStatus rows_totals(const std::vector<Row>& rows, uint16_t listen_port) {
    SessionStatus s;
    s.listen_port = listen_port;
    for (const auto& r : rows) add_to_totals(s, r);
    return s;
}

// The row is "file" and "loaded", then the torrent's members: written by
// status_json's one writer, so the launcher's document, btdownloadheadless's
// and the RPC's cannot drift apart.
void append_row_json(std::string& o, const Row& r) {
    o += '{';
    append_json_member(o, "file", r.file, true);
    append_json_member(o, "loaded", r.loaded);
    append_torrent_members(o, r.st, false);
    o += '}';
}

bool same_row_json(const Row& a, const Row& b) {
    return a.loaded == b.loaded && a.file == b.file && same_torrent_members(a.st, b.st);
}

void append_status_tail(std::string& o, size_t errors, const SessionStatus& ss) { append_status_end(o, ss, errors); }

std::string rows_status_json(const std::vector<Row>& rows, const SessionStatus& ss) {
    std::string o;
    o.reserve(64 + rows.size() * 640);
    append_status_head(o);
    size_t errors = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].loaded) ++errors;
        if (i) o += ',';
        append_row_json(o, rows[i]);
    }
    append_status_tail(o, errors, ss);
    return o;
}

void add_to_totals(SessionStatus& s, const Row& r) {
    if (!r.loaded) return;
    ++s.torrents;
    s.down_rate += r.st.down_rate;
    s.up_rate += r.st.up_rate;
    s.downloaded += r.st.downloaded;
    s.uploaded += r.st.uploaded;
    s.peers += size_t(r.st.peers);
}

void LogBook::log(LogLevel level, const std::string& torrent, const std::string& message) {
    LogLine l{std::time(nullptr), level, torrent, message};
    if (level != LogLevel::debug) {
        lines_.push_back(l);
        while (lines_.size() > keep_) lines_.pop_front();
    }
    if (listener) listener(l);
}

}  // namespace btl
