// write_file_atomic: replace a file's contents so that readers (and a crash)
// see either the old file or the new one, never a mix: the data goes to a
// temporary file in the same directory, which is then renamed over the
// target.  `durable` adds fsync of the file before the rename and of the
// directory after it, for files whose loss matters (resume data, .torrent
// files); status files rewritten every second skip the fsyncs.
#pragma once
#include <string>
#include <string_view>

#include "btl/base/result.hpp"

namespace btl {

Status write_file_atomic(const std::string& path, std::string_view data, bool durable = true);

// Deletes the temporary files write_file_atomic(path) leaves behind when the
// process is killed between writing and renaming (PATH.tmp.XXXXXX).  Only
// for a file this process is the sole writer of (e.g. under a lock): another
// writer's temporary file would vanish under it.  Returns how many went.
int remove_atomic_temps(const std::string& path);

}  // namespace btl
