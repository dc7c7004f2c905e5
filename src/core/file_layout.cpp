#include "btl/core/file_layout.hpp"

#include <algorithm>

namespace btl {

FileLayout::FileLayout(const Metainfo& m) {
    std::vector<int64_t> lengths;
    std::vector<bool> pad;
    lengths.reserve(m.files.size());
    pad.reserve(m.files.size());
    for (const auto& f : m.files) {
        lengths.push_back(f.length);
        pad.push_back(f.pad);
    }
    *this = FileLayout(std::move(lengths), m.piece_length, std::move(pad));
}

FileLayout::FileLayout(std::vector<int64_t> file_lengths, int64_t piece_length,
                       std::vector<bool> pad)
    : lengths_(std::move(file_lengths)), pad_(std::move(pad)), piece_length_(piece_length) {
    offsets_.reserve(lengths_.size());
    for (int64_t len : lengths_) {
        offsets_.push_back(total_);
        total_ += len;
    }
    if (piece_length_ > 0) num_pieces_ = uint32_t((total_ + piece_length_ - 1) / piece_length_);
}

int64_t FileLayout::piece_size(uint32_t piece) const {
    if (piece >= num_pieces_) return 0;
    return std::min(piece_length_, total_ - piece_offset(piece));
}

uint32_t FileLayout::file_at(int64_t off) const {
    // Files are contiguous, so the last file starting at or before `off` is
    // the non-empty one containing it (empty files share the next file's
    // offset and come before it).
    auto it = std::upper_bound(offsets_.begin(), offsets_.end(), off);
    if (it == offsets_.begin()) return 0;
    return uint32_t(it - offsets_.begin() - 1);
}

void FileLayout::map(int64_t torrent_offset, int64_t length, std::vector<FileSlice>& out) const {
    if (torrent_offset < 0 || torrent_offset >= total_ || length <= 0) return;
    length = std::min(length, total_ - torrent_offset);
    uint32_t f = file_at(torrent_offset);
    int64_t off = torrent_offset;
    while (length > 0 && f < lengths_.size()) {
        int64_t in_file = off - offsets_[f];
        int64_t avail = lengths_[f] - in_file;
        if (avail > 0) {
            int64_t n = std::min(avail, length);
            out.push_back(FileSlice{f, in_file, n});
            off += n;
            length -= n;
        }
        ++f;
    }
}

std::pair<uint32_t, uint32_t> FileLayout::files_of_piece(uint32_t piece) const {
    int64_t size = piece_size(piece);
    if (size <= 0) return {1, 0};
    int64_t start = piece_offset(piece);
    return {file_at(start), file_at(start + size - 1)};
}

std::pair<uint32_t, uint32_t> FileLayout::pieces_of_file(uint32_t file) const {
    if (file >= lengths_.size() || lengths_[file] == 0 || piece_length_ <= 0) return {1, 0};
    int64_t start = offsets_[file];
    int64_t last = start + lengths_[file] - 1;
    return {uint32_t(start / piece_length_), uint32_t(last / piece_length_)};
}

}  // namespace btl
