// What a torrent shows: TorrentStatus snapshots and the generation views
// use to skip unchanged rows.
#include "btl/engine/torrent.hpp"

#include <algorithm>


namespace btl {

uint64_t Torrent::status_fingerprint() const {
    // status_gen_ moves exactly when mark_changed() runs: on every tick (a
    // torrent with peers, a check, a pending save, or a download younger
    // than kStalledAfterMs ticks every second), on every event that changes
    // what status() shows, and whenever the announcer's state moves (its
    // on_change hook).  The same calls push the torrent to the host's
    // changed list, which is what the launcher reads.
    uint64_t h = status_gen_ * 0x9e3779b97f4a7c15ull;
    if (state_ == TorrentState::downloading && host_.now_ms() - started_ms_ > kStalledAfterMs) h ^= 1;
    return h;
}

TorrentStatus Torrent::status(bool detail) const {
    TorrentStatus st;
    int64_t now = host_.now_ms();
    st.info_hash = mi_.info_hash;
    st.name = mi_.name;
    st.save_path = save_path_;
    st.label = label_;
    if (move_) {
        st.moving_to = move_->to;
        int64_t total = move_->progress->bytes_total, done = move_->progress->bytes_done;
        st.move_progress = total > 0 ? double(done) / double(total) : 0;
    }
    st.state = state_;
    st.total_size = mi_.total_length;
    st.have_bytes = have_bytes_;
    // Progress and eta count the wanted pieces only (all of them by default).
    st.wanted_bytes = wanted_bytes_;
    st.have_wanted_bytes = have_wanted_bytes_;
    st.sequential = sequential_;
    st.progress = wanted_bytes_ ? double(have_wanted_bytes_) / double(wanted_bytes_) : 1.0;
    st.check_progress = check_progress_;
    st.down_rate = down_meter_.rate(now);
    st.up_rate = up_meter_.rate(now);
    st.downloaded = payload_down_;
    st.uploaded = payload_up_;
    st.total_downloaded = total_down_before_ + payload_down_;
    st.total_uploaded = total_up_before_ + payload_up_;
    // Distinct peers: peer_identified() disconnects a duplicate as soon as
    // its handshake names a peer we have, so the open ones are distinct; a
    // dropped duplicate waiting for its close is not a second peer.
    for (auto& [k, p] : peers_) {
        if (!p->ready() || p->closed()) continue;
        ++st.peers;
        if (p->is_seed()) ++st.seeds;
    }
    if (state_ == TorrentState::downloading && st.down_rate < 1 && now - started_ms_ > kStalledAfterMs)
        st.state = TorrentState::stalled;
    if (st.down_rate > 0 && !complete()) st.eta_s = int64_t(double(wanted_bytes_ - have_wanted_bytes_) / st.down_rate);
    if (complete()) st.eta_s = 0;
    st.error = error_;
    st.needs_recheck = state_ == TorrentState::error && needs_recheck_;
    if (disk_full_ && state_ == TorrentState::downloading) {
        st.state = TorrentState::error;
        st.retry_in_s = std::max<int64_t>(0, (disk_retry_.next_ms() - now + 999) / 1000);
        st.error = error_ + "; seeding what we have, looking for free space in " + std::to_string(st.retry_in_s) + " s";
    }
    if (announcer_) {
        st.tracker_message = announcer_->last_message();
        st.trackers = announcer_->status(now);  // a few entries: cheap enough for every row
    }
    st.added_time = added_time_;
    st.num_pieces = mi_.num_pieces();
    st.pieces_have = picker_.num_have();
    st.limits = limits_;
    st.completed_time = completed_time_;
    if (detail) {
        for (auto& [k, p] : peers_)
            if (p->ready()) {
                st.peer_list.push_back(p->status(now));
                if (from_pex(*p)) st.peer_list.back().flags += 'X';  // heard of through PEX
                PeerStatus& ps = st.peer_list.back();
                ps.source = ps.incoming ? "incoming" : peer_source_name(book_.source(ps.address));
            }
        fill_file_status(st);
    }
    return st;
}

}  // namespace btl
