// Resume data: what a torrent must remember between runs so it does not
// re-hash everything at start.  encode/decode are pure; the file helpers do
// blocking I/O (call them from the pool, or at startup).
//
// Contract: decode_resume() is strict (format version, every field typed and
// sized: have_bits must be exactly ceil(num_pieces/8) bytes with zero spare
// bits) and returns one-line errors.  Resume data is a hint, never trusted
// blindly: trusted_pieces() keeps a piece only if the resume says it was
// verified AND every file it touches still has the recorded size and mtime
// AND that file's bytes are known to be on disk: it was fdatasync'ed before
// the save, or the save was made since the machine last booted (the page
// cache still holds whatever was not yet written back); the engine re-checks
// the rest.  save_resume_atomic() never leaves a
// half-written file at `path` (temp file in the same directory, fsync,
// rename, fsync of the directory).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"
#include "btl/core/file_layout.hpp"
#include "btl/disk/storage.hpp"

namespace btl {

// Version 2 added per-file "synced" flags and the boot id; version 1 files
// (every file synced) are still read.
inline constexpr int64_t resume_format_version = 2;

struct ResumeFile {
    int64_t size = 0;      // -1: the file did not exist
    int64_t mtime_ns = 0;
    bool synced = true;    // fdatasync'ed since it last changed
};

struct ResumeData {
    Sha1Digest info_hash{};
    uint32_t num_pieces = 0;
    std::string have_bits;            // BEP 3 bitfield: MSB of byte 0 = piece 0
    std::vector<ResumeFile> files;    // one per file in the torrent
    int64_t uploaded = 0;
    int64_t downloaded = 0;
    std::string save_path;
    int64_t added_time = 0;           // unix seconds
    int64_t completed_time = 0;       // 0 = not completed
    bool paused = false;
    std::string boot_id;              // the machine's boot when saved ("" unknown)
    // ---- places and labels (optional keys; absent in older files)
    // Who chose save_path: 0 the launcher (it may choose again), 1 the
    // torrent downloads in --incomplete_dir and moves on completion, 2 a
    // move put it there (keep it).
    int64_t placed = 0;
    // A move in progress (both set): finished at the next start if the
    // process died (move_storage.hpp); then save_path = move_to and placed
    // = move_placed.  save_path names the old place until the move is done.
    std::string move_from, move_to;
    int64_t move_placed = 2;
    std::string label;                // "" = none
    // Queue, seeding goals, per-torrent limits.  Optional in the file (older
    // files lack them: the defaults below).  Ratios are kept in thousandths
    // (bencode has no reals).
    int64_t queue_key = -1;           // order in the launcher's queue; -1 = none yet
    bool finished = false;            // a seeding goal was reached
    bool goals_waived = false;        // started again after finishing: goals not applied
    int64_t seed_ratio_milli = 0;
    int64_t seed_ratio_mode = 0, seed_idle_minutes = 0, seed_idle_mode = 0;
    int64_t up_limit = 0, down_limit = 0;  // bytes/s
    bool up_limited = false, down_limited = false;
    int64_t priority = 0;             // -1, 0, 1
    // Per-file choices and sequential download; both lists empty when every
    // file is wanted at normal priority, else one entry per file.
    std::vector<bool> files_wanted;
    std::vector<int8_t> file_priorities;  // -1 low, 0 normal, 1 high (Transmission's numbers)
    bool sequential = false;
};

std::string encode_resume(const ResumeData& r);
Result<ResumeData> decode_resume(std::string_view bytes);

Status save_resume_atomic(const std::string& path, std::string_view bytes);

enum class DataSync { sync, no_sync };
// The save a running torrent does (blocking; on the pool): fills rd.files
// from storage.stat_files() and rd.boot_id, then writes atomically.  With
// DataSync::sync it first fdatasync()s every data file not already synced at
// its present size and mtime (by the resume file now at `path`), and marks
// every file synced; an idle torrent's save syncs nothing.  With
// DataSync::no_sync a file stays marked synced only if it is unchanged since
// a save that synced it.  Either way a crash, even of the machine, never
// leaves resume data claiming pieces whose bytes could be lost: unsynced
// files are trusted only within the boot that saved them.  A failed sync
// fails the save (the old resume file stays).  *all_synced (if given) tells
// whether every file ended up marked synced.
Status save_resume_files(const std::string& path, ResumeData rd, const Storage& storage, DataSync mode,
                         bool* all_synced = nullptr);

// This boot of the machine (/proc/sys/kernel/random/boot_id), "" if unknown.
const std::string& current_boot_id();

// Temporary files (PATH.tmp.XXXXXX) that a killed process left beside resume
// files in DATA_DIR/resume, keyed by the 40-hex info-hash they belong to.
// Delete one only while holding that torrent's lock (in DATA_DIR/resume/torrents.lock):
// another process may be writing it otherwise.
std::map<std::string, std::vector<std::string>> find_resume_temps(const std::string& data_dir);
// Reads a whole file, refusing files larger than max.
Result<std::string> read_small_file(const std::string& path, size_t max);

// 1 per piece the resume says verified and whose files are unchanged
// (size and mtime equal to `now`, which comes from Storage::stat_files())
// and either synced or saved in boot `boot_id` (non-empty, equal to
// r.boot_id).  Any mismatch in file count or piece count yields all zeros.
std::vector<uint8_t> trusted_pieces(const ResumeData& r, const FileLayout& layout,
                                    const std::vector<FileStat>& now, const std::string& boot_id);

// Helpers to fill ResumeData from the present state.
std::string pieces_to_bits(const std::vector<uint8_t>& mask);  // 1 byte/piece → BEP 3 bits
std::vector<ResumeFile> resume_files(const std::vector<FileStat>& now);

// DATA_DIR/resume/<40 hex>.resume
std::string resume_path(const std::string& data_dir, const Sha1Digest& info_hash);
// $XDG_STATE_HOME/btlaunchmany, else $HOME/.local/state/btlaunchmany.
std::string default_data_dir();

}  // namespace btl
