// Peer: the protocol state machine of one connection (BEP 3 and the BEP 6
// fast extension).  It parses what the remote sends, keeps what it has, our
// requests to it and its requests to us, and talks to its torrent only
// through PeerOwner, a narrow interface (the torrent implements it; a test
// may too).  The torrent drives a peer through the public queries and
// commands below; nothing reaches its fields.  Loop thread only.
//
// What a peer may send (everything else is a violation: the peer is
// disconnected and a warning names it and the reason):
// - frames up to one 16 KiB block message (or the bitfield, if longer);
//   the length prefix alone decides, before anything is buffered;
// - unknown message ids are skipped, like libtorrent, so an extension we
//   do not know does not cut a peer off;
// - a bitfield or have_all after the first message is merged and can only
//   add pieces (aria2 sends a full bitfield instead of 20+ haves, and
//   have_all when it completes); have_none is only valid first;
// - requests of at most 16 KiB inside a piece we have (BEP 3), at most
//   2,000 queued; while choked they are rejected (fast) or ignored;
// - blocks we never requested are dropped; more of them than requests we
//   ever sent is flooding;
// - extension messages (BEP 10, id 20) only when both handshakes set bit
//   0x10; their frames are bounded apart (kMaxExtendedFrame: one ut_metadata
//   data piece), a malformed extended handshake is a violation naming the
//   field, unknown sub-ids are ignored;
// - a peer must read: past 16 MiB queued to it, or 60 s without a write
//   completing, it is dropped (blocks are only served below 4 MiB queued).
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "btl/base/rate.hpp"
#include "btl/core/bitfield.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/core/piece_picker.hpp"
#include "btl/core/wire.hpp"
#include "btl/disk/disk_io.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/engine/torrent_host.hpp"
#include "btl/ext/extension.hpp"
#include "btl/net/peer_transport.hpp"

namespace btl {

class Peer;

// What a peer needs from its torrent.
class PeerOwner {
public:
    static constexpr uint32_t kBlock = 16384;  // the request size we use and accept

    virtual ~PeerOwner() = default;
    virtual TorrentHost& host() = 0;
    [[nodiscard]] virtual const Metainfo& metainfo() const = 0;
    virtual PiecePicker& picker() = 0;

    // ---- the torrent's state
    [[nodiscard]] virtual bool can_download() const = 0;     // requests may be sent
    [[nodiscard]] virtual bool disk_backlogged() const = 0;  // too much waits for the disk
    [[nodiscard]] virtual bool serving() const = 0;          // requests may be served
    [[nodiscard]] virtual bool complete() const = 0;
    [[nodiscard]] virtual bool super_seeding() const = 0;
    // Seeding: a request of `peer` for `piece` goes before duplicates.
    [[nodiscard]] virtual bool upload_fresh(uint32_t piece, uint32_t peer) const = 0;
    // Seeding: less than one whole copy of `piece` went out.
    [[nodiscard]] virtual bool upload_unsent(uint32_t piece) const = 0;
    // We offer ut_pex in our extended handshake (not on private torrents).
    [[nodiscard]] virtual bool pex_enabled() const = 0;

    // ---- events from the peer
    virtual void on_peer_has(Peer& p, uint32_t piece) = 0;  // a have or bitfield bit
    virtual void super_seed_update() = 0;                    // the peer said what it has
    virtual void maybe_unchoke(Peer& p) = 0;                 // it became interested
    // An accepted block: complete, requested from this peer, of the right
    // length; `data` is its payload, kept from the transport's buffer.
    virtual void on_block(Peer& from, BlockRef b, SharedBytes data) = 0;
    virtual void peer_closed(Peer& p, const std::string& reason) = 0;  // destroys p
    // Its handshake named its peer id (peer_id() is set); the owner may
    // disconnect it (a duplicate) before anything more is sent.
    virtual void peer_identified(Peer& p) = 0;
    // BEP 10: its extended handshake arrived (reqq and upload_only are
    // applied already); the owner may disconnect it.
    virtual void on_ext_handshake(Peer& p) = 0;
    // A ut_pex or ut_metadata message (`payload`: after the sub-id).
    virtual void on_extended(Peer& p, ExtMsg m, std::string_view payload) = 0;

