// Torrent places: where the data lives (--incomplete_dir, a completed
// move, RPC set-location), the move itself on the thread pool, crash
// recovery of a move, and the torrent's label.
//
// A move: the resume data is saved first with the journal "moving from A
// to B" (ResumeData::move_from/move_to; its save_path still A), then
// execute_move() runs on the pool.  A complete torrent keeps serving peers
// from A meanwhile (the sources are untouched until every file is in
// place); a read that fails in the short gap between the sources going
// and the switch to B is read again from B, not an error.  Then, on the
// loop, the storage switches to B and resume data is saved without the
// journal, save_path = B.  A failed move is rolled back the same way.  A
// kill -9 at any point leaves the journal, and the next start finishes the
// move before it opens the storage.
#include <algorithm>

#include "btl/engine/torrent.hpp"

namespace btl {

void Torrent::add_places(ResumeData& rd) const {
    rd.placed = placed_;
    rd.label = label_;
    if (move_ && move_->running) {
        rd.move_from = move_->from;
        rd.move_to = move_->to;
        rd.move_placed = move_->placed;
    }
    // Peers stopped for the move are not a pause the user asked for.
    if (move_ && move_->restart_peers) rd.paused = false;
}

bool Torrent::apply_places(const ResumeData& rd) {
    if (!rd.label.empty()) label_ = rd.label;
    if (places_applied_) return false;
    places_applied_ = true;
    if (!rd.move_to.empty()) {
        move_ = std::make_unique<MoveState>();
        move_->from = rd.move_from;
        move_->to = rd.move_to;
        move_->placed = rd.move_placed;
        move_->running = true;
        log(LogLevel::warning, "finishing the interrupted move of the data from " + rd.move_from + " to " + rd.move_to);
        auto plan = plan_move(mi_, rd.move_from, rd.move_to);
        auto work = [plan, prog = move_->progress] { return execute_move(plan, prog.get()); };
        auto done = [this](Status st) {
            auto m = std::move(move_);
            if (st.ok()) {
                save_path_ = m->to;
                placed_ = m->placed;
                if (placed_ == 2) final_path_.clear();
                log(LogLevel::info, "moved the data to " + m->to);
            } else {
                // Leave everything where it is: the journal stays and the
                // next start tries again; this run uses the old place.
                save_path_ = m->from;
                set_error("cannot finish moving the data to " + m->to + ": " + st.error().message);
                return;
            }
            start();
            resume_dirty_ = true;
            save_resume();  // without the journal now
        };
        if (Status q = queue_job(host_.loop(), jobs_.token(), std::move(work), done); !q.ok()) done(q);
        return true;
    }
    if (rd.placed != 0 && !rd.save_path.empty()) {
        const std::string chosen = save_path_;
        save_path_ = rd.save_path;
        placed_ = rd.placed;
        if (placed_ == 2) final_path_.clear();
        // Downloading in an incomplete dir no longer configured: still
        // goes to the save path when complete.
        else if (final_path_.empty() && chosen != save_path_) final_path_ = chosen;
    }
    return false;
}

bool Torrent::choose_first_place() {
    places_applied_ = true;
    if (final_path_.empty() || final_path_ == save_path_) return false;
    placed_ = 1;
    // The data may be at its final place already (a torrent added for data
    // the user has): seed it from there rather than download it again.
    auto has_data = [&](const std::string& path) {
        auto st = host_.open_storage(mi_, path);
        if (!st.ok()) return false;
        for (const auto& fs : (*st)->stat_files())
            if (fs.exists && fs.size > 0) return true;
        return false;
    };
    if (!has_data(save_path_) && has_data(final_path_)) {
        save_path_ = final_path_;
        final_path_.clear();
        placed_ = 2;
    }
    return false;
}

void Torrent::move_if_completed() {
    if (final_path_.empty() || move_ || stopping_ || !complete()) return;
    if (final_path_ == save_path_) {
        final_path_.clear();
        return;
    }
    if (Status s = start_move(final_path_, 2, nullptr); !s.ok()) {
        log(LogLevel::error, s.error().message);
        final_path_.clear();  // not again at every check
    }
}

Status Torrent::move_to_dir(const std::string& dest_dir, std::function<void(Status)> done) {
    std::string to = relocated_save_path(save_path_, dest_dir);
    if (to.empty()) return make_error("cannot move " + save_path_ + " to '" + dest_dir + "'");
    return start_move(to, 2, std::move(done));
}

Status Torrent::relocate_to_dir(const std::string& dest_dir) {
    std::string to = relocated_save_path(save_path_, dest_dir);
    if (to.empty()) return make_error("cannot look for " + save_path_ + " in '" + dest_dir + "'");
    if (move_) return make_error("a move of the data is in progress");
    if (state_ == TorrentState::checking) return make_error("cannot change the place while checking");
    auto st = host_.open_storage(mi_, to);
    if (!st.ok()) return st.error();
    if (storage_) storage_->close_files();
    storage_ = *st;
    ++storage_gen_;
    save_path_ = to;
    placed_ = 2;
    final_path_.clear();
    log(LogLevel::info, "looking for the data at " + to + "; re-checking");
    recheck();
    return Ok{};
}

Status Torrent::start_move(const std::string& to, int64_t placed, std::function<void(Status)> done) {
    if (move_) return make_error("a move of the data is already in progress");
    if (stopping_) return make_error("the torrent is stopping");
    if (!storage_ || state_ == TorrentState::checking) return make_error("cannot move the data while checking");
    if (std::string why = move_refusal(save_path_, to); !why.empty())
        return make_error("cannot move the data to " + to + ": " + why);
    move_ = std::make_unique<MoveState>();
    move_->from = save_path_;
    move_->to = to;
    move_->placed = placed;
    move_->done = std::move(done);
    mark_changed();
    // A download writes: its peers stop for the move (a write must not
    // land in the old place after its file was copied) and start again
    // after.  A complete torrent only reads, and keeps seeding.
    if (!complete() && !paused_) {
        move_->restart_peers = true;
        pause();
    }
    begin_move();
    return Ok{};
}

void Torrent::begin_move() {
    if (!move_ || move_->running) return;
    // A save in flight would overwrite the journal; a write in flight
    // would land in the old place.  The tick tries again.
    if (saving_ || pending_writes_ > 0) {
        host_.set_active(id_, true);
        return;
    }
    move_->running = true;
    ResumeData rd = resume_snapshot();  // with the journal
    log(LogLevel::info, "moving the data from " + move_->from + " to " + move_->to);
    auto plan = plan_move(mi_, move_->from, move_->to);
    auto work = [path = host_.resume_file(mi_.info_hash), rd = std::move(rd), store = storage_, plan,
                 prog = move_->progress]() mutable -> Status {
        if (Status s = store->save_resume(path, std::move(rd), DataSync::sync, nullptr); !s.ok())
            return make_error("cannot record the move in the resume data: " + s.error().message);
        return execute_move(plan, prog.get());
    };
    auto done = [this](Status st) { move_done(std::move(st)); };
    if (Status q = queue_job(host_.loop(), jobs_.token(), std::move(work), done); !q.ok()) move_done(q);
}

void Torrent::move_done(Status st) {
    mark_changed();
    if (stopping_) return;  // interrupted by the stop: the journal finishes it at the next start
    if (!st.ok()) {
        log(LogLevel::error, "moving the data to " + move_->to + " failed: " + st.error().message +
                                 "; moving back what moved");
        move_->rolling_back = true;
        auto back = plan_move(mi_, move_->to, move_->from);
        auto work = [back, prog = move_->progress] { return execute_move(back, prog.get()); };
        auto failed = st.error();
        auto done = [this, failed](Status r) {
            rollback_done(r);
            if (r.ok()) {
                auto m = std::move(move_);
                if (m->restart_peers) resume();
                if (m->done) m->done(failed);
            }
        };
        if (Status q = queue_job(host_.loop(), jobs_.token(), std::move(work), done); !q.ok()) done(q);
        return;
    }
    auto m = std::move(move_);
    storage_->close_files();
    storage_->evict();
    auto ns = host_.open_storage(mi_, m->to);
    save_path_ = m->to;
    placed_ = m->placed;
    if (placed_ == 2) final_path_.clear();
    ++storage_gen_;
    if (!ns.ok()) {
        set_error(ns.error().message);
    } else {
        storage_ = *ns;
        log(LogLevel::info, "moved the data to " + m->to);
    }
    resume_dirty_ = true;
    save_resume(nullptr, DataSync::sync);
    reissue_deferred_reads();
    if (m->restart_peers) resume();
    if (m->done) m->done(Ok{});
}

void Torrent::rollback_done(Status st) {
    storage_->close_files();
    storage_->evict();
    ++storage_gen_;
    if (!st.ok()) {
        // The journal stays: the next start finishes the move forward.
        set_error("moving the data failed and so did moving it back: " + st.error().message, true);
        move_.reset();
        deferred_reads_.clear();
        return;
    }
    move_->running = false;  // lets the save below run (the journal goes)
    log(LogLevel::info, "the data stays at " + save_path_);
    resume_dirty_ = true;
    auto keep = std::move(move_);
    save_resume(nullptr, DataSync::sync);
    move_ = std::move(keep);
    reissue_deferred_reads();
}

bool Torrent::defer_read(uint64_t gen, uint32_t key, uint32_t piece, uint32_t begin, uint32_t length) {
    if (!move_ && gen == storage_gen_) return false;
    deferred_reads_.push_back({key, piece, begin, length});
    if (!move_) reissue_deferred_reads();  // the switch happened meanwhile
    return true;
}

void Torrent::reissue_deferred_reads() {
    auto reads = std::move(deferred_reads_);
    deferred_reads_.clear();
    for (const auto& d : reads) {
        auto it = peers_.find(d.key);
        if (it == peers_.end()) continue;
        // The peer still counts the read in flight; this one ends it.
        read_block(*it->second, d.piece, d.begin, d.length);
    }
}

void Torrent::set_label(std::string label) {
    if (label == label_) return;
    label_ = std::move(label);
    mark_changed();
    resume_dirty_ = true;
    save_resume();
}

}  // namespace btl
