// The pure parts of the launcher: save-path choice, row sorting, the log
// book.  Kept apart from launcher.cpp so they are testable without a loop.
#include <algorithm>
#include <cctype>

#include "btl/launcher.hpp"

namespace btl {

namespace {
std::string join(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

bool overlaps_any(const std::string& p, const std::vector<std::string>& taken) {
    for (const auto& t : taken)
        if (paths_overlap(p, t)) return true;
    return false;
}

int compare_names(const std::string& a, const std::string& b) {
    size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        int x = std::tolower(static_cast<unsigned char>(a[i])), y = std::tolower(static_cast<unsigned char>(b[i]));
        if (x != y) return x < y ? -1 : 1;
    }
    return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}
}  // namespace

std::string torrent_file_stem(const std::string& file_name) {
    const std::string ext = ".torrent";
    if (file_name.size() > ext.size() && file_name.compare(file_name.size() - ext.size(), ext.size(), ext) == 0)
        return file_name.substr(0, file_name.size() - ext.size());
    return file_name;
}

bool paths_overlap(const std::string& a, const std::string& b) {
    if (a == b) return true;
    const std::string& shorter = a.size() < b.size() ? a : b;
    const std::string& longer = a.size() < b.size() ? b : a;
    return longer.compare(0, shorter.size(), shorter) == 0 &&
           (longer[shorter.size()] == '/' || (!shorter.empty() && shorter.back() == '/'));
}

std::string choose_save_path(int style, const std::string& save_in, const std::string& file_name,
                             const std::string& torrent_name, const std::vector<std::string>& taken) {
    const std::string stem = torrent_file_stem(file_name);
    std::vector<std::string> candidates;
    if (style == 1) candidates.push_back(join(save_in, stem));
    if (style == 2 || style == 4) candidates.push_back(join(save_in, torrent_name));
    candidates.push_back(join(join(save_in, stem), torrent_name));
    for (const auto& c : candidates)
        if (!overlaps_any(c, taken)) return c;
    // A directory named after the file is taken too (a torrent named like
    // this file's stem): number it.  Bounded by the number of torrents.
    for (size_t i = 2;; ++i) {
        std::string c = join(join(save_in, stem + "." + std::to_string(i)), torrent_name);
        if (!overlaps_any(c, taken)) return c;
    }
}

const char* sort_key_name(SortKey k) {
    switch (k) {
        case SortKey::name: return "name";
        case SortKey::progress: return "progress";
        case SortKey::rate: return "rate";
        case SortKey::ratio: return "ratio";
        case SortKey::added: return "added";
    }
    return "?";
}

SortKey next_sort_key(SortKey k) {
    switch (k) {
        case SortKey::name: return SortKey::progress;
        case SortKey::progress: return SortKey::rate;
        case SortKey::rate: return SortKey::ratio;
        case SortKey::ratio: return SortKey::added;
        case SortKey::added: return SortKey::name;
    }
    return SortKey::name;
}

double share_ratio(const TorrentStatus& t) {
    int64_t base = t.total_downloaded > 0 ? t.total_downloaded : t.have_bytes;
    return base > 0 ? double(t.total_uploaded) / double(base) : 0.0;
}

void sort_rows(std::vector<Row>& rows, SortKey k) {
    auto tie = [](const Row& a, const Row& b) {
        int c = compare_names(a.st.name, b.st.name);
        if (c != 0) return c < 0;
        return a.file < b.file;
    };
    // Numeric keys sort the biggest first: that is what one looks for.
    auto by = [&](auto key) {
        return [&, key](const Row& a, const Row& b) {
            auto x = key(a), y = key(b);
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
            std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
                uint64_t x = a.added_seq ? a.added_seq : UINT64_MAX, y = b.added_seq ? b.added_seq : UINT64_MAX;
                if (x != y) return x < y;
                return tie(a, b);
            });
            break;
    }
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
