// Per-file choices (wanted, priority) and sequential download: what the
// picker is told, the wanted bytes that progress and eta count, and the
// state change when the wanted pieces are all here (seeding what we have)
// or a file is wanted again (downloading).
#include <algorithm>

#include "btl/engine/torrent.hpp"

namespace btl {

namespace {

Status check_indices(const std::vector<uint32_t>& files, size_t n) {
    for (uint32_t f : files)
        if (f >= n)
            return make_error("no file " + std::to_string(f) + " in this torrent (it has " + std::to_string(n) +
                              (n == 1 ? " file)" : " files)"));
    return Ok{};
}

}  // namespace

Status Torrent::set_files_wanted(const std::vector<uint32_t>& files, bool wanted) {
    if (Status st = check_indices(files, mi_.files.size()); !st.ok()) return st;
    file_choices_.resize(mi_.files.size());
    for (uint32_t f : files) file_choices_[f].wanted = wanted;
    apply_file_choices(true);
    return Ok{};
}

Status Torrent::set_files_priority(const std::vector<uint32_t>& files, FilePriority p) {
    if (Status st = check_indices(files, mi_.files.size()); !st.ok()) return st;
    file_choices_.resize(mi_.files.size());
    for (uint32_t f : files) file_choices_[f].priority = p;
    apply_file_choices(true);
    return Ok{};
}

void Torrent::set_sequential(bool on) {
    if (sequential_ == on) return;
    sequential_ = on;
    picker_.set_sequential(on);
    log(LogLevel::info, on ? "sequential download on" : "sequential download off (rarest first)");
    mark_changed();
    resume_dirty_ = true;
    if (state_ != TorrentState::checking) save_resume();
}

void Torrent::apply_file_choices(bool changed) {
    mark_changed();
    picker_.set_sequential(sequential_);
    const bool was_done = picker_.wanted_complete();
    const uint32_t n = mi_.num_pieces();
    if (all_default(file_choices_)) {
        file_choices_.clear();
        // A fresh picker already holds one priority for every piece; only a
        // torrent that had choices needs them made equal again.
        if (changed)
            for (uint32_t i = 0; i < n; ++i) picker_.set_piece_priority(i, kPieceNormal);
        wanted_bytes_ = mi_.total_length;
        have_wanted_bytes_ = have_bytes_;
    } else {
        const auto prio = piece_priorities(storage_ ? storage_->layout() : FileLayout(mi_), file_choices_);
        wanted_bytes_ = have_wanted_bytes_ = 0;
        for (uint32_t i = 0; i < n; ++i) {
            picker_.set_piece_priority(i, prio[i]);
            if (prio[i] == 0) continue;
            wanted_bytes_ += mi_.piece_size(i);
            if (picker_.have(i)) have_wanted_bytes_ += mi_.piece_size(i);
        }
    }
    if (!changed) return;
    resume_dirty_ = true;
    if (state_ != TorrentState::checking) create_empty_files();  // an empty file may be wanted now
    const bool done = picker_.wanted_complete();
    const bool running = !paused_ && !stopping_ &&
                         (state_ == TorrentState::downloading || state_ == TorrentState::seeding);
    if (running && was_done && !done) {
        // A file wanted again: download; peers hear we are no longer upload-only.
        state_ = TorrentState::downloading;
        started_ms_ = host_.now_ms();
        log(LogLevel::info, "files wanted again; downloading " + std::to_string(wanted_bytes_ - have_wanted_bytes_) +
                                " bytes");
        for (auto& [k, p] : peers_)
            if (p->ready() && !p->closed()) p->send_ext_handshake();
        book_.make_all_eligible(host_.now_ms());
        if (announcer_) announcer_->want_peers();
        connect_more();
        host_.set_active(id_, true);
    }
    for (auto& [k, p] : peers_)
        if (p->ready() && !p->closed()) p->update_interest();
    if (running && !was_done && done) return on_complete();  // saves the resume data
    if (state_ != TorrentState::checking) save_resume();
}

void Torrent::load_file_choices(const ResumeData* rd) {
    file_choices_.clear();
    if (rd) {
        // Resume data says what the user chose; a magnet's so= was applied
        // when it was first added and is not applied again.
        sequential_ = rd->sequential;
        if (rd->files_wanted.size() == mi_.files.size()) {
            file_choices_.resize(mi_.files.size());
            for (size_t i = 0; i < file_choices_.size(); ++i) {
                file_choices_[i].wanted = rd->files_wanted[i];
                FilePriority p = FilePriority::normal;
                if (i < rd->file_priorities.size() && priority_from_int(rd->file_priorities[i], p))
                    file_choices_[i].priority = p;
            }
        }
    } else if (!select_only_.empty()) {
        file_choices_ = select_only(mi_.files.size(), select_only_);
        size_t n = size_t(std::count_if(file_choices_.begin(), file_choices_.end(),
                                        [](const FileChoice& c) { return c.wanted; }));
        log(LogLevel::info, "magnet so=: " + std::to_string(n) + " of " + std::to_string(mi_.files.size()) +
                                " files wanted");
    }
    select_only_.clear();
}

void Torrent::create_empty_files() {
    if (!storage_) return;
    // Most torrents have no empty file: no pool job for them (one per
    // torrent was 100,000 pool round trips while loading as many).
    bool any = false;
    for (const auto& f : mi_.files) any = any || (f.length == 0 && !f.pad);
    if (!any) return;
    std::vector<bool> unwanted;  // unwanted files are not created
    for (const auto& c : file_choices_) unwanted.push_back(!c.wanted);
    storage_->create_empty_files(
        [this, alive = jobs_.token()](Status s) {
            if (!alive.expired() && !s.ok()) log(LogLevel::warning, "cannot create empty file: " + s.error().message);
        },
        std::move(unwanted));
}

void Torrent::note_wanted_piece(uint32_t piece) {
    if (picker_.piece_priority(piece) > 0) have_wanted_bytes_ += mi_.piece_size(piece);
    // The order pieces arrive in, for whoever checks a sequential download.
    if (sequential_) log(LogLevel::debug, "piece " + std::to_string(piece) + " verified");
}

void Torrent::fill_file_status(TorrentStatus& st) const {
    const int64_t pl = mi_.piece_length;
    for (size_t i = 0; i < mi_.files.size(); ++i) {
        const auto& f = mi_.files[i];
        FileStatus fs;
        fs.path = f.path_string;
        fs.length = f.length;
        if (i < file_choices_.size()) {
            fs.wanted = file_choices_[i].wanted;
            fs.priority = int(file_choices_[i].priority);
        }
        if (f.length > 0 && pl > 0) {
            const int64_t end = f.offset + f.length;
            for (int64_t p = f.offset / pl; p <= (end - 1) / pl; ++p) {
                if (!picker_.have(uint32_t(p))) continue;
                fs.bytes_completed += std::min(end, (p + 1) * pl) - std::max(f.offset, p * pl);
            }
            fs.progress = double(fs.bytes_completed) / double(f.length);
        } else {
            fs.progress = 1;
        }
        st.files.push_back(std::move(fs));
    }
}

}  // namespace btl
