// File choices -> piece priorities, and the picker's sequential order.
#include "btl/core/piece_priority.hpp"

#include <algorithm>
#include <cstring>

#include "btl/core/piece_picker.hpp"

namespace btl {

int piece_level(FilePriority p) {
    switch (p) {
        case FilePriority::low: return kPieceLow;
        case FilePriority::high: return kPieceHigh;
        case FilePriority::normal: break;
    }
    return kPieceNormal;
}

const char* priority_name(FilePriority p) {
    switch (p) {
        case FilePriority::low: return "low";
        case FilePriority::high: return "high";
        case FilePriority::normal: break;
    }
    return "normal";
}

FilePriority raise(FilePriority p) { return p == FilePriority::low ? FilePriority::normal : FilePriority::high; }
FilePriority lower(FilePriority p) { return p == FilePriority::high ? FilePriority::normal : FilePriority::low; }

bool priority_from_int(int64_t v, FilePriority& out) {
    if (v < -1 || v > 1) return false;
    out = FilePriority(int8_t(v));
    return true;
}

std::vector<uint8_t> piece_priorities(const FileLayout& layout, const std::vector<FileChoice>& files) {
    std::vector<uint8_t> out(layout.num_pieces(), 0);
    for (uint32_t f = 0; f < layout.num_files(); ++f) {
        if (layout.is_pad(f) || layout.file_length(f) == 0) continue;
        FileChoice c = f < files.size() ? files[f] : FileChoice{};
        if (!c.wanted) continue;
        auto [first, last] = layout.pieces_of_file(f);
        const uint8_t level = uint8_t(piece_level(c.priority));
        for (uint32_t p = first; p <= last && p < out.size(); ++p) out[p] = std::max(out[p], level);
    }
    return out;
}

bool all_default(const std::vector<FileChoice>& files) {
    return std::all_of(files.begin(), files.end(), [](const FileChoice& c) { return c == FileChoice{}; });
}

std::vector<FileChoice> select_only(size_t num_files, const std::vector<std::pair<uint32_t, uint32_t>>& ranges) {
    std::vector<FileChoice> out(num_files);
    if (ranges.empty()) return out;
    for (auto& c : out) c.wanted = false;
    for (auto [a, b] : ranges)
        for (uint64_t i = a; i <= b && i < num_files; ++i) out[size_t(i)].wanted = true;
    return out;
}

// ---- PiecePicker: sequential order -------------------------------------------
//
// The lowest-index not-started wanted piece the peer has, among those of the
// highest priority present.  order_.front() holds the smallest key, which is
// the highest priority.  Words of (wanted & peer has) that are zero are
// skipped 64 pieces at a time; pieces in progress are skipped one by one
// (there are few).

uint32_t PiecePicker::pick_sequential(const Bitfield& peer_has, bool seed) {
    while (seq_cursor_ < num_pieces_ && pieces_[seq_cursor_].pos == kNone) ++seq_cursor_;
    const int top = pieces_[order_.front()].prio;
    uint32_t best = kNone;
    int best_prio = 0;
    const uint8_t* w = wanted_.data();
    const uint8_t* a = peer_has.data();
    for (uint32_t p = seq_cursor_; p < num_pieces_; ++p) {
        if ((p & 63) == 0 && p + 64 <= num_pieces_) {
            uint64_t x, y = ~uint64_t(0);
            std::memcpy(&x, w + p / 8, 8);
            if (!seed) std::memcpy(&y, a + p / 8, 8);
            if (!(x & y)) {
                p += 63;
                continue;
            }
        }
        if (!wanted_.get(p) || pieces_[p].pos == kNone) continue;
        if (!seed && !peer_has.get(p)) continue;
        int pr = pieces_[p].prio;
        if (pr == top) return p;
        if (pr > best_prio) {
            best = p;
            best_prio = pr;
        }
    }
    return best;
}

}  // namespace btl
