// TorrentFields: the members of Transmission's torrent-get, written from our
// TorrentStatus snapshots with the meaning Transmission gives them
// (docs/rpc-spec.md): status 0-6, eta -1 (not available) / -2 (unknown),
// rates in bytes/s, percentDone 0..1, error 0 / 3 (local error).
//
// Contract: a field list is resolved once per request (resolve_fields);
// names we do not know are left out of the answer, as Transmission does,
// and a field whose value this engine does not know (comment, creator,
// piece size, ...) is not known here either: leaving it out is honest,
// inventing it is not.  Fields that need the detail snapshot (files,
// peers, trackers) say so, so the caller fetches detail only when asked
// and only for torrents that need it.  Writers append JSON in place with
// base/json's string escaper (valid UTF-8 for any name).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btl/engine/engine_types.hpp"

namespace btl::rpc {

struct FieldCtx {
    const TorrentStatus& st;
    const TorrentStatus* detail;  // null unless a field needs it
    int id;
    bool paused;
    int peer_limit;
    int64_t now;  // unix time
};

using FieldWriter = void (*)(std::string& out, const FieldCtx& c);

// When a field needs the detail snapshot: never, only when the torrent has
// peers (counts over the peer list, which is empty otherwise), always.
enum class Detail : uint8_t { no, with_peers, yes };

struct Field {
    std::string_view name;
    FieldWriter write;
    Detail detail;
};
// Whether any of `fields` needs detail for this torrent.
bool needs_detail(const std::vector<const Field*>& fields, const TorrentStatus& st);

// The known fields among `names`, in the order asked (duplicates dropped).
std::vector<const Field*> resolve_fields(const std::vector<std::string>& names);
// Transmission's status code of a snapshot (paused torrents are 0).
int transmission_status(const TorrentStatus& st, bool paused);
// Appends a double as JSON (non-finite as 0: Transmission's clients read numbers).
void append_number(std::string& out, double v);
// The directory Transmission calls downloadDir: the parent of our save path.
std::string download_dir_of(const std::string& save_path);

}  // namespace btl::rpc
