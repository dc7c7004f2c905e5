// Peer: the protocol state machine of one connection.  See peer.hpp.
#include "btl/engine/peer.hpp"

#include <algorithm>
#include <array>

namespace btl {

namespace {
constexpr uint32_t kBlock = PeerOwner::kBlock;
constexpr size_t kSendHighWater = 4u << 20;  // bytes queued to the socket
constexpr int kMaxDiskReads = 16;
// Blocks are served only below kSendHighWater, so an honest peer never has
// much more than that queued; past kMaxQueued, or when nothing queued to it
// has been written for kWriteStallMs, it has stopped reading.
constexpr size_t kMaxQueued = 16u << 20;
constexpr int64_t kWriteStallMs = 60'000;
// Late blocks (after a cancel, choke or snub) are legitimate, but every one
// answers a request we once sent; more blocks than requests is flooding.
constexpr uint64_t kUnrequestedSlack = 64;
}  // namespace

size_t request_queue_cap(uint32_t peer_reqq) {
    if (peer_reqq == 0) return kRequestQueueUnknownCap;
    // Strictly below: Transmission 3.00 advertises 512 but queues only 511
    // and rejects the rest seconds later, in one batch.
    return std::clamp<size_t>(size_t(peer_reqq) - 1, 1, kRequestQueueMax);
}

size_t request_queue_target(double bytes_per_s, size_t current, size_t cap) {
    // kRequestQueueSeconds of data at the measured rate, decaying by half a
    // tick when the rate drops rather than collapsing at once.  The decay
    // also bounds what slow start (one more per block received) adds
    // between two ticks: with R blocks a second the queue settles at
    // max(rate target, R), not at 3 R as with a quarter.
    size_t rate_target = size_t(std::max(0.0, bytes_per_s) * kRequestQueueSeconds / kBlock);
    size_t decayed = current - current / 2;
    return std::clamp(std::max(rate_target, decayed), std::min(kRequestQueueMin, cap), cap);
}

void Peer::set_peer_reqq(uint32_t reqq) {
    queue_cap_ = request_queue_cap(reqq);
    queue_target_ = std::min(queue_target_, queue_cap_);
}

Peer::Peer(PeerOwner& t, uint32_t key, std::unique_ptr<PeerTransport> conn, bool in)
    : t_(t), key_(key), conn_(std::move(conn)), incoming_(in) {
    conn_->set_handler(this);
    connected_ms_ = t_.host().now_ms();
    last_recv_ms_ = last_send_ms_ = last_block_ms_ = last_write_done_ms_ = connected_ms_;
    has_ = Bitfield(t_.metainfo().num_pieces());
    // Nothing we ask for is longer than a block; only a bitfield can be.
    max_message_ = std::max<uint32_t>(9 + kBlock, 1 + (t_.metainfo().num_pieces() + 7) / 8);
}

Peer::~Peer() = default;

void Peer::disconnect(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    conn_->close(why);
}

void Peer::violation(const std::string& why) {
    if (closed_) return;
    violation_ = why;
    disconnect(why);
}

void Peer::note_sending() {
    if (conn_->queued_bytes() == 0) last_write_done_ms_ = t_.host().now_ms();
}

void Peer::send(std::string bytes) {
    if (closed_) return;
    note_sending();
    conn_->send(std::move(bytes));
    if (conn_->queued_bytes() > kMaxQueued)
        violation("stopped reading (" + std::to_string(conn_->queued_bytes()) + " bytes waiting to be sent)");
}

void Peer::on_connected() {
    tcp_connected_ = true;
    t_.host().slot_event(SlotEvent::connect_finished);
    send_handshake();
}

void Peer::send_handshake() {
    if (sent_handshake_) return;
    sent_handshake_ = true;
    std::string out;
    append_handshake(out, t_.metainfo().info_hash, t_.host().identity().peer_id, true, true, dht_port() != 0);
    send(std::move(out));
}

void Peer::send_bitfield() {
    const auto& have = t_.picker().have_bitfield();
    std::string out;
    if (t_.super_seeding()) {  // BEP 16: pieces are revealed one by one with `have`
        if (fast_) append_simple(out, MsgId::have_none);
    } else if (fast_ && have.all())
        append_simple(out, MsgId::have_all);
    else if (fast_ && have.none())
        append_simple(out, MsgId::have_none);
    else if (!have.none())
        append_bitfield(out, have);
    if (!out.empty()) send(std::move(out));
}

void Peer::handshake_read(const Handshake& hs) {
    peer_id_ = hs.peer_id;
    fast_ = hs.supports_fast();
    ext_ = hs.supports_extended();  // we always set the bit
    handshake_done_ = true;
    t_.peer_identified(*this);
    if (closed_) return;  // a duplicate: dropped before we answer
    send_handshake();
    send_bitfield();
    send_ext_handshake();
    if (hs.supports_dht()) send_dht_port();
}

void Peer::accept_handshake(const Handshake& hs) {
    if (hs.peer_id == t_.host().identity().peer_id) return disconnect("connected to ourselves");
    handshake_read(hs);
}

size_t Peer::on_data(std::string_view buf) {
    size_t used = 0;
    last_recv_ms_ = t_.host().now_ms();
    if (!handshake_done_) {
        if (buf.size() < kHandshakeSize) return 0;
        auto hs = parse_handshake(buf.substr(0, kHandshakeSize));
        if (!hs.ok()) {
            violation("bad handshake: " + hs.error().message);
            return 0;
        }
        if (hs->info_hash != t_.metainfo().info_hash) {
            violation("handshake for another torrent (info-hash " + to_hex(hs->info_hash) + ")");
            return 0;
        }
        if (hs->peer_id == t_.host().identity().peer_id) {
            t_.host().note_self_address(conn_->remote());
            disconnect("connected to ourselves");
            return 0;
        }
        used = kHandshakeSize;
        handshake_read(*hs);  // our handshake went out when we connected
        if (closed_) return used;  // a duplicate
    }
    while (!closed_ && used < buf.size()) {
        ParseResult r = parse_message(buf.substr(used), frame_limit(buf.substr(used)));
        if (r.status == ParseStatus::need_more) break;
        if (r.status == ParseStatus::error) {
            violation("protocol error: " + r.error);
            return used;
        }
        used += r.consumed;
        if (!handle_message(r.msg)) break;
    }
    return used;
}

void Peer::set_have(uint32_t piece) {
    if (has_.get(piece)) return;
    has_.set(piece);
    t_.picker().inc_availability(piece);
    t_.on_peer_has(*this, piece);
    if (!t_.picker().have(piece)) {
        ++interesting_count_;
        update_interest();
    }
}

void Peer::update_interest() {
    bool want = interesting_count_ > 0 && t_.can_download();
    // Files are skipped: the pieces it has that we lack may all be unwanted.
    if (want && t_.picker().has_unwanted_missing()) want = t_.picker().is_interesting(has_);
    if (want == am_interested_) {
        if (want) fill_requests();
        return;
    }
    am_interested_ = want;
    std::string out;
    append_simple(out, want ? MsgId::interested : MsgId::not_interested);
    send(std::move(out));
    if (want) fill_requests();
}

// One small handler per message id, in a table indexed by the id (the
// shape of libtorrent's bt_peer_connection): a handler returns false when
// it dropped the peer.  Ids without a handler (port, extended when not
// negotiated, unknown ones) are ignored, as libtorrent does.
const std::array<Peer::Handler, 21> Peer::kHandlers = [] {
    std::array<Handler, 21> at{};
    at[size_t(MsgId::choke)] = &Peer::on_choke;
    at[size_t(MsgId::unchoke)] = &Peer::on_unchoke;
    at[size_t(MsgId::interested)] = &Peer::on_interested;
    at[size_t(MsgId::not_interested)] = &Peer::on_not_interested;
    at[size_t(MsgId::have)] = &Peer::on_have;
    at[size_t(MsgId::bitfield)] = &Peer::on_bitfield;
    at[size_t(MsgId::request)] = &Peer::on_request;
    at[size_t(MsgId::piece)] = &Peer::on_piece;
    at[size_t(MsgId::cancel)] = &Peer::on_cancel;
    at[size_t(MsgId::suggest)] = &Peer::on_fast_hint;
    at[size_t(MsgId::have_all)] = &Peer::on_have_all;
    at[size_t(MsgId::have_none)] = &Peer::on_have_none;
    at[size_t(MsgId::reject)] = &Peer::on_reject;
    at[size_t(MsgId::allowed_fast)] = &Peer::on_fast_hint;
    at[size_t(MsgId::port)] = &Peer::on_port;
    return at;
}();

bool Peer::handle_message(const Message& m) {
    if (m.keepalive) return true;
    // Extension messages may come before the bitfield (BEP 10 does not
    // order them): they do not count as the first message.
    if (m.id == MsgId::extended) return on_extended(m) && !closed_;
    first_message_ = !got_first_message_;
    got_first_message_ = true;
    const size_t id = size_t(m.id);
    Handler h = id < kHandlers.size() ? kHandlers[id] : nullptr;
    if (h && !(this->*h)(m)) return false;
    return !closed_;
}

// BEP 5: our DHT's port, to peers whose handshake says they run a DHT node.
// Never on private torrents.
bool Peer::fail(const std::string& why) {
    violation(why);
    return false;
}

bool Peer::on_choke(const Message&) {
    peer_choking_ = true;
    abort_all_requests();
    return true;
}

bool Peer::on_unchoke(const Message&) {
    peer_choking_ = false;
    fill_requests();
    return true;
}

bool Peer::on_interested(const Message&) {
    peer_interested_ = true;
    t_.maybe_unchoke(*this);
    return true;
}

bool Peer::on_not_interested(const Message&) {
    peer_interested_ = false;
    return true;
}

bool Peer::on_have(const Message& m) {
    if (m.piece >= t_.metainfo().num_pieces())
        return fail("have for piece " + std::to_string(m.piece) + " out of range");
    set_have(m.piece);
    return true;
}

bool Peer::on_bitfield(const Message& m) {
    auto bf = Bitfield::from_bytes(m.payload, t_.metainfo().num_pieces());
    if (!bf.ok()) return fail(bf.error().message);
    return take_piece_set(*bf);
}

bool Peer::on_have_all(const Message&) {
    if (!fast_) return fail("have_all without the fast extension");
    Bitfield all(t_.metainfo().num_pieces());
    all.set_all();
    return take_piece_set(all);
}

// BEP 3 puts the bitfield first, but aria2 sends have_none and later
// bitfields again, or have_all instead of a batch of haves when it
// completes: a later set is merged, so it can only add pieces, never take
// back what the peer announced.
bool Peer::take_piece_set(const Bitfield& theirs) {
    const uint32_t n = t_.metainfo().num_pieces();
    if (first_message_) {
        has_ = theirs;
        t_.picker().inc_availability(has_);
        interesting_count_ = 0;
        for (uint32_t i = 0; i < n; ++i)
            if (has_.get(i) && !t_.picker().have(i)) ++interesting_count_;
    } else {
        for (uint32_t i = 0; i < n; ++i)
            if (theirs.get(i)) set_have(i);
    }
    if (has_.all() && t_.complete()) {
        disconnect("both sides are seeds");
        return false;
    }
    if (first_message_) t_.super_seed_update();
    update_interest();
    return true;
}

bool Peer::on_have_none(const Message&) {
    if (!fast_) return fail("have_none without the fast extension");
    if (!first_message_) return fail("have_none sent after other messages");
    t_.super_seed_update();
    return true;
}

bool Peer::on_request(const Message& m) {
    const uint32_t n = t_.metainfo().num_pieces();
    auto bad = check_block_request(m.piece, m.begin, m.length, n, m.piece < n ? t_.metainfo().piece_size(m.piece) : 0);
    if (bad) return fail("bad request: " + *bad);
    if (!t_.picker().have(m.piece)) return fail("request for piece " + std::to_string(m.piece) + " we do not have");
    if (am_choking_ || !t_.serving()) {
        if (fast_) {
            std::string out;
            append_reject(out, m.piece, m.begin, m.length);
            send(std::move(out));
        }
        return true;
    }
    if (their_requests_.size() >= kMaxTheirRequests) return fail("too many outstanding requests");
    their_requests_.push_back({m.piece, m.begin, m.length});
    serve_requests();
    return true;
}

bool Peer::on_cancel(const Message& m) {
    auto it = std::find_if(their_requests_.begin(), their_requests_.end(), [&](const Request& r) {
        return r.piece == m.piece && r.begin == m.begin && r.length == m.length;
    });
    if (it != their_requests_.end()) their_requests_.erase(it);
    return true;
}

bool Peer::on_reject(const Message& m) {
    if (!fast_) return fail("reject without the fast extension");
    if (m.begin % kBlock) return true;
    BlockRef b{m.piece, m.begin / kBlock};
    auto it = std::find(outstanding_.begin(), outstanding_.end(), b);
    if (it != outstanding_.end()) {
        outstanding_.erase(it);
        t_.picker().abort_request(b, key_);
    }
    return true;
}

bool Peer::on_fast_hint(const Message&) {
    if (!fast_) return fail("fast-extension message without the fast extension");
    return true;  // allowed_fast and suggest are hints we do not act on
}

bool Peer::on_piece(const Message& m) {
    const uint32_t n = t_.metainfo().num_pieces();
    if (m.piece >= n) {
        violation("piece index " + std::to_string(m.piece) + " out of range");
        return false;
    }
    BlockRef b{m.piece, m.begin / kBlock};
    // Blocks nearly always arrive in the order requested: look at the front first.
    auto it = m.begin % kBlock != 0 ? outstanding_.end()
              : !outstanding_.empty() && outstanding_.front() == b
                  ? outstanding_.begin()
                  : std::find(outstanding_.begin(), outstanding_.end(), b);
    if (it == outstanding_.end()) {
        // Late (cancelled, choked, snubbed_) or never requested: dropped.
        ++blocks_unrequested_;
        if (blocks_accepted_ + blocks_unrequested_ > blocks_requested_ + kUnrequestedSlack) {
            violation("sent " + std::to_string(blocks_unrequested_) + " blocks we did not request");
            return false;
        }
        return true;
    }
    if (m.payload.size() != t_.picker().block_length(b)) {
        violation("block of " + std::to_string(m.payload.size()) + " bytes, expected " +
                  std::to_string(t_.picker().block_length(b)));
        return false;
    }
    outstanding_.erase(it);
    ++blocks_accepted_;
    int64_t now = t_.host().now_ms();
    down_.add(int64_t(m.payload.size()), now);
    last_block_ms_ = now;
    snubbed_ = false;
    if (queue_target_ < queue_cap_) ++queue_target_;  // slow start, one per block
    // The payload is kept where it was read (no copy for TCP, plain or RC4).
    t_.on_block(*this, b, conn_->keep(m.payload));
    // Refill in batches: one request message per received block would cost a
    // write syscall per 16 KiB.
    if (!closed_ && outstanding_.size() + std::min<size_t>(16, queue_target_ / 4) <= queue_target_) fill_requests();
    return !closed_;
}

void Peer::fill_requests() {
    if (closed_ || !handshake_done_ || peer_choking_ || !am_interested_ || !t_.can_download() ||
        t_.disk_backlogged())
        return;
    if (outstanding_.size() >= queue_target_) return;
    std::vector<BlockRef> picked;
    t_.picker().pick(has_, queue_target_ - outstanding_.size(), key_, picked);
    if (picked.empty()) return;
    std::string out;
    out.reserve(picked.size() * 17);
    for (const auto& b : picked) {
        append_request(out, b.piece, b.block * kBlock, t_.picker().block_length(b));
        outstanding_.push_back(b);
    }
    blocks_requested_ += picked.size();
    last_send_ms_ = t_.host().now_ms();
    send(std::move(out));
}

void Peer::cancel_block(BlockRef b) {
    auto it = std::find(outstanding_.begin(), outstanding_.end(), b);
    if (it == outstanding_.end()) return;
    outstanding_.erase(it);
    std::string out;
    append_cancel(out, b.piece, b.block * kBlock, t_.picker().block_length(b));
    send(std::move(out));
}

void Peer::cancel_all_requests() {
    auto outstanding = outstanding_;
    for (const auto& b : outstanding) {
        t_.picker().abort_request(b, key_);
        cancel_block(b);
    }
}

size_t Peer::cancel_piece_requests(uint32_t piece) {
    std::vector<BlockRef> mine;
    for (const auto& b : outstanding_)
        if (b.piece == piece) mine.push_back(b);
    for (const auto& b : mine) {
        t_.picker().abort_request(b, key_);
        cancel_block(b);
    }
    return mine.size();
}

bool Peer::send_block(uint32_t piece, uint32_t begin, uint32_t length, const BufferPtr& data) {
    if (am_choking_ || closed_ || data->size() < length) return false;
    note_sending();
    std::string hdr;
    append_piece_header(hdr, piece, begin, length);
    conn_->send_with_payload(std::move(hdr), data, 0, length);
    up_.add(length, t_.host().now_ms());
    return true;
}

void Peer::reveal_piece(uint32_t piece) {
    std::string out;
    append_have(out, piece);
    conn_->send(std::move(out));
}

void Peer::abort_all_requests() {
    for (const auto& b : outstanding_) t_.picker().abort_request(b, key_);
    outstanding_.clear();
}

void Peer::we_have_piece(uint32_t piece) {
    if (closed_ || !handshake_done_) return;
    if (has_.get(piece)) {
        if (interesting_count_ > 0) --interesting_count_;
        update_interest();
    }
    // Also to peers that have the piece (not to seeds): a super-seed (BEP 16)
    // shows us pieces and learns from our haves whom we passed them on to.
    if (!is_seed()) {
        std::string out;
        append_have(out, piece);
        send(std::move(out));
    }
}

void Peer::set_choking(bool choke) {
    if (closed_ || !handshake_done_ || am_choking_ == choke) return;
    am_choking_ = choke;
    std::string out;
    append_simple(out, choke ? MsgId::choke : MsgId::unchoke);
    if (choke) {
        if (fast_)
            for (const auto& r : their_requests_) append_reject(out, r.piece, r.begin, r.length);
        their_requests_.clear();
        unchoked_ms_ = -1;
        t_.stopped_serving(*this);
    } else {
        unchoked_ms_ = t_.host().now_ms();
    }
    send(std::move(out));
}

bool Peer::serve_one(ServeTier tier) {
    if (closed_ || am_choking_ || their_requests_.empty() || disk_reads_in_flight_ >= kMaxDiskReads ||
        conn_->queued_bytes() >= kSendHighWater)
        return false;
    auto it = their_requests_.begin();
    if (t_.complete()) {
        // Seeding: the best tier present in a bounded window of the queue
        // goes first (blocks may go out of order).
        auto end = their_requests_.size() > 64 ? it + 64 : their_requests_.end();
        auto best = std::find_if(it, end, [&](const Request& q) { return t_.upload_fresh(q.piece, key_); });
        if (best == end && tier != ServeTier::fresh)
            best = std::find_if(it, end, [&](const Request& q) { return t_.upload_unsent(q.piece); });
        if (best != end)
            it = best;
        else if (tier != ServeTier::any)
            return false;
    } else if (tier != ServeTier::any) {
        return false;
    }
    Request r = *it;
    if (!t_.take_upload(r.length)) return false;
    their_requests_.erase(it);
    if (t_.complete()) t_.note_upload(r.piece, r.length, key_);
    ++disk_reads_in_flight_;
    t_.read_block(*this, r.piece, r.begin, r.length);
    return true;
}

void Peer::serve_requests() {
    while (serve_one()) {
    }
}

void Peer::on_sent(size_t bytes) {
    (void)bytes;
    last_send_ms_ = last_write_done_ms_ = t_.host().now_ms();
    serve_requests();
}

void Peer::on_closed(const std::string& reason) {
    closed_ = true;
    t_.peer_closed(*this, reason);  // destroys *this
}

void Peer::tick(int64_t now) {
    if (closed_) return;
    if (!handshake_done_) {
        if (now - connected_ms_ > 20'000) disconnect("handshake timed out");
        return;
    }
    if (now - last_recv_ms_ > 150'000) return disconnect("inactive for 150 s");
    if (conn_->queued_bytes() > 0 && now - last_write_done_ms_ > kWriteStallMs)
        return violation("stopped reading (nothing written for " + std::to_string(kWriteStallMs / 1000) + " s, " +
                         std::to_string(conn_->queued_bytes()) + " bytes waiting)");
    if (!outstanding_.empty() && now - last_block_ms_ > 60'000 && !snubbed_) {
        snubbed_ = true;
        queue_target_ = std::min(kRequestQueueMin, queue_cap_);
        abort_all_requests();  // let faster peers have those blocks
    }
    queue_target_ = btl::request_queue_target(down_.rate(now), queue_target_, queue_cap_);
    if (now - last_send_ms_ > 90'000) {
        std::string out;
        append_keepalive(out);
        send(std::move(out));
        last_send_ms_ = now;
    }
    fill_requests();
    serve_requests();
}

PeerStatus Peer::status(int64_t now) const {
    PeerStatus s;
    s.address = conn_->remote();
    s.client = handshake_done_ ? client_name(peer_id_) : "";
    s.down_rate = down_.rate(now);
    s.up_rate = up_.rate(now);
    s.downloaded = down_.total();
    s.uploaded = up_.total();
    s.progress = has_.size() ? double(has_.count()) / has_.size() : 0;
    s.incoming = incoming_;
    s.flags += am_interested_ ? (peer_choking_ ? 'd' : 'D') : ' ';
    s.flags += peer_interested_ ? (am_choking_ ? 'u' : 'U') : ' ';
    s.flags += snubbed_ ? 'S' : ' ';
    s.flags += incoming_ ? 'I' : 'O';
    s.flags += fast_ ? 'F' : ' ';
    s.flags += conn_->encrypted() ? 'E' : ' ';
    return s;
}

}  // namespace btl
