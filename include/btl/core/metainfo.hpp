// Metainfo: a parsed, validated .torrent (BEP 3, with BEP 12 announce-list,
// BEP 27 private flag, BEP 19 url-list kept for later).
//
// Contract: parse_metainfo() either returns a Metainfo that is safe to use
// (every path element sanitised so that joining it under a save directory can
// never leave that directory; piece count and file sizes consistent; no
// overflow) or an Error whose message names what was wrong in one line.
// The info-hash is SHA-1 of the raw bytes of the info dictionary exactly as
// they appear in the input, never of a re-encoding.  The result owns all of
// its data (it does not point into the input buffer).
//
// Path rules (applied to info.name and to every element of files[i].path):
// elements "" and "." are dropped; ".." is an error; '/' or '\\' inside an
// element is an error; NUL and other control characters are an error; the
// name may not be empty, "." or "..".  Invalid UTF-8 bytes are rewritten as
// "%XX" (uppercase hex) with a warning.  A file whose path equals an earlier
// file's, or collides with an earlier file used as a directory (or the other
// way round), is renamed deterministically by appending ".1", ".2", ... to
// the colliding element, with a warning.  BEP 47 pad files are exempt from
// collision handling because they are never written.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/base/utf8.hpp"

namespace btl {

struct FileEntry {
    std::vector<std::string> path;  // sanitised elements below the torrent's root
    std::string path_string;        // the elements joined with '/'
    int64_t length = 0;
    int64_t offset = 0;             // where the file starts in the torrent's byte stream
    bool pad = false;               // BEP 47 padding file (attr "p"): never written
};

struct Metainfo {
    Sha1Digest info_hash{};
    std::string info_bytes;          // raw info dictionary (BEP 9 metadata)
    std::string name;                // sanitised info.name
    bool multi_file = false;         // true: files live in a directory called `name`
    int64_t piece_length = 0;
    int64_t total_length = 0;        // the byte stream pieces cover, BEP 47 pad files included
    int64_t content_length = 0;      // the files' bytes without pad files: the size to show
    std::string pieces;              // concatenated 20-byte SHA-1 hashes
    std::vector<FileEntry> files;    // single-file torrents have one entry, path {name}

    std::string announce;
    std::vector<std::vector<std::string>> announce_list;  // BEP 12 tiers
    std::vector<std::string> url_list;                    // BEP 19, kept for later
    bool is_private = false;
    std::string comment;
    std::string created_by;
    int64_t creation_date = 0;       // 0 when absent

    // Non-fatal findings (a name rewritten by sanitising, invalid UTF-8
    // escaped, a duplicate path renamed): shown to the user, not errors.
    std::vector<std::string> warnings;

    uint32_t num_pieces() const { return static_cast<uint32_t>(pieces.size() / 20); }
    Sha1Digest piece_hash(uint32_t i) const;
    int64_t piece_size(uint32_t i) const;  // the last piece may be shorter
    // Every tracker URL, tier by tier (announce-list if present, else announce).
    std::vector<std::vector<std::string>> tracker_tiers() const;
};

struct MetainfoLimits {
    int64_t max_piece_length = int64_t(256) << 20;  // 256 MiB
    size_t max_file_size = size_t(100) << 20;        // bytes of .torrent
    size_t max_files = 1'000'000;
};

// load_metainfo_file refuses a "magnet:" argument with "a magnet link, not
// a .torrent file", and a *.magnet file likewise (core/magnet parses those).  Not supported yet, refused
// with one line naming it (issue 12): "BitTorrent v2-only torrent
// (BEP 52) is not supported yet" (an info dict with only a "file tree").
// A torrent without trackers loads, with the warning "no trackers: DHT is
// not supported yet" (or, with url-list, "... web seeds (BEP 19) are not
// supported yet"), since nothing else would tell why it finds no peer.
bool is_magnet_uri(std::string_view s);
Result<Metainfo> parse_metainfo(std::string_view bytes, const MetainfoLimits& lim = {});
// Reads and parses a .torrent file; errors are prefixed by nothing (the caller
// adds the file name).  Refuses files larger than lim.max_file_size.
Result<Metainfo> load_metainfo_file(const std::string& path, const MetainfoLimits& lim = {});


}  // namespace btl
