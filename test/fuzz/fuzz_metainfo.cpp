// .torrent parsing: any input either fails with a message or yields a
// Metainfo that is safe to use: the info-hash is SHA-1 of the raw info bytes
// found in the input (stable when the info dictionary is re-wrapped), sizes
// and piece counts agree, every path element is sanitised and paths are
// unique, and the file layout built from it maps pieces onto files exactly.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>

#include "btl/base/sha1.hpp"
#include "btl/core/file_layout.hpp"
#include "btl/core/metainfo.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

void check_element(const std::string& e) {
    BTL_FUZZ_CHECK(!e.empty() && e != "." && e != "..");
    for (char ch : e) {
        auto c = static_cast<unsigned char>(ch);
        BTL_FUZZ_CHECK(c != '/' && c != '\\' && c >= 0x20 && c != 0x7f);
    }
    BTL_FUZZ_CHECK(is_valid_utf8(e));
}

void check_layout(const Metainfo& m) {
    FileLayout layout(m);
    BTL_FUZZ_CHECK(layout.num_pieces() == m.num_pieces());
    BTL_FUZZ_CHECK(layout.total() == m.total_length);
    BTL_FUZZ_CHECK(layout.num_files() == m.files.size());
    // A few pieces at each end (a torrent may have millions).
    const uint32_t n = m.num_pieces();
    std::vector<FileSlice> slices;
    for (uint32_t i = 0; i < n; i = (i == 3 && n > 8) ? n - 4 : i + 1) {
        BTL_FUZZ_CHECK(layout.piece_size(i) == m.piece_size(i));
        BTL_FUZZ_CHECK(m.piece_size(i) > 0 && m.piece_size(i) <= m.piece_length);
        slices.clear();
        layout.map(layout.piece_offset(i), layout.piece_size(i), slices);
        int64_t sum = 0;
        auto [first, last] = layout.files_of_piece(i);
        BTL_FUZZ_CHECK(first <= last && last < m.files.size());
        for (const auto& s : slices) {
            BTL_FUZZ_CHECK(s.file_index >= first && s.file_index <= last);
            BTL_FUZZ_CHECK(s.length > 0 && s.file_offset >= 0);
            BTL_FUZZ_CHECK(s.file_offset + s.length <= m.files[s.file_index].length);
            auto [pf, pl] = layout.pieces_of_file(s.file_index);
            BTL_FUZZ_CHECK(pf <= i && i <= pl && pl < n);
            sum += s.length;
        }
        BTL_FUZZ_CHECK(sum == m.piece_size(i));
    }
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_metainfo) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = parse_metainfo(in);
    if (!r.ok()) {
        BTL_FUZZ_CHECK(!r.error().message.empty());
        return 0;
    }
    const Metainfo& m = *r;

    // The info-hash is over the raw bytes as they appear in the input.
    BTL_FUZZ_CHECK(m.info_hash == sha1(m.info_bytes));
    BTL_FUZZ_CHECK(in.find(m.info_bytes) != std::string_view::npos);
    // Stable: the same info dictionary in a minimal torrent gives the same
    // hash and the same files.
    std::string wrapped = "d4:info" + m.info_bytes + "e";
    auto again = parse_metainfo(wrapped);
    BTL_FUZZ_CHECK(again.ok());
    BTL_FUZZ_CHECK(again->info_hash == m.info_hash);
    BTL_FUZZ_CHECK(again->files.size() == m.files.size());
    BTL_FUZZ_CHECK(again->name == m.name);

    BTL_FUZZ_CHECK(m.piece_length > 0 && m.total_length > 0);
    BTL_FUZZ_CHECK(m.pieces.size() % 20 == 0);
    BTL_FUZZ_CHECK(int64_t(m.num_pieces()) == (m.total_length - 1) / m.piece_length + 1);
    check_element(m.name);

    BTL_FUZZ_CHECK(!m.files.empty());
    BTL_FUZZ_CHECK(m.multi_file || m.files.size() == 1);
    std::set<std::string> paths;
    int64_t offset = 0;
    for (size_t i = 0; i < m.files.size(); ++i) {
        const FileEntry& f = m.files[i];
        BTL_FUZZ_CHECK(f.length >= 0 && f.offset == offset);
        offset += f.length;
        BTL_FUZZ_CHECK(!f.path.empty());
        std::string joined;
        for (const auto& e : f.path) {
            check_element(e);
            if (!joined.empty()) joined += '/';
            joined += e;
        }
        BTL_FUZZ_CHECK(joined == f.path_string);
        if (f.pad) continue;
        BTL_FUZZ_CHECK(paths.insert(f.path_string).second);
    }
    BTL_FUZZ_CHECK(offset == m.total_length);
    // No file may also be used as a directory of another file.
    for (const auto& f : m.files) {
        if (f.pad) continue;
        for (size_t d = 1; d < f.path.size(); ++d) {
            std::string dir;
            for (size_t k = 0; k < d; ++k) dir += (k ? "/" : "") + f.path[k];
            BTL_FUZZ_CHECK(paths.count(dir) == 0);
        }
    }

    for (const auto& tier : m.tracker_tiers()) {
        BTL_FUZZ_CHECK(!tier.empty());
        for (const auto& url : tier) BTL_FUZZ_CHECK(!url.empty());
    }
    check_layout(m);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_metainfo)
