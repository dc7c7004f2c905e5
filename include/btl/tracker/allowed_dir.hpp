// --allowed_dir support: the set of info-hashes the tracker may track, read
// from the .torrent files in one directory.
//
// Contract: scan_allowed_dir() reads the directory (not recursively), hashes
// the raw bytes of each file's info dictionary (never a re-encoding), and
// reuses the previous scan's result for files whose size and mtime have not
// changed, so a periodic rescan of a large directory is cheap.  It does
// blocking file I/O: run it on the libuv thread pool or before the loop
// starts.  Unreadable or malformed files are skipped with one warning line
// each; they never abort the scan.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"

namespace btl {

struct DigestKeyHash {
    size_t operator()(const Sha1Digest& d) const {
        uint64_t v;
        static_assert(sizeof v <= sizeof(Sha1Digest));
        __builtin_memcpy(&v, d.data(), sizeof v);
        return static_cast<size_t>(v);
    }
};

// info-hash -> torrent name (from info/name; empty if absent)
using AllowedMap = std::unordered_map<Sha1Digest, std::string, DigestKeyHash>;

struct AllowedScan {
    struct FileEntry {
        int64_t size = 0;
        int64_t mtime_ns = 0;
        Sha1Digest info_hash{};
        std::string name;
        bool valid = false;
    };
    std::unordered_map<std::string, FileEntry> files;  // by file name
    AllowedMap allowed;
    std::vector<std::string> warnings;
};

// Info-hash and name of one .torrent file's bytes.
struct TorrentIdentity {
    Sha1Digest info_hash{};
    std::string name;
};
Result<TorrentIdentity> torrent_identity(std::string_view torrent_bytes);

// Fails only if the directory itself cannot be read.
Result<AllowedScan> scan_allowed_dir(const std::string& dir, const AllowedScan* previous);

}  // namespace btl