    // ---- uploads
    // The global upload limit: true if `bytes` may go out now.
    [[nodiscard]] virtual bool take_upload(uint32_t bytes) = 0;
    virtual void note_upload(uint32_t piece, uint32_t bytes, uint32_t peer) = 0;
    // We choked the peer or it is closing: what it was being sent is open.
    virtual void stopped_serving(Peer& p) = 0;
    // Reads a block from storage; the answer comes back as send_block() or
    // the torrent fails (and read_done() is called either way).
    virtual void read_block(Peer& p, uint32_t piece, uint32_t begin, uint32_t length) = 0;
};

// Our requests in flight to one peer (pipelining).  The queue follows the
// peer's measured rate, kRequestQueueSeconds of data, between
// kRequestQueueMin and a cap.  1.5 s covers a round trip and the peer's
// disk latency many times over; more only puts more pieces in flight
// from a shared source (a seed feeding a swarm), where nobody else can see
// them: with 3 s, 8 leechers of one rate-limited seed had ~6 pieces each
// in flight from it and the seed sent 1.23 copies of the file.  The cap stays strictly below the `reqq` the peer advertises in its
// BEP 10 extension handshake: Transmission 3.00 advertises 512, accepts 511
// and answers the excess with a batch of rejects about 8 s late, which
// stalled every download from it while we queued up to 1,000.  Until a
// peer has said its reqq (the extension handshake is not in yet), 250:
// below what the clients we test with advertise, and still 4 MiB in
// flight, 1.5 s of data at 2.7 MB/s per peer.
inline constexpr double kRequestQueueSeconds = 1.5;
inline constexpr size_t kRequestQueueMin = 16;
inline constexpr size_t kRequestQueueUnknownCap = 250;
inline constexpr size_t kRequestQueueMax = 1000;
// The cap for a peer that advertised `peer_reqq` (0 = not said).
size_t request_queue_cap(uint32_t peer_reqq);
// The queue a peer that delivers `bytes_per_s` should get, from the current
// one (which decays by a quarter per call when the rate drops); within
// [min(kRequestQueueMin, cap), cap].
size_t request_queue_target(double bytes_per_s, size_t current, size_t cap);

// Requests a peer may keep queued with us (our `reqq`); more is a violation.
inline constexpr size_t kMaxTheirRequests = 2000;
// Longest extended message (id 20) a peer may send: a 16 KiB ut_metadata
// data piece, its dictionary and the ids.
inline constexpr uint32_t kMaxExtendedFrame = 2 + 16 * 1024 + 1024;

class Peer : public PeerConnectionHandler {
public:
    Peer(PeerOwner& t, uint32_t key, std::unique_ptr<PeerTransport> conn, bool incoming);
    ~Peer() override;

    // ---- PeerConnectionHandler
    void on_connected() override;
    size_t on_data(std::string_view buffered) override;
    void on_sent(size_t bytes) override;
    void on_closed(const std::string& reason) override;

    // ---- commands
    // Incoming peers: their handshake was read by the session.
    void accept_handshake(const Handshake& hs);
    void disconnect(const std::string& why);
    // The peer broke the protocol: disconnect, and the torrent logs `why`
    // as a warning naming the peer.
    void violation(const std::string& why);
    void tick(int64_t now_ms);
    void we_have_piece(uint32_t piece);
    void set_choking(bool choke);
    void update_interest();
    void fill_requests();
    void serve_requests();
    // Sends at most one block; false if nothing could be sent.  Seeding,
    // `tier` says which requests may go (core/seed_uploads.hpp): fresh ones
    // (a piece nobody started, or this peer's), unsent ones (less than a
    // whole copy went out, maybe to another peer), or any.  A request of the
    // best tier present goes first (looking a bounded way into the queue).
    enum class ServeTier { fresh, unsent, any };
    bool serve_one(ServeTier tier = ServeTier::any);
    void cancel_block(BlockRef b);
    // Our requests go back to the picker; nothing is sent (the peer choked
    // us, or is gone).
    void abort_all_requests();
    // Our requests go back to the picker and a cancel is sent for each.
    void cancel_all_requests();
    // The same for our requests of one piece only; returns how many.
    size_t cancel_piece_requests(uint32_t piece);
    // A storage read for one of its requests finished (send_block follows
    // if it succeeded).
    void read_done() { --disk_reads_in_flight_; }
    // Sends a block read from storage; false (nothing sent) when the peer
    // was choked or closed meanwhile, or the read came back short.
    bool send_block(uint32_t piece, uint32_t begin, uint32_t length, const BufferPtr& data);
    // BEP 16: reveals one piece with `have` (straight to the transport, as
    // the super-seed bookkeeping decided it).
    void reveal_piece(uint32_t piece);
    // The peer's BEP 10 `reqq` (0 = not said): from now on we keep fewer
    // requests in flight to it than that.
    void set_peer_reqq(uint32_t reqq);
    // BEP 10: sends `payload` under the PEER's id for `m`; false (nothing
    // sent) when it does not speak `m`.
    bool send_extended(ExtMsg m, std::string_view payload);
    // Our extended handshake (again, when what it says changed: upload_only).
    void send_ext_handshake();
    // The connection is up (incoming peers arrive connected).
    void set_tcp_connected() { tcp_connected_ = true; }

