// Torrent lifecycle: start (resume data or a check), re-check, pause and
// resume, resume-data saves and the clean stop.
#include "btl/engine/torrent.hpp"

#include <algorithm>
#include <optional>

#include "btl/disk/resume.hpp"

namespace btl {

void Torrent::start() {
    mark_changed();
    started_ms_ = host_.now_ms();
    // Resume data: trust pieces whose files are unchanged; otherwise check.
    auto bytes = read_small_file(host_.resume_file(mi_.info_hash), 64u << 20);
    std::optional<Result<ResumeData>> decoded;
    if (bytes.ok()) decoded.emplace(decode_resume(*bytes));
    const bool usable = decoded && decoded->ok() && (*decoded)->info_hash == mi_.info_hash &&
                        (*decoded)->num_pieces == mi_.num_pieces() && (*decoded)->files.size() == mi_.files.size();
    // Where the data is (a move or --incomplete_dir may have put it
    // elsewhere); a move a crash interrupted is finished first.
    if (usable ? apply_places(**decoded) : choose_first_place()) return;
    auto st = host_.open_storage(mi_, save_path_);
    if (!st.ok()) return set_error(st.error().message);
    storage_ = *st;
    if (bytes.ok()) {
        auto& rd = *decoded;
        if (usable) {
            total_down_before_ = rd->downloaded;
            total_up_before_ = rd->uploaded;
            if (rd->added_time) added_time_ = rd->added_time;
            completed_time_ = rd->completed_time;
            if (rd->paused) paused_ = true;
            load_goal_resume(*rd);
            load_file_choices(&*rd);
            auto trusted = trusted_pieces(*rd, storage_->layout(), storage_->stat_files(), current_boot_id());
            auto claimed = Bitfield::from_bytes(rd->have_bits, mi_.num_pieces());
            uint32_t n_trusted = uint32_t(std::count(trusted.begin(), trusted.end(), uint8_t(1)));
            if (claimed.ok() && n_trusted == claimed->count()) {
                check_done(trusted);
                log(LogLevel::info, "resumed: " + std::to_string(n_trusted) + " of " +
                                        std::to_string(mi_.num_pieces()) + " pieces verified earlier");
                return;
            }
            log(LogLevel::info, "files changed since the last run; re-checking");
            return begin_check(true);
        }
        if (!rd.ok()) log(LogLevel::warning, "ignoring resume data: " + rd.error().message);
    }
    load_file_choices(nullptr);
    // No usable resume data: check only if some data is already there.
    for (const auto& fs : storage_->stat_files())
        if (fs.exists && fs.size > 0) return begin_check(true);
    check_done(std::vector<uint8_t>(mi_.num_pieces(), 0));
}

void Torrent::begin_check(bool) {
    mark_changed();
    state_ = TorrentState::checking;
    check_progress_ = 0;
    auto alive = jobs_.token();
    cancel_check_ = storage_->check(
        mi_.pieces,
        [this, alive](uint32_t done, uint32_t total) {
            if (!alive.expired()) check_progress_ = total ? double(done) / total : 1.0;
        },
        [this, alive](Result<PieceStore::PieceMask> r) {
            if (alive.expired()) return;
            cancel_check_ = nullptr;
            if (stopping_) return;
            if (!r.ok()) return set_error("check failed: " + r.error().message);
            uint32_t n = uint32_t(std::count(r->begin(), r->end(), uint8_t(1)));
            log(LogLevel::info, "checked: " + std::to_string(n) + " of " + std::to_string(mi_.num_pieces()) +
                                    " pieces present");
            check_done(*r);
            resume_dirty_ = true;
        });
}

void Torrent::check_done(const std::vector<uint8_t>& verified) {
    mark_changed();
    have_bytes_ = 0;
    for (uint32_t i = 0; i < mi_.num_pieces() && i < verified.size(); ++i)
        if (verified[i]) {
            picker_.set_have(i);
            have_bytes_ += mi_.piece_size(i);
        }
    apply_file_choices(false);
    was_complete_at_start_ = picker_.complete();
    check_progress_ = 1;
    // Empty files are part of the tree but no piece writes them: create
    // them now, like a download creates every other file.
    create_empty_files();
    if (paused_) {
        state_ = TorrentState::stopped;
        return;
    }
    // Say now, not at the first piece, that nothing can be saved here.
    if (!complete())
        if (auto w = storage_->check_writable(); !w.ok()) return set_error(w.error().message);
    start_swarm();
    move_if_completed();
}

ResumeData Torrent::resume_snapshot() const {
    ResumeData rd;
    rd.info_hash = mi_.info_hash;
    rd.num_pieces = mi_.num_pieces();
    rd.have_bits = picker_.have_bitfield().to_bytes();
    rd.uploaded = total_up_before_ + payload_up_;
    rd.downloaded = total_down_before_ + payload_down_;
    rd.save_path = save_path_;
    rd.added_time = added_time_;
    rd.completed_time = completed_time_;
    rd.paused = paused_;
    fill_goal_resume(rd);
    for (const auto& c : file_choices_) {
        rd.files_wanted.push_back(c.wanted);
        rd.file_priorities.push_back(int8_t(c.priority));
    }
    rd.sequential = sequential_;
    add_places(rd);
    return rd;
}

void Torrent::save_resume(std::function<void()> done, DataSync mode) {
    // While a move runs, the journal written when it began stays the
    // resume data: a save now would stat half-moved files.
    if (!storage_ || state_ == TorrentState::checking || move_running()) {
        if (done) done();
        return;
    }
    if (saving_) {
        save_again_ = true;
        if (mode == DataSync::sync) save_again_mode_ = DataSync::sync;
        if (done) save_again_done_.push_back(std::move(done));
        return;
    }
    saving_ = true;
    resume_dirty_ = false;
    if (mode == DataSync::sync) unsynced_ = false;
    last_save_ms_ = host_.now_ms();
    ResumeData rd = resume_snapshot();
    // Runs whether or not the torrent still exists (stop() waits on it).
    auto after = [this, alive = jobs_.token(), done, mode](const Status& st, bool all_synced) {
        if (!alive.expired()) {
            saving_ = false;
            if (!st.ok()) {
                log(LogLevel::warning, "cannot save resume data: " + st.error().message);
                if (mode == DataSync::sync) unsynced_ = true;
            } else if (!all_synced) {
                unsynced_ = true;  // the next periodic save syncs it
            }
        }
        if (done) done();
        if (!alive.expired() && save_again_) save_deferred();
    };
    struct Saved {
        Status result = Ok{};
        bool all_synced = true;
    };
    // `done` (a removal or shutdown waiting for the resume data) must run
    // even if the torrent is gone by then, so the job's owner is an anchor
    // the completion itself holds; `after` checks the torrent's own token.
    auto anchor = std::make_shared<const char>(0);
    auto queued = queue_job(
        host_.loop(), anchor,
        [path = host_.resume_file(mi_.info_hash), rd = std::move(rd), storage = storage_, mode]() mutable {
            Saved s;
            s.result = storage->save_resume(path, std::move(rd), mode, &s.all_synced);
            return s;
        },
        [after, anchor](Result<Saved> r) {
            if (!r.ok()) return after(Status(r.error()), false);  // cancelled: a failed save
            after(r->result, r->all_synced);
        });
    // Refused by libuv: fails like a save that could not write.
    if (!queued.ok()) after(queued, false);
}

void Torrent::save_deferred() {
    save_again_ = false;
    const DataSync mode = save_again_mode_;
    save_again_mode_ = DataSync::no_sync;
    auto waiters = std::move(save_again_done_);
    save_again_done_.clear();
    std::function<void()> done;
    if (!waiters.empty())
        done = [waiters = std::move(waiters)] {
            for (const auto& w : waiters) w();
        };
    resume_dirty_ = true;
    save_resume(std::move(done), mode);
}

void Torrent::stop(std::function<void()> done) {
    mark_changed();
    if (stopping_) {
        if (done) done();
        return;
    }
    stopping_ = true;
    if (cancel_check_) cancel_check_();
    // A move stops between chunks; the journal finishes it at the next start.
    if (move_) move_->progress->cancel = true;
    close_all_peers("shutting down");
    flush_writes();
    auto alive = jobs_.token();
    auto finish = [this, alive, done] {
        if (alive.expired()) {
            if (done) done();
            return;
        }
        auto save = [this, done] { save_resume(done); };
        if (pending_writes_ > 0)
            after_writes_ = save;
        else
            save();
    };
    if (announcer_)
        announcer_->stop(3000, finish);
    else
        finish();
}

void Torrent::pause() {
    mark_changed();
    if (paused_) return;
    paused_ = true;
    close_all_peers("paused");
    flush_writes();
    if (announcer_) announcer_->stop(3000, nullptr);
    if (state_ != TorrentState::checking && state_ != TorrentState::error) state_ = TorrentState::stopped;
    resume_dirty_ = true;
    save_resume();
}

void Torrent::resume() {
    mark_changed();
    // Starting a finished torrent seeds it again (start_swarm no longer holds it).
    if (finished_) {
        finished_ = false;
        goals_waived_ = true;
        resume_dirty_ = true;
        if (!paused_ && state_ == TorrentState::finished) start_swarm();
    }
    if (!paused_) return;
    paused_ = false;
    // Data found damaged must be re-checked before anything is served again.
    if (state_ == TorrentState::error && needs_recheck_) {
        recheck();
        resume_dirty_ = true;
        return;
    }
    if (state_ == TorrentState::stopped || state_ == TorrentState::error) start_swarm();
    resume_dirty_ = true;
}

void Torrent::recheck() {
    mark_changed();
    if (state_ == TorrentState::checking || !storage_) return;
    close_all_peers("re-checking");
    if (announcer_) announcer_->stop(3000, nullptr);
    announcer_.reset();
    // Blocks written but not verified are forgotten (the check below
    // judges what the files hold); answers of jobs in flight are stale.
    ++write_gen_;
    pending_write_bytes_ -= batch_bytes_;
    batch_bytes_ = 0;
    write_batch_.clear();
    storage_->drop_partial();
    // Forget cached pieces and fds: the files may have been replaced.
    storage_->evict();
    storage_->close_files();
    error_.clear();
    needs_recheck_ = false;
    disk_full_ = false;
    smart_ban_.clear_in_progress();
    picker_ = PiecePicker(mi_.num_pieces(), mi_.piece_length, mi_.total_length, kBlock, host_.random());
    begin_check(true);
    host_.set_active(id_, true);
}

}  // namespace btl
