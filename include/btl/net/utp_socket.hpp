// UtpSocket: one uTP (BEP 29) connection's state machine, with LEDBAT
// congestion control.  It is pure: time comes from an injected clock, and
// datagrams leave through an injected send function (the owner knows the
// remote address), so tests run two ends over a simulated link.
//
// - Connection ids: the dialler picks recv_id r and sends with r + 1; the
//   acceptor receives on r + 1 and sends with r.  STATE packets carry the
//   next seq_nr without consuming it; DATA, SYN and FIN consume one each.
// - Sending: bytes written are cut into packets of up to max_payload bytes;
//   a packet leaves while the bytes in flight stay within min(cwnd, the
//   peer's window).  A partial packet leaves only at flush() (end of a loop
//   turn) or when nothing is in flight, so small writes coalesce.
// - Acknowledgement: ack_nr is the last in-order seq; out-of-order packets
//   (at most kMaxReorder ahead, within our window) are kept and reported in a
//   selective ACK.  ACKs are deferred to flush(), except for duplicates.
// - Loss: three duplicate ACKs, or three packets selectively acknowledged
//   past a hole, resend the hole and halve cwnd (once per window); a timeout
//   (max(rtt + 4 rtt_var, 500 ms), doubling on each expiry) resends from the
//   oldest packet with cwnd of one packet.  After max_timeouts expiries in a
//   row without progress the connection fails, which also ends a peer whose
//   window stays zero forever (zero-window probes are resent on timeouts).
// - LEDBAT: the one-way delay samples echoed by the peer (timestamp
//   difference) minus the lowest one of the last few minutes (base delay)
//   steer cwnd towards target_delay: +gain·(target−delay)/target per window.
// - A packet acknowledging a seq never sent is ignored whole.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "btl/net/utp_packet.hpp"

namespace btl {

struct UtpConfig {
    size_t max_payload = 1400;
    size_t recv_window = 1u << 20;        // receive buffer we advertise
    size_t max_cwnd = 8u << 20;
    uint32_t target_delay_us = 100000;
    size_t gain_bytes = 3000;             // max cwnd growth per RTT at zero delay
    uint64_t min_timeout_us = 500000;
    uint64_t initial_timeout_us = 1000000;
    unsigned max_timeouts = 6;            // consecutive expiries before failing
    unsigned max_syn_tries = 3;
    uint64_t keepalive_us = 29000000;
    uint64_t idle_timeout_us = 180000000;
};

// What the connection reports to its user.
class UtpSocketEvents {
public:
    virtual ~UtpSocketEvents() = default;
    virtual void utp_connected() = 0;
    virtual void utp_readable() = 0;               // received() grew
    virtual void utp_acked(size_t bytes) = 0;      // bytes of written data acknowledged
    virtual void utp_closed(const std::string& reason) = 0;
};

class UtpSocket {
public:
    enum class State { Idle, SynSent, SynRecv, Connected, Closed };
    using Clock = std::function<uint64_t()>;  // microseconds, monotonic
    using SendFn = std::function<void(std::string_view datagram)>;

    UtpSocket(UtpConfig cfg, Clock clock, SendFn send);
    void set_events(UtpSocketEvents* e) { events_ = e; }
    void detach_sender() { send_ = nullptr; }

    // Dial: sends a SYN with recv_id = id (the peer will send to id).
    void connect(uint16_t id, uint16_t initial_seq = 1);
    // Accept: answers the SYN; our first seq is initial_seq.
    void accept(const UtpPacket& syn, uint16_t initial_seq);
    void incoming(const UtpPacket& p);
    void tick();   // timers: call every ~100 ms
    void flush();  // end of a loop turn: deferred ACKs and partial packets

    void write(std::string_view bytes);
    size_t pending_bytes() const { return sndbuf_.size() - snd_off_ + inflight_payload_; }
    std::string_view received() const { return std::string_view(rcvbuf_).substr(rcv_off_); }
    void consume(size_t n);
    void close();                       // FIN after the queued data
    void abort(const std::string& why);  // RESET now

    State state() const { return state_; }
    uint16_t recv_id() const { return recv_id_; }
    uint16_t send_id() const { return send_id_; }
    size_t cwnd() const { return cwnd_; }
    size_t in_flight() const { return cur_window_; }
    uint64_t rto_us() const { return rto_; }
    uint32_t last_delay_us() const { return our_delay_; }
    uint64_t last_received_us() const { return last_recv_; }
    uint64_t resent_packets() const { return resent_; }

private:
    struct OutPkt {
        std::string payload;
        UtpType type = UtpType::Data;
        uint64_t sent_us = 0;
        uint8_t tx = 0;          // transmissions so far
        bool acked = false;
        bool need_send = true;   // not sent yet, or marked lost
    };

    uint64_t now() const { return clock_(); }
    size_t window_left() const;
    void send_packet(uint16_t seq, OutPkt& op);
    void send_state(bool with_sack);
    void send_reset();
    void try_send(bool partial);
    void queue_packet(UtpType t, std::string payload);
    bool process_ack(const UtpPacket& p);
    size_t ack_through(uint16_t ack);
    size_t apply_sack(std::string_view sack, uint16_t ack, bool& lost);
    void on_loss();
    void update_rtt(uint64_t sample);
    void update_delay(uint32_t ts_diff);
    void ledbat(size_t acked);
    void receive_data(const UtpPacket& p);
    void deliver_in_order();
    void on_timeout();
    void finish(const std::string& reason);
    void maybe_send_fin();
    uint32_t advertised_window() const;
    void build_sack(std::string& out) const;

    UtpConfig cfg_;
    Clock clock_;
    SendFn send_;
    UtpSocketEvents* events_ = nullptr;
    State state_ = State::Idle;
    uint16_t recv_id_ = 0, send_id_ = 0;

    // send side
    uint16_t seq_nr_ = 1;                // next seq to use
    std::deque<OutPkt> out_;             // seq_nr_ - out_.size() .. seq_nr_ - 1
    std::string sndbuf_;
    size_t snd_off_ = 0;
    size_t cur_window_ = 0;              // bytes sent and not acknowledged
    size_t inflight_payload_ = 0;        // payload bytes held in out_
    size_t cwnd_ = 0, ssthresh_ = 0;
    bool slow_start_ = true;
    uint32_t peer_wnd_ = 0;
    uint16_t last_ack_seen_ = 0;
    unsigned dup_acks_ = 0;
    uint16_t loss_guard_seq_ = 0;        // no second halving until this is acked
    bool loss_guard_ = false;
    bool close_requested_ = false, fin_queued_ = false;

    // receive side
    uint16_t ack_nr_ = 0;
    std::string rcvbuf_;
    size_t rcv_off_ = 0;
    std::map<uint16_t, std::string> reorder_;  // key: distance from ack_nr_+1
    size_t reorder_bytes_ = 0;
    bool got_fin_ = false;
    uint16_t fin_seq_ = 0;
    bool ack_pending_ = false;

    // timing
    uint64_t rtt_ = 0, rtt_var_ = 0, rto_ = 0, rto_deadline_ = 0;
    unsigned timeouts_ = 0, syn_tries_ = 0;
    uint64_t last_recv_ = 0, last_sent_ = 0;
    uint32_t reply_micro_ = 0;
    uint32_t base_delay_[3] = {0, 0, 0};
    bool base_valid_[3] = {false, false, false};
    uint64_t base_slot_start_ = 0;
    uint32_t our_delay_ = 0;
    uint64_t resent_ = 0;
};

}  // namespace btl
