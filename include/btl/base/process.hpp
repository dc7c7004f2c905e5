// Process-wide settings shared by the programs that run the engine
// (btlaunchmany, btdownloadheadless).
#pragma once

namespace btl {

// Call first in main():
// - SIGPIPE ignored: a peer closing its socket is an error code, not death;
// - SIGXFSZ ignored: past a file-size limit (ulimit -f) a write fails with
//   EFBIG, which the torrent handles like a full disk;
// - at most kMallocArenas malloc arenas (unless MALLOC_ARENA_MAX is set):
//   glibc gives each thread that allocates an arena of its own, and the
//   pool threads that write and hash blocks free buffers the loop thread
//   allocated and the reverse, which left ~10 MiB of fragmented arenas at
//   peak (a 1 GiB download with 16 MiB pieces: 53.7 MiB peak RSS with one
//   arena per thread, 47.6 with one, 51.2 with two; one made the same
//   download slower: every thread then waits on the one arena's lock).
void prepare_engine_process();

constexpr int kMallocArenas = 2;

}  // namespace btl
