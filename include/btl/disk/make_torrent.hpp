// MakeTorrent: builds a .torrent (BEP 3) from a file or a directory tree.
//
// Contract: collect_sources() lists the regular files under a path in a
// stable order (byte order of the '/'-joined relative path, which is also
// mktorrent's order, so both tools hash the same byte stream); symbolic links
// and other non-regular entries are skipped so a tree can never pull in data
// from outside itself.  hash_pieces() hashes the concatenated files with
// pieces spanning file boundaries, on several threads, each worker taking
// contiguous piece ranges and reading with large sequential pread()s.
// make_torrent() returns the bencoded document; write_file_atomic() puts it
// in place via a temporary file and rename(), so a reader never sees half a
// torrent.  Nothing here prints: progress goes through a callback.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "btl/base/atomic_file.hpp"
#include "btl/base/result.hpp"

namespace btl {

struct SourceFile {
    std::string fs_path;                // where to read it
    std::vector<std::string> rel_path;  // elements below the torrent root (single file: {name})
    int64_t length = 0;
};

struct SourceTree {
    std::string name;        // basename of the input path
    bool multi_file = false; // input was a directory
    std::vector<SourceFile> files;
    int64_t total_length = 0;
};

// Lists the files under `path` (a regular file or a directory).
Result<SourceTree> collect_sources(const std::string& path);

// The piece size exponent for a total size: the smallest power of two in
// [2^14, 2^24] giving at most 2000 pieces (so ~1000-2000 pieces for mid sizes).
int auto_piece_pow2(int64_t total_length);

// Called with (bytes hashed so far, total bytes), from the calling thread.
using ProgressFn = std::function<void(int64_t, int64_t)>;

// Concatenated 20-byte SHA-1 hashes of every piece.  threads == 0: one per
// hardware thread.
Result<std::string> hash_pieces(const SourceTree& tree, int64_t piece_length, unsigned threads = 0,
                                const ProgressFn& progress = {});

struct MakeTorrentOptions {
    std::string announce;
    std::vector<std::vector<std::string>> announce_list;  // BEP 12 tiers; empty: none
    int piece_size_pow2 = 0;                              // 0: auto_piece_pow2()
    std::string comment;
    std::string created_by;
    bool is_private = false;
    bool no_date = false;
    int64_t creation_date = 0;  // 0: now (unless no_date)
    unsigned threads = 0;
    ProgressFn progress;
};

// Parses "url1,url2|url3" into tiers {{url1,url2},{url3}}; empty parts dropped.
std::vector<std::vector<std::string>> parse_announce_list(const std::string& spec);

// The bencoded torrent for `path`.
Result<std::string> make_torrent(const std::string& path, const MakeTorrentOptions& opt);


}  // namespace btl
