// Moving a torrent's data to another place (--incomplete_dir,
// --move_completed_to, RPC torrent-set-location): planning is pure, the
// move itself is blocking and runs on the thread pool, never on the loop.
//
// Contract:
// - plan_move() lists, for every file of the torrent that is not a BEP 47
//   pad file, where it is and where it goes.  A save path keeps its last
//   element: moving SAVE/x (a file or a directory of files) to DIR gives
//   DIR/x (relocated_save_path).
// - execute_move() is idempotent, so it is also the crash recovery: run
//   again with the same plan after a kill -9 at any point, it finishes the
//   move and loses nothing.  Per file: rename(2) when both places share a
//   file system; otherwise (EXDEV) the bytes are copied in 1 MiB chunks to
//   DEST.btlmove, fsync'ed, given the source's mtime (so resume data still
//   matches) and renamed to DEST.  Only when every file is at its
//   destination and the destination directories are fsync'ed are the
//   sources unlinked, and then their emptied directories removed.  So at
//   every instant each file is whole in one of the two places, and the
//   source is authoritative while it exists: a file found at the source is
//   moved (again); a file found only at the destination is done; a file in
//   neither place was never written (an incomplete download) and is
//   skipped.  A DEST.btlmove a killed copy left is overwritten by the next
//   copy or removed when the file could be renamed instead.
// - Symlinks are never followed at the source (O_NOFOLLOW) and a symlink
//   where a file should be is an error naming it.
// - MoveProgress is read from the loop while the pool writes it.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/core/metainfo.hpp"

namespace btl {

struct MoveFile {
    std::string from, to;
    int64_t length = 0;
};

struct MovePlan {
    std::string from_root, to_root;  // the save paths before and after
    std::vector<MoveFile> files;
    bool multi_file = false;
    // Tests set it to exercise the cross-file-system path on one file system.
    bool force_copy = false;
};

struct MoveProgress {
    std::atomic<int64_t> bytes_done{0};
    std::atomic<int64_t> bytes_total{0};
    // Set from the loop (shutdown): the move stops between chunks with the
    // error "move interrupted", before any source is unlinked, so running
    // it again later finishes it.
    std::atomic<bool> cancel{false};
};

// DIR/x for a save path SAVE/x ("" when save_path has no last element).
std::string relocated_save_path(const std::string& save_path, const std::string& dest_dir);
// The plan for moving the files of `m` saved at from_root to to_root.
MovePlan plan_move(const Metainfo& m, const std::string& from_root, const std::string& to_root);
// Why a move from `from` to `to` cannot be done ("" when it can): the same
// place, or one inside the other.
std::string move_refusal(const std::string& from, const std::string& to);

// Blocking; see the contract above.  Errors name the file and the reason.
Status execute_move(const MovePlan& plan, MoveProgress* progress = nullptr);

}  // namespace btl