    // ---- queries
    PeerTransport& conn() { return *conn_; }
    const PeerTransport& conn() const { return *conn_; }
    uint32_t key() const { return key_; }
    const PeerId& peer_id() const { return peer_id_; }
    bool ready() const { return handshake_done_; }
    bool closed() const { return closed_; }
    bool is_seed() const { return has_.size() && has_.all(); }
    // ---- BEP 10
    bool extensions() const { return ext_; }  // both set the extension bit
    bool got_ext_handshake() const { return got_ext_; }
    // It speaks `m` (its handshake named an id for it).
    bool supports(ExtMsg m) const { return got_ext_ && ext_state_.remote_id(m) != 0; }
    const ExtHandshake& ext_handshake() const { return ext_state_; }
    // The port it listens on (its `p`), 0 when not said.
    uint16_t listen_port() const { return ext_state_.listen_port > 0 ? uint16_t(ext_state_.listen_port) : 0; }
    // BEP 21: it said upload_only (a seed or a partial seed).
    bool upload_only() const { return ext_state_.upload_only == 1; }
    const Bitfield& pieces() const { return has_; }
    // It sent its first message (and so said what it has), BEP 16.
    bool said_what_it_has() const { return got_first_message_; }
    const std::string& violation_reason() const { return violation_; }
    bool am_choking() const { return am_choking_; }
    bool am_interested() const { return am_interested_; }
    bool peer_choking() const { return peer_choking_; }
    bool peer_interested() const { return peer_interested_; }
    bool snubbed() const { return snubbed_; }
    bool incoming() const { return incoming_; }
    bool tcp_connected() const { return tcp_connected_; }
    int64_t connected_ms() const { return connected_ms_; }
    int64_t unchoked_ms() const { return unchoked_ms_; }
    size_t requests_in_flight() const { return outstanding_.size(); }
    size_t request_queue_target() const { return queue_target_; }
    size_t their_requests() const { return their_requests_.size(); }
    double down_rate(int64_t now_ms) const { return down_.rate(now_ms); }
    double up_rate(int64_t now_ms) const { return up_.rate(now_ms); }
    PeerStatus status(int64_t now_ms) const;

private:
    bool handle_message(const Message& m);
    // ---- one handler per message id (peer.cpp's table); false = dropped
    bool on_choke(const Message& m);
    bool on_unchoke(const Message& m);
    bool on_interested(const Message& m);
    bool on_not_interested(const Message& m);
    bool on_have(const Message& m);
    bool on_bitfield(const Message& m);
    bool on_request(const Message& m);
    bool on_piece(const Message& m);
    bool on_cancel(const Message& m);
    bool on_have_all(const Message& m);
    bool on_have_none(const Message& m);
    bool on_reject(const Message& m);
    bool on_fast_hint(const Message& m);  // suggest, allowed_fast
    bool on_extended(const Message& m);
    bool take_ext_handshake(std::string_view payload);
    bool on_port(const Message& m);       // BEP 5: the peer's DHT port
    uint16_t dht_port() const;            // ours to announce, 0 = none
    void send_dht_port();

    using Handler = bool (Peer::*)(const Message&);
    static const std::array<Handler, 21> kHandlers;  // indexed by MsgId
    // A bitfield or have_all: taken whole as the first message, merged
    // (only adding pieces) later.  The one place both are handled.
    bool take_piece_set(const Bitfield& theirs);
    bool fail(const std::string& why);  // violation(why), then false
    // Queues bytes to the socket; a peer that lets more than kMaxQueued
    // pile up is not reading and is disconnected.
    void send(std::string bytes);
    // Starts the write-stall clock when the send queue goes from empty to busy.
    void note_sending();
    void send_handshake();
    void send_bitfield();
    // Its handshake was read: remember what it supports, answer with our bitfield.
    void handshake_read(const Handshake& hs);
    // The frame bound for what sits at the front of `rest`.
    uint32_t frame_limit(std::string_view rest) const;
    void set_have(uint32_t piece);

    PeerOwner& t_;
    uint32_t key_;
    std::unique_ptr<PeerTransport> conn_;
    bool am_choking_ = true, am_interested_ = false;
    bool peer_choking_ = true, peer_interested_ = false;
    bool snubbed_ = false, incoming_ = false, tcp_connected_ = false;
    int64_t connected_ms_ = 0, unchoked_ms_ = -1;
    RateMeter down_, up_;
    bool handshake_done_ = false, sent_handshake_ = false, got_first_message_ = false;
    bool first_message_ = false;  // the message being handled is the first
    bool fast_ = false, closed_ = false;
    bool ext_ = false, got_ext_ = false;  // BEP 10 negotiated; its handshake arrived
    ExtHandshake ext_state_;
    PeerId peer_id_{};
    std::string violation_;
    uint32_t max_message_ = 0;       // longest frame this peer may send us
    uint64_t blocks_requested_ = 0;  // every request we ever sent them
    uint64_t blocks_accepted_ = 0, blocks_unrequested_ = 0;
    int64_t last_write_done_ms_ = 0;
    Bitfield has_;
    uint32_t interesting_count_ = 0;  // pieces they have that we lack
    std::deque<BlockRef> outstanding_;  // our requests to them, oldest first
    struct Request {
        uint32_t piece, begin, length;
    };
    std::deque<Request> their_requests_;
    int disk_reads_in_flight_ = 0;
    size_t queue_target_ = kRequestQueueMin;
    size_t queue_cap_ = kRequestQueueUnknownCap;  // request_queue_cap(reqq)
    int64_t last_block_ms_ = 0, last_recv_ms_ = 0, last_send_ms_ = 0;
};

}  // namespace btl
