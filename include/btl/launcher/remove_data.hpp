// RemoveData: deleting a removed torrent's files, the one place the program
// destroys user data, so its contract is narrow.
//
// Contract: remove_torrent_data(root, path) deletes `path` (a file or a
// directory tree) only when it lies strictly inside `root` (the --save_in
// directory) by its spelling: absolute or relative alike, no "." or ".."
// element, never root itself.  Nothing is followed: a symbolic link met
// anywhere, `path` itself included, is unlinked as a link and its target
// is never opened, so a link planted in the data cannot make it delete
// anything outside `path`.  The walk goes through directory descriptors
// (openat/unlinkat with O_NOFOLLOW), so swapping a directory for a link
// while it runs does not redirect it either.  Directories left empty
// between `path` and root (saveas style 3's STEM) are removed too.
// A missing `path` is success (nothing was written yet).
//
// Blocking (one syscall per file): call it on the thread pool
// (base/async_job.hpp), never on the loop.
#pragma once
#include <string>

#include "btl/base/result.hpp"

namespace btl {

// Whether remove_torrent_data would touch `path` at all (pure).
bool removable_data_path(const std::string& root, const std::string& path);
Status remove_torrent_data(const std::string& root, const std::string& path);

}  // namespace btl
