// Per-file choices (wanted or not, priority low/normal/high) and what they
// mean for the piece picker.  Pure.
//
// A piece is wanted when any wanted, non-pad file with bytes in it overlaps
// it; its picker priority is the highest priority among those files
// (kPieceLow..kPieceHigh), 0 when no wanted file touches it.  A piece shared
// by an unwanted file and a wanted one is therefore downloaded whole.
//
// FilePriority uses Transmission's numbers (TR_PRI_LOW -1, TR_PRI_NORMAL 0,
// TR_PRI_HIGH 1), which is what its RPC carries and what the resume data
// stores.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "btl/core/file_layout.hpp"

namespace btl {

enum class FilePriority : int8_t { low = -1, normal = 0, high = 1 };

struct FileChoice {
    bool wanted = true;
    FilePriority priority = FilePriority::normal;
    bool operator==(const FileChoice& o) const { return wanted == o.wanted && priority == o.priority; }
};

// Picker priorities (PiecePicker::set_piece_priority) of the three levels.
inline constexpr int kPieceLow = 1, kPieceNormal = 2, kPieceHigh = 3;

int piece_level(FilePriority p);
// "low", "normal", "high".
const char* priority_name(FilePriority p);
// The next level up (+) or down (-), saturating at high and low.
FilePriority raise(FilePriority p);
FilePriority lower(FilePriority p);
// -1, 0 or 1 from Transmission's RPC; false for anything else.
bool priority_from_int(int64_t v, FilePriority& out);

// One picker priority per piece of `layout` from one choice per file
// (missing choices count as wanted at normal priority).  O(pieces + files).
std::vector<uint8_t> piece_priorities(const FileLayout& layout, const std::vector<FileChoice>& files);

// True when every file is wanted at normal priority (the state of a torrent
// nobody has made a choice for).
bool all_default(const std::vector<FileChoice>& files);

// BEP 53 `so`: only the files in the inclusive index ranges are wanted;
// indices past the last file are ignored.  Empty ranges: every file wanted.
std::vector<FileChoice> select_only(size_t num_files, const std::vector<std::pair<uint32_t, uint32_t>>& ranges);

}  // namespace btl
