// Storage: a torrent's files on disk.  Blocking; call only from libuv pool
// threads (DiskIo does), never from the loop thread.  Thread-safe: several
// pool threads may read and write different pieces at once.
//
// Contract:
// - Paths: `root` is the user's choice and trusted (for a single-file torrent
//   it is the file's path, for a multi-file torrent the directory holding the
//   files).  Everything below root comes from the (sanitised) metainfo and is
//   opened through FilePool::acquire_under, so a symlink below root is never
//   followed: "refusing to follow symlink ROOT/x/y".
// - Files are created on first write, sparse (no preallocation); the
//   zero-length ones, which no write ever touches, by create_empty_files()
//   when the torrent starts.  Pad files are never created; reads of them
//   return zeros.
// - read() never returns garbage: a missing file is the error "file missing:
//   PATH", a short read "file truncated: PATH".  A file deleted while its fd
//   sits in the pool counts as missing (st_nlink == 0); a write to it
//   creates the file anew instead of filling an invisible inode.
// - Write errors name the file: "disk full writing PATH" (ENOSPC),
//   "disk quota exceeded writing PATH" (EDQUOT), "file too large writing PATH"
//   (EFBIG), otherwise "cannot write PATH: REASON".
// - Every error from the operating system carries its errno
//   (Error::sys_errno), so the torrent can classify it (disk_fault.hpp).
#pragma once
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/core/file_layout.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/disk/file_pool.hpp"

namespace btl {

struct FileStat {
    int64_t size = 0;
    int64_t mtime_ns = 0;
    bool exists = false;
};

// A byte range of the torrent stream, [offset, offset+length).
struct ByteRange {
    int64_t offset = 0;
    int64_t length = 0;
};

class Storage {
public:
    using FileStat = btl::FileStat;

    // Touches nothing on disk: directories (root included) are created on
    // first write.  A null pool gets a private one.  Note the pool caches
    // fds, so a file deleted behind our back stays readable until
    // close_files(); stat_files() shows the truth.
    static Result<std::shared_ptr<Storage>> open(const Metainfo& m, std::string root,
                                                 std::shared_ptr<FilePool> pool);

    // Writes a whole piece (len must equal the piece's size).
    Status write_piece(uint32_t piece, const uint8_t* data, size_t len);
    // Writes any range of the stream (pad-file slices are skipped).
    Status write(int64_t torrent_offset, const uint8_t* data, size_t len);
    // Writes the buffers one after another from torrent_offset: one pwritev
    // per file slice instead of one pwrite per buffer (received blocks that
    // follow each other go down in one call).
    Status write_gather(int64_t torrent_offset, const iovec* parts, size_t count);
    // Strict read: all bytes or an error.
    Status read(int64_t torrent_offset, uint8_t* buf, size_t len);
    // Lenient read for re-checking: missing files and short reads are not
    // errors; those bytes are zeroed and their ranges appended to `missing`
    // (stream offsets).  Fails only on real I/O errors (EIO) or symlinks.
    Status read_lenient(int64_t torrent_offset, uint8_t* buf, size_t len,
                        std::vector<ByteRange>& missing);
    // Reads the piece into scratch (resized) and returns its SHA-1.
    Result<Sha1Digest> hash_piece(uint32_t piece, std::vector<uint8_t>& scratch);

    // Creates the torrent's zero-length files and their directories (no
    // piece ever writes them); the torrent calls it, on the pool, at start.
    // Never truncates: an existing file keeps its data.
    // Files marked in `skip` (unwanted files; shorter = none) are not created.
    Status create_empty_files(const std::vector<bool>& skip = {});

    // Size and mtime of every file (exists=false when absent; pad files
    // report exists=true with their length).
    std::vector<FileStat> stat_files() const;

    // Can files be created below the save path?  Checks the files'
    // directory or, when it does not exist yet, its nearest existing
    // ancestor: "save directory DIR is not writable: Read-only file system".
    // Blocking (a few stat calls).
    Status check_writable() const;

    const FileLayout& layout() const { return layout_; }
    // The directory the files live in (for a single file, its parent).
    const std::string& base_dir() const { return base_dir_; }
    const std::string& root() const { return root_; }
    // Full path of file i (for messages and stat).
    std::string file_path(uint32_t i) const;
    // Drops this torrent's cached fds from the pool (torrent removed/moved).
    void close_files();

    Storage(FileLayout layout, std::string root, std::string base_dir,
            std::vector<std::string> rel_paths, std::shared_ptr<FilePool> pool);

private:
    // Writers to one file contend on the kernel's inode lock, which spins:
    // measured, two pool threads writing one 1 GiB file spent 17% of the
    // download's CPU in rwsem_spin_on_owner.  Writes of one torrent take
    // this (sleeping) mutex instead; hashing stays parallel.
    std::mutex write_mu_;
    Status io(int64_t off, uint8_t* buf, size_t len, bool write,
              std::vector<ByteRange>* missing);
    Result<FilePool::Lease> lease(uint32_t file, bool write, int* err_no);
    // lease(), reopened when the cached fd's file was deleted behind our
    // back (a write creates it anew; a read reports ENOENT).
    Result<FilePool::Lease> live_lease(uint32_t file, bool write, int* err_no);
    Status write_slice_gather(uint32_t file, int64_t file_offset, int64_t len, const iovec*& part,
                              size_t& part_off, const iovec* end);

    FileLayout layout_;
    std::string root_;      // as given
    std::string base_dir_;  // trusted directory that rel_paths_ live under
    std::vector<std::string> rel_paths_;
    std::shared_ptr<FilePool> pool_;
};

}  // namespace btl
