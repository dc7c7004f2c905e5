// Resume data as the engine loads it (bytes read from DATA_DIR/resume/*):
// any file either fails with a message or decodes to data that re-encodes
// to an equal value, and trusted_pieces() only ever trusts a piece the data
// marks as verified whose files are unchanged.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "btl/core/file_layout.hpp"
#include "btl/disk/resume.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

namespace {

bool same(const ResumeData& a, const ResumeData& b) {
    if (a.files.size() != b.files.size()) return false;
    for (size_t i = 0; i < a.files.size(); ++i)
        if (a.files[i].size != b.files[i].size || a.files[i].mtime_ns != b.files[i].mtime_ns ||
            a.files[i].synced != b.files[i].synced)
            return false;
    return a.info_hash == b.info_hash && a.num_pieces == b.num_pieces && a.have_bits == b.have_bits &&
           a.uploaded == b.uploaded && a.downloaded == b.downloaded && a.save_path == b.save_path &&
           a.added_time == b.added_time && a.completed_time == b.completed_time && a.paused == b.paused &&
           a.boot_id == b.boot_id && a.files_wanted == b.files_wanted && a.file_priorities == b.file_priorities &&
           a.sequential == b.sequential;
}

bool bit(const std::string& bits, uint32_t i) { return (uint8_t(bits[i / 8]) >> (7 - i % 8)) & 1; }

// A torrent shaped like the resume data (its piece and file counts), where
// every odd-numbered file has changed on disk since the data was written,
// checked as if after a reboot (unsynced files untrusted) and in the boot
// that saved it.
void check_trust(const ResumeData& r) {
    const uint32_t n = r.num_pieces;
    const size_t nf = r.files.size();
    if (n == 0 || nf == 0 || n > 65536 || nf > 4096) return;
    const int64_t piece = 16384, total = int64_t(n) * piece;
    std::vector<int64_t> lengths(nf, total / int64_t(nf));
    lengths.back() += total - (total / int64_t(nf)) * int64_t(nf);
    FileLayout layout(lengths, piece);
    BTL_FUZZ_CHECK(layout.num_pieces() == n);
    std::vector<FileStat> now(nf);
    for (size_t f = 0; f < nf; ++f) {
        now[f].exists = r.files[f].size >= 0;
        now[f].size = r.files[f].size;
        now[f].mtime_ns = r.files[f].mtime_ns + (f % 2);
    }
    for (bool rebooted : {true, false}) {
        std::string boot = rebooted ? r.boot_id + "x" : r.boot_id;
        std::vector<uint8_t> trusted = trusted_pieces(r, layout, now, boot);
        BTL_FUZZ_CHECK(trusted.size() == n);
        const bool same_boot = !rebooted && !boot.empty();
        for (uint32_t p = 0; p < n; ++p) {
            bool files_ok = true;
            auto [first, last] = layout.files_of_piece(p);
            for (uint32_t f = first; f <= last; ++f)
                if (layout.file_length(f) > 0 && (f % 2 == 1 || !now[f].exists || !(r.files[f].synced || same_boot)))
                    files_ok = false;
            BTL_FUZZ_CHECK(trusted[p] == (bit(r.have_bits, p) && files_ok ? 1 : 0));
        }
        BTL_FUZZ_CHECK(pieces_to_bits(trusted).size() == r.have_bits.size());
    }
}

}  // namespace

BTL_FUZZ_DECLARE(fuzz_resume) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = decode_resume(in);
    if (!r.ok()) {
        BTL_FUZZ_CHECK(!r.error().message.empty());
        return 0;
    }
    BTL_FUZZ_CHECK(r->have_bits.size() == (size_t(r->num_pieces) + 7) / 8);
    std::string bytes = encode_resume(*r);
    auto again = decode_resume(bytes);
    BTL_FUZZ_CHECK(again.ok());
    BTL_FUZZ_CHECK(same(*r, *again));
    BTL_FUZZ_CHECK(encode_resume(*again) == bytes);
    check_trust(*r);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_resume)
