// FileLayout: maps the torrent's single byte stream onto its files (pure, no
// I/O).  A torrent is one stream of total() bytes cut into pieces; files sit
// back to back in that stream.  map() turns a stream range into per-file
// slices in order, skipping zero-length files, so the disk layer can issue one
// pread/pwrite per slice.  Pad files (BEP 47) are kept in the layout (they
// occupy stream bytes) and flagged by is_pad(); the storage layer decides to
// skip them.  All ranges are validated by the caller; map() clamps to total().
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "btl/core/metainfo.hpp"

namespace btl {

struct FileSlice {
    uint32_t file_index = 0;
    int64_t file_offset = 0;  // offset inside the file
    int64_t length = 0;
};

class FileLayout {
public:
    FileLayout() = default;
    explicit FileLayout(const Metainfo& m);
    FileLayout(std::vector<int64_t> file_lengths, int64_t piece_length,
               std::vector<bool> pad = {});

    // Appends the slices covering [torrent_offset, torrent_offset+length) to
    // `out` (which is not cleared), in stream order.  Zero-length files never
    // appear.  O(log files + slices).
    void map(int64_t torrent_offset, int64_t length, std::vector<FileSlice>& out) const;

    // Closed range [first, last] of file indices whose bytes intersect the
    // piece (zero-length files strictly inside the range are included; they
    // cannot affect the piece's data).
    std::pair<uint32_t, uint32_t> files_of_piece(uint32_t piece) const;
    // Closed range [first, last] of pieces the file's bytes fall in.  For a
    // zero-length file the range is empty: first > last.
    std::pair<uint32_t, uint32_t> pieces_of_file(uint32_t file) const;

    size_t num_files() const { return lengths_.size(); }
    int64_t total() const { return total_; }
    int64_t piece_length() const { return piece_length_; }
    uint32_t num_pieces() const { return num_pieces_; }
    int64_t piece_offset(uint32_t piece) const { return int64_t(piece) * piece_length_; }
    int64_t piece_size(uint32_t piece) const;  // the last piece may be shorter
    int64_t file_length(uint32_t f) const { return lengths_[f]; }
    int64_t file_offset(uint32_t f) const { return offsets_[f]; }
    bool is_pad(uint32_t f) const { return f < pad_.size() && pad_[f]; }

private:
    // Index of the last non-empty file starting at or before off.
    uint32_t file_at(int64_t off) const;

    std::vector<int64_t> lengths_;
    std::vector<int64_t> offsets_;
    std::vector<bool> pad_;
    int64_t total_ = 0;
    int64_t piece_length_ = 0;
    uint32_t num_pieces_ = 0;
};

}  // namespace btl
