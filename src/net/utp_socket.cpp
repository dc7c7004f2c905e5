#include "btl/net/utp_socket.hpp"

#include <algorithm>

namespace btl {

namespace {

constexpr size_t kMaxReorder = 1000;     // fits the largest selective ACK
constexpr size_t kMaxOutPackets = 1000;  // packets in flight
constexpr uint64_t kMaxRto = 60000000;
constexpr uint64_t kBaseSlotUs = 60000000;  // base delay: minimum per minute, three minutes

bool seq_le(uint16_t a, uint16_t b) { return uint16_t(b - a) < 0x8000; }  // a <= b, wrapping
bool u32_less(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }

}  // namespace

UtpSocket::UtpSocket(UtpConfig cfg, Clock clock, SendFn send)
    : cfg_(cfg), clock_(std::move(clock)), send_(std::move(send)) {
    cwnd_ = 2 * cfg_.max_payload;
    ssthresh_ = cfg_.max_cwnd;
    rto_ = cfg_.initial_timeout_us;
}

void UtpSocket::connect(uint16_t id, uint16_t initial_seq) {
    recv_id_ = id;
    send_id_ = uint16_t(id + 1);
    seq_nr_ = initial_seq;
    state_ = State::SynSent;
    last_recv_ = now();
    syn_tries_ = 1;
    queue_packet(UtpType::Syn, {});
    try_send(true);
}

void UtpSocket::accept(const UtpPacket& syn, uint16_t initial_seq) {
    send_id_ = syn.h.conn_id;
    recv_id_ = uint16_t(syn.h.conn_id + 1);
    seq_nr_ = initial_seq;
    ack_nr_ = syn.h.seq;
    peer_wnd_ = syn.h.wnd;
    state_ = State::SynRecv;
    last_recv_ = now();
    reply_micro_ = uint32_t(last_recv_) - syn.h.ts_us;
    send_state(false);
}

void UtpSocket::incoming(const UtpPacket& p) {
    if (state_ == State::Closed || state_ == State::Idle) return;
    if (p.h.type == UtpType::Reset) return finish("connection reset by peer");
    if (p.h.type == UtpType::Syn) {
        // our STATE answer was lost: say it again
        if (state_ == State::SynRecv && p.h.seq == ack_nr_) send_state(false);
        return;
    }
    // The half-open side takes only a packet that acknowledges its STATE.
    if (state_ == State::SynRecv && p.h.ack != uint16_t(seq_nr_ - 1)) return;
    if (state_ == State::SynSent) {
        if (p.h.type != UtpType::State || p.h.ack != uint16_t(seq_nr_ - 1)) return;
        ack_nr_ = uint16_t(p.h.seq - 1);
        ack_pending_ = true;  // confirms the connection to the acceptor at once
    }
    if (!process_ack(p)) return;  // acknowledges what we never sent
    if (state_ == State::Closed) return;
    const uint64_t t = now();
    last_recv_ = t;
    reply_micro_ = uint32_t(t) - p.h.ts_us;
    if (state_ == State::SynSent || state_ == State::SynRecv) {
        state_ = State::Connected;
        if (events_) events_->utp_connected();
        if (state_ != State::Connected) return;
    }
    if (p.h.type == UtpType::Data || p.h.type == UtpType::Fin) receive_data(p);
    if (state_ != State::Connected) return;
    try_send(false);
    maybe_send_fin();
}

bool UtpSocket::process_ack(const UtpPacket& p) {
    const uint16_t front = uint16_t(seq_nr_ - out_.size());
    const uint16_t prev = uint16_t(front - 1);
    const uint16_t ahead = uint16_t(p.h.ack - prev);
    if (ahead > out_.size()) {
        // Behind what we already know (a late packet) is harmless; ahead of
        // anything we sent is forged or broken.
        return uint16_t(prev - p.h.ack) <= kMaxReorder;
    }
    const uint32_t old_wnd = peer_wnd_;
    peer_wnd_ = p.h.wnd;
    if (p.h.ts_diff_us != 0 && state_ == State::Connected) update_delay(p.h.ts_diff_us);
    size_t acked = ack_through(p.h.ack);
    const bool progress = acked > 0 || ahead > 0;
    bool lost = false;
    if (!p.sack.empty()) acked += apply_sack(p.sack, p.h.ack, lost);
    if (!progress && p.h.type == UtpType::State && cur_window_ > 0 && p.h.ack == last_ack_seen_) {
        if (++dup_acks_ >= 3 && !out_.empty() && !out_.front().acked && !out_.front().need_send &&
            out_.front().tx == 1) {
            out_.front().need_send = true;
            cur_window_ -= out_.front().payload.size();
            dup_acks_ = 0;
            lost = true;
        }
    } else if (progress) {
        dup_acks_ = 0;
    }
    last_ack_seen_ = p.h.ack;
    if (loss_guard_ && seq_le(loss_guard_seq_, p.h.ack)) loss_guard_ = false;
    if (lost) on_loss();
    // A zero window opened: resend a probe that was dropped at once.
    if (old_wnd < cfg_.max_payload && peer_wnd_ >= cfg_.max_payload && !out_.empty() && !out_.front().acked &&
        !out_.front().need_send && out_.front().tx > 0) {
        out_.front().need_send = true;
        cur_window_ -= out_.front().payload.size();
    }
    if (progress) {
        timeouts_ = 0;
        rto_deadline_ = out_.empty() ? 0 : now() + rto_;
    }
    if (acked > 0) {
        ledbat(acked);
        if (events_) events_->utp_acked(acked);
    }
    if (fin_queued_ && out_.empty() && state_ == State::Connected) finish("closed");
    return true;
}

size_t UtpSocket::ack_through(uint16_t ack) {
    size_t bytes = 0;
    const uint64_t t = now();
    while (!out_.empty() && seq_le(uint16_t(seq_nr_ - out_.size()), ack)) {
        OutPkt& op = out_.front();
        if (!op.acked) {
            bytes += op.payload.size();
            if (!op.need_send) cur_window_ -= op.payload.size();
            if (op.tx == 1) update_rtt(t - op.sent_us);
        }
        inflight_payload_ -= op.payload.size();
        out_.pop_front();
    }
    return bytes;
}

size_t UtpSocket::apply_sack(std::string_view sack, uint16_t ack, bool& lost) {
    size_t bytes = 0;
    const uint16_t front = uint16_t(seq_nr_ - out_.size());
    const uint64_t t = now();
    const size_t bits = sack.size() * 8;
    unsigned sacked_above = 0;
    // From the highest bit down, so each hole knows how many packets beyond
    // it arrived.
    for (size_t i = bits; i-- > 0;) {
        const size_t idx = uint16_t(uint16_t(ack + 2 + i) - front);
        if (idx >= out_.size()) continue;
        OutPkt& op = out_[idx];
        if (utp_sack_bit(sack, i)) {
            ++sacked_above;
            if (op.acked) continue;
            op.acked = true;
            bytes += op.payload.size();
            if (!op.need_send) cur_window_ -= op.payload.size();
            if (op.tx == 1) update_rtt(t - op.sent_us);
        } else if (sacked_above >= 3 && !op.acked && !op.need_send && op.tx == 1) {
            op.need_send = true;
            cur_window_ -= op.payload.size();
            lost = true;
        }
    }
    // ack + 1 (the front) is the first hole
    if (sacked_above >= 3 && !out_.empty()) {
        OutPkt& op = out_.front();
        if (!op.acked && !op.need_send && op.tx == 1) {
            op.need_send = true;
            cur_window_ -= op.payload.size();
            lost = true;
        }
    }
    return bytes;
}

void UtpSocket::on_loss() {
    if (loss_guard_) return;
    cwnd_ = std::max(cwnd_ / 2, cfg_.max_payload);
    ssthresh_ = cwnd_;
    slow_start_ = false;
    loss_guard_ = true;
    loss_guard_seq_ = uint16_t(seq_nr_ - 1);
}

void UtpSocket::update_rtt(uint64_t sample) {
    if (rtt_ == 0) {
        rtt_ = std::max<uint64_t>(sample, 1);
        rtt_var_ = sample / 2;
    } else {
        const int64_t delta = int64_t(rtt_) - int64_t(sample);
        rtt_var_ = uint64_t(int64_t(rtt_var_) + ((delta < 0 ? -delta : delta) - int64_t(rtt_var_)) / 4);
        rtt_ = uint64_t(int64_t(rtt_) + (int64_t(sample) - int64_t(rtt_)) / 8);
    }
    rto_ = std::max(rtt_ + 4 * rtt_var_, cfg_.min_timeout_us);
}

void UtpSocket::update_delay(uint32_t sample) {
    const uint64_t t = now();
    if (base_slot_start_ == 0 || t - base_slot_start_ >= kBaseSlotUs) {
        base_delay_[2] = base_delay_[1];
        base_valid_[2] = base_valid_[1];
        base_delay_[1] = base_delay_[0];
        base_valid_[1] = base_valid_[0];
        base_valid_[0] = false;
        base_slot_start_ = t;
    }
    if (!base_valid_[0] || u32_less(sample, base_delay_[0])) {
        base_delay_[0] = sample;
        base_valid_[0] = true;
    }
    uint32_t base = base_delay_[0];
    for (int i = 1; i < 3; ++i)
        if (base_valid_[i] && u32_less(base_delay_[i], base)) base = base_delay_[i];
    const uint32_t d = sample - base;
    our_delay_ = d > 0x80000000u ? 0 : d;
}

void UtpSocket::ledbat(size_t acked) {
    // Grow only while the window is what limits us.
    const bool limited = cur_window_ + acked + cfg_.max_payload >= cwnd_;
    if (slow_start_) {
        if (our_delay_ > cfg_.target_delay_us) {
            slow_start_ = false;
        } else {
            if (limited) cwnd_ += acked;
            if (cwnd_ >= ssthresh_) slow_start_ = false;
        }
    }
    if (!slow_start_) {
        const double target = cfg_.target_delay_us;
        double off = (target - double(our_delay_)) / target;
        off = std::clamp(off, -1.0, 1.0);
        const double factor = double(std::min(acked, cwnd_)) / double(std::max(acked, cwnd_));
        const double gain = double(cfg_.gain_bytes) * off * factor;
        if (gain < 0 || limited) {
            const double next = double(cwnd_) + gain;
            cwnd_ = next < double(cfg_.max_payload) ? cfg_.max_payload : size_t(next);
        }
    }
    cwnd_ = std::clamp(cwnd_, cfg_.max_payload, cfg_.max_cwnd);
}

void UtpSocket::receive_data(const UtpPacket& p) {
    const uint16_t d = uint16_t(p.h.seq - uint16_t(ack_nr_ + 1));
    if (d >= 0x8000) {
        send_state(true);  // a duplicate: our ACK was probably lost
        return;
    }
    if (d >= kMaxReorder || (got_fin_ && !seq_le(p.h.seq, fin_seq_))) return;
    const size_t used = rcvbuf_.size() - rcv_off_ + reorder_bytes_;
    if (!p.payload.empty() && used >= cfg_.recv_window) {
        send_state(true);  // no room: the ACK tells the sender our window
        return;
    }
    if (p.h.type == UtpType::Fin && !got_fin_) {
        got_fin_ = true;
        fin_seq_ = p.h.seq;
    }
    ack_pending_ = true;
    if (d != 0) {
        if (reorder_.emplace(p.h.seq, std::string(p.payload)).second) reorder_bytes_ += p.payload.size();
        return;
    }
    const size_t before = rcvbuf_.size();
    rcvbuf_.append(p.payload);
    ack_nr_ = p.h.seq;
    deliver_in_order();
    if (rcvbuf_.size() > before && events_) events_->utp_readable();
    if (state_ == State::Connected && got_fin_ && ack_nr_ == fin_seq_) {
        send_state(false);
        finish("peer closed the connection");
    }
}

void UtpSocket::deliver_in_order() {
    for (auto it = reorder_.find(uint16_t(ack_nr_ + 1)); it != reorder_.end();
         it = reorder_.find(uint16_t(ack_nr_ + 1))) {
        rcvbuf_.append(it->second);
        reorder_bytes_ -= it->second.size();
        ack_nr_ = it->first;
        reorder_.erase(it);
    }
}

void UtpSocket::consume(size_t n) {
    const bool was_closed = advertised_window() < cfg_.max_payload;
    rcv_off_ += std::min(n, rcvbuf_.size() - rcv_off_);
    if (rcv_off_ == rcvbuf_.size()) {
        rcvbuf_.clear();
        rcv_off_ = 0;
    } else if (rcv_off_ >= (64u << 10) && rcv_off_ * 2 >= rcvbuf_.size()) {  // amortised O(1)
        rcvbuf_.erase(0, rcv_off_);
        rcv_off_ = 0;
    }
    if (was_closed && advertised_window() >= cfg_.max_payload && state_ == State::Connected) send_state(true);
}

uint32_t UtpSocket::advertised_window() const {
    const size_t used = rcvbuf_.size() - rcv_off_ + reorder_bytes_;
    return used >= cfg_.recv_window ? 0 : uint32_t(cfg_.recv_window - used);
}

void UtpSocket::build_sack(std::string& out) const {
    out.clear();
    if (reorder_.empty()) return;
    size_t top = 0;
    for (const auto& kv : reorder_) top = std::max<size_t>(top, uint16_t(kv.first - uint16_t(ack_nr_ + 2)));
    const size_t bytes = std::min(kUtpMaxSackBytes, (top / 8 + 4) / 4 * 4);
    out.assign(bytes, '\0');
    for (const auto& kv : reorder_) {
        const size_t i = uint16_t(kv.first - uint16_t(ack_nr_ + 2));
        if (i < bytes * 8) out[i / 8] = char(uint8_t(out[i / 8]) | 1u << (i % 8));
    }
}

void UtpSocket::send_state(bool with_sack) {
    if (!send_) return;
    UtpHeader h;
    h.type = UtpType::State;
    h.conn_id = send_id_;
    const uint64_t t = now();
    h.ts_us = uint32_t(t);
    h.ts_diff_us = reply_micro_;
    h.wnd = advertised_window();
    h.seq = seq_nr_;
    h.ack = ack_nr_;
    std::string sack, dgram;
    if (with_sack) build_sack(sack);
    encode_utp_packet(h, sack, {}, dgram);
    send_(dgram);
    last_sent_ = t;
    ack_pending_ = false;
}

void UtpSocket::send_reset() {
    if (!send_) return;
    UtpHeader h;
    h.type = UtpType::Reset;
    h.conn_id = send_id_;
    h.ts_us = uint32_t(now());
    h.seq = seq_nr_;
    h.ack = ack_nr_;
    std::string dgram;
    encode_utp_packet(h, {}, {}, dgram);
    send_(dgram);
}

void UtpSocket::send_packet(uint16_t seq, OutPkt& op) {
    const uint64_t t = now();
    if (send_) {
        UtpHeader h;
        h.type = op.type;
        h.conn_id = op.type == UtpType::Syn ? recv_id_ : send_id_;
        h.ts_us = uint32_t(t);
        h.ts_diff_us = op.type == UtpType::Syn ? 0 : reply_micro_;
        h.wnd = advertised_window();
        h.seq = seq;
        h.ack = op.type == UtpType::Syn ? 0 : ack_nr_;
        std::string dgram;
        encode_utp_packet(h, {}, op.payload, dgram);
        send_(dgram);
    }
    if (op.tx > 0) ++resent_;
    if (op.tx < 255) ++op.tx;
    op.sent_us = t;
    op.need_send = false;
    cur_window_ += op.payload.size();
    last_sent_ = t;
    if (reorder_.empty()) ack_pending_ = false;
    if (rto_deadline_ == 0) rto_deadline_ = t + rto_;
}

size_t UtpSocket::window_left() const {
    const size_t limit = std::min<size_t>(cwnd_, peer_wnd_);
    return limit > cur_window_ ? limit - cur_window_ : 0;
}

void UtpSocket::queue_packet(UtpType t, std::string payload) {
    OutPkt op;
    op.type = t;
    inflight_payload_ += payload.size();
    op.payload = std::move(payload);
    out_.push_back(std::move(op));
    seq_nr_ = uint16_t(seq_nr_ + 1);
}

void UtpSocket::try_send(bool partial) {
    if (state_ != State::Connected && state_ != State::SynSent) return;
    const uint16_t front = uint16_t(seq_nr_ - out_.size());
    for (size_t i = 0; i < out_.size(); ++i) {
        OutPkt& op = out_[i];
        if (!op.need_send || op.acked) continue;
        // With nothing in flight one packet always goes: it probes a zero window.
        if (op.payload.size() > window_left() && cur_window_ > 0) return;
        send_packet(uint16_t(front + i), op);
    }
    if (state_ != State::Connected || fin_queued_) return;
    while (out_.size() < kMaxOutPackets && snd_off_ < sndbuf_.size()) {
        const size_t n = std::min(sndbuf_.size() - snd_off_, cfg_.max_payload);
        if (n < cfg_.max_payload && !partial && cur_window_ > 0) break;
        if (n > window_left() && cur_window_ > 0) break;
        queue_packet(UtpType::Data, sndbuf_.substr(snd_off_, n));
        snd_off_ += n;
        send_packet(uint16_t(seq_nr_ - 1), out_.back());
    }
    if (snd_off_ == sndbuf_.size()) {
        sndbuf_.clear();
        snd_off_ = 0;
    } else if (snd_off_ >= (64u << 10) && snd_off_ * 2 >= sndbuf_.size()) {  // amortised O(1)
        sndbuf_.erase(0, snd_off_);
        snd_off_ = 0;
    }
}

void UtpSocket::write(std::string_view bytes) {
    if (state_ == State::Closed || close_requested_) return;
    sndbuf_.append(bytes);
    try_send(false);
}

void UtpSocket::maybe_send_fin() {
    if (!close_requested_ || fin_queued_ || state_ != State::Connected || snd_off_ != sndbuf_.size()) return;
    fin_queued_ = true;
    queue_packet(UtpType::Fin, {});
    send_packet(uint16_t(seq_nr_ - 1), out_.back());
}

void UtpSocket::close() {
    if (state_ == State::Closed) return;
    if (state_ != State::Connected) return abort("closed");
    close_requested_ = true;
    try_send(true);
    maybe_send_fin();
}

void UtpSocket::abort(const std::string&) {
    if (state_ == State::Closed) return;
    if (state_ != State::Idle) send_reset();
    state_ = State::Closed;
}

void UtpSocket::flush() {
    if (state_ != State::Connected) return;
    try_send(true);
    maybe_send_fin();
    if (ack_pending_) send_state(true);
}

void UtpSocket::tick() {
    if (state_ == State::Closed || state_ == State::Idle) return;
    const uint64_t t = now();
    if (state_ == State::SynRecv) {
        if (t - last_recv_ >= 5 * cfg_.initial_timeout_us) finish("handshake timed out");
        return;
    }
    if (rto_deadline_ != 0 && t >= rto_deadline_ && !out_.empty()) on_timeout();
    if (state_ != State::Connected) return;
    if (t - last_recv_ >= cfg_.idle_timeout_us) return finish("idle timeout");
    if (t - last_sent_ >= cfg_.keepalive_us) send_state(false);
}

void UtpSocket::on_timeout() {
    const uint64_t t = now();
    rto_ = std::min(rto_ * 2, kMaxRto);
    if (state_ == State::SynSent) {
        if (++syn_tries_ > cfg_.max_syn_tries) return finish("connection timed out");
        rto_deadline_ = t + rto_;
        send_packet(uint16_t(seq_nr_ - 1), out_.front());
        return;
    }
    if (++timeouts_ > cfg_.max_timeouts) return finish("timed out");
    ssthresh_ = std::max(cwnd_ / 2, 2 * cfg_.max_payload);
    cwnd_ = cfg_.max_payload;
    slow_start_ = true;
    for (OutPkt& op : out_) {
        if (op.acked || op.need_send || op.tx == 0) continue;
        op.need_send = true;
        cur_window_ -= op.payload.size();
    }
    rto_deadline_ = t + rto_;
    try_send(true);
}

void UtpSocket::finish(const std::string& reason) {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    if (events_) events_->utp_closed(reason);
}

}  // namespace btl
