// Test harness for the engine without sockets or files: a FakeHost (manual
// clock, in-memory log, counters for connection slots, bans and upload
// tokens), a MemoryPieceStore (the PieceStore twin: the torrent's bytes in
// a vector; its jobs run when the test pumps, on the loop thread) and
// ScriptedTransport (the PeerTransport twin: what the peer sends is
// recorded, what the remote sends is fed by the test, close is delivered
// when the test pumps, as the real one reports it from the loop).
//
// A test builds a real Torrent from a generated Metainfo (TestTorrent), adds
// scripted remote peers (RemotePeer) and drives them message by message.
#pragma once
#include <doctest/doctest.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "btl/base/sha1.hpp"
#include "btl/core/bitfield.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/core/wire.hpp"
#include "btl/disk/piece_store.hpp"
#include "btl/engine/torrent.hpp"
#include "btl/engine/torrent_host.hpp"
#include "btl/net/peer_transport.hpp"
#include "btl/net/read_slab.hpp"

namespace btl::test {

// ---- transport ---------------------------------------------------------------

struct SentMessage {  // one message our side sent, decoded
    MsgId id = MsgId::choke;
    bool keepalive = false;
    uint32_t piece = 0, begin = 0, length = 0;
    uint8_t ext_id = 0;  // extended (BEP 10): the sub-id; payload is what follows it
    std::string payload;
};

class ScriptedTransport final : public PeerTransport {
public:
    ScriptedTransport(std::string ip, uint16_t port, std::set<ScriptedTransport*>& live)
        : ip_(std::move(ip)), port_(port), live_(live) {
        live_.insert(this);
    }
    ~ScriptedTransport() override { live_.erase(this); }

    void set_handler(PeerConnectionHandler* h) override { handler_ = h; }
    void send(std::string bytes) override { out_ += bytes; }
    void send_with_payload(std::string header, std::shared_ptr<const std::vector<uint8_t>> data, size_t offset,
                           size_t len) override {
        out_ += header;
        out_.append(reinterpret_cast<const char*>(data->data()) + offset, len);
    }
    size_t queued_bytes() const override { return 0; }  // every write completes at once
    void pause_reading() override { reading_ = false; }
    void resume_reading() override { reading_ = true; }
    bool reading() const override { return reading_; }
    void close(const std::string& reason) override {
        if (closing_) return;
        closing_ = true;
        reason_ = reason;
    }
    bool closing() const override { return closing_; }
    const std::string& remote_ip() const override { return ip_; }
    std::string remote() const override { return ip_ + ":" + std::to_string(port_); }
    bool encrypted() const override { return encrypted_; }

    // ---- the test's side
    bool encrypted_ = false;  // what encrypted() reports (MSE/PE with RC4)
    void connected() { handler_->on_connected(); }
    // Bytes from the remote; what the handler leaves is offered again later.
    // They go through a ReadSlab as PeerConnection's reads do (as much as
    // the slab has room for at a time), so kept blocks are slab slices.
    void feed(std::string_view bytes) {
        while (!closing_) {
            size_t room = 0;
            uint8_t* at = in_.space(&room);
            if (room == 0) return close("message larger than the read buffer");
            const size_t n = std::min(room, bytes.size());
            std::memcpy(at, bytes.data(), n);
            bytes.remove_prefix(n);
            in_.filled(n);
            size_t used = handler_->on_data(in_.pending());
            if (closing_) return;
            in_.consume(used);
            if (bytes.empty()) return;
        }
    }
    SharedBytes keep(std::string_view bytes) override { return in_.keep(bytes); }
    // The loop reporting the close: destroys this transport (and its peer).
    void deliver_close() { handler_->on_closed(reason_); }
    const std::string& close_reason() const { return reason_; }
    const std::string& raw_sent() const { return out_; }  // everything, our handshake included
    // Everything sent since the last call, decoded (our handshake skipped).
    std::vector<SentMessage> take_sent() {
        std::vector<SentMessage> msgs;
        size_t used = 0;
        if (!handshake_seen_ && out_.size() >= kHandshakeSize) {
            handshake_seen_ = true;
            used = kHandshakeSize;
        }
        while (used < out_.size()) {
            ParseResult r = parse_message(std::string_view(out_).substr(used));
            REQUIRE(r.status == ParseStatus::message);
            SentMessage m;
            m.id = r.msg.id;
            m.keepalive = r.msg.keepalive;
            m.piece = r.msg.piece;
            m.begin = r.msg.begin;
            m.length = r.msg.length;
            m.ext_id = r.msg.ext_id;
            m.payload = std::string(r.msg.payload);
            msgs.push_back(std::move(m));
            used += r.consumed;
        }
        out_.erase(0, used);
        return msgs;
    }

private:
    std::string ip_;
    uint16_t port_;
    std::set<ScriptedTransport*>& live_;
    PeerConnectionHandler* handler_ = nullptr;
    ReadSlab in_{(1u << 20) + 64 * 1024};  // PeerConnection's default bound
    std::string out_, reason_;
    bool reading_ = true, closing_ = false, handshake_seen_ = false;
};

// ---- storage -------------------------------------------------------------------

class MemoryPieceStore final : public PieceStore {
public:
    explicit MemoryPieceStore(const Metainfo& m) : mi_(m), layout_(m), data_(size_t(m.total_length), 0) {}

    // Fills the store with `content` (as if a complete download sat on disk).
    void fill(const std::string& content) {
        std::memcpy(data_.data(), content.data(), data_.size());
        present_ = true;
    }

    std::vector<FileStat> stat_files() const override {
        std::vector<FileStat> out;
        for (const auto& f : mi_.files) {
            FileStat s;
            s.exists = present_;
            s.size = present_ ? f.length : 0;
            out.push_back(s);
        }
        return out;
    }
    const FileLayout& layout() const override { return layout_; }
    Status check_writable() const override { return Ok{}; }
    const std::string& base_dir() const override { return base_; }

    void hash_and_write(uint32_t piece, BufferPtr data, Sha1Digest expected,
                        std::function<void(bool, Status)> cb) override {
        jobs_.push_back([this, piece, data, expected, cb] {
            bool ok = sha1(data->data(), data->size()) == expected;
            if (!ok) return cb(false, Ok{});
            if (write_errno) return cb(true, make_sys_error("disk full writing /mem/" + mi_.name, write_errno));
            std::memcpy(data_.data() + size_t(piece) * size_t(mi_.piece_length), data->data(), data->size());
            ++writes;
            present_ = true;
            cb(true, Ok{});
        });
    }
    // Blocks written as they arrive, pieces verified in order: the same
    // BlockAssembler as the disk store, over this memory.
    void write_blocks(std::vector<BlockWrite> blocks,
                      std::function<void(Result<std::vector<PieceVerdict>>)> cb) override {
        const uint64_t epoch = assembler_.epoch();
        jobs_.push_back([this, blocks = std::move(blocks), cb, epoch] {
            BlockIo io;
            io.write = [this](int64_t off, const uint8_t* d, size_t len) -> Status {
                if (write_errno) return make_sys_error("disk full writing /mem/" + mi_.name, write_errno);
                std::memcpy(data_.data() + off, d, len);
                present_ = true;
                ++block_writes;
                return Ok{};
            };
            io.read = [this](int64_t off, uint8_t* buf, size_t len) -> Status {
                std::memcpy(buf, data_.data() + off, len);
                ++read_backs;
                return Ok{};
            };
            auto v = assembler_.write(blocks, io, epoch);
            if (assembler_.epoch() != epoch) v.clear();
            for (const auto& x : v) writes += x.hash_ok && x.write.ok();
            cb(std::move(v));
        });
    }
    void block_digests(uint32_t piece, std::function<void(Result<std::vector<Sha1Digest>>)> cb) override {
        jobs_.push_back([this, piece, cb] {
            size_t start = size_t(piece) * size_t(mi_.piece_length);
            cb(btl::block_digests(data_.data() + start, size_t(mi_.piece_size(piece)), kAssemblyBlock));
        });
    }
    void drop_partial() override { assembler_.drop_all(); }
    size_t partial_pieces() const { return assembler_.partial_pieces(); }
    void read_verified(int64_t off, uint32_t len, const Sha1Digest& piece_hash,
                       std::function<void(Result<BufferPtr>)> cb) override {
        jobs_.push_back([this, off, len, piece_hash, cb] {
            uint32_t piece = uint32_t(off / mi_.piece_length);
            size_t start = size_t(piece) * size_t(mi_.piece_length);
            if (sha1(data_.data() + start, size_t(mi_.piece_size(piece))) != piece_hash)
                return cb(make_error("file changed: /mem/" + mi_.name));
            ++reads;
            cb(std::make_shared<std::vector<uint8_t>>(data_.begin() + off, data_.begin() + off + len));
        });
    }
    CancelFn check(const std::string& piece_hashes, std::function<void(uint32_t, uint32_t)> progress,
                   std::function<void(Result<PieceMask>)> done) override {
        auto cancelled = std::make_shared<bool>(false);
        jobs_.push_back([this, piece_hashes, progress, done, cancelled] {
            if (*cancelled) return;
            uint32_t n = uint32_t(piece_hashes.size() / 20);
            PieceMask mask(n, 0);
            for (uint32_t i = 0; i < n; ++i) {
                Sha1Digest h = sha1(data_.data() + size_t(i) * size_t(mi_.piece_length), size_t(mi_.piece_size(i)));
                mask[i] = std::memcmp(h.data(), piece_hashes.data() + 20 * i, 20) == 0;
            }
            progress(n, n);
            done(std::move(mask));
        });
        return [cancelled] { *cancelled = true; };
    }
    void free_space(std::function<void(int64_t)> cb) override { cb(free_bytes); }
    Status save_resume(const std::string&, ResumeData rd, DataSync mode, bool* all_synced) override {
        // Pool thread; the test reads these only after the loop ran.
        last_have_bits = rd.have_bits;
        last_sequential = rd.sequential;
        last_mode = mode;
        ++saves;  // pool thread; read by the test only after the loop ran
        if (all_synced) *all_synced = true;
        return Ok{};
    }
    void evict() override { ++evictions; }
    void close_files() override {}

    // Runs the queued jobs (and the jobs they queue); the count run.
    size_t run_jobs() {
        size_t n = 0;
        while (!jobs_.empty()) {
            auto j = std::move(jobs_.front());
            jobs_.pop_front();
            j();
            ++n;
        }
        return n;
    }
    const std::vector<uint8_t>& bytes() const { return data_; }
    // The data changing behind the torrent's back (another program).
    void corrupt(size_t offset) { data_[offset] ^= 0xff; }

    int write_errno = 0;       // set: writes fail with this errno (ENOSPC: disk full)
    int64_t free_bytes = -1;   // what free_space() reports
    int writes = 0, reads = 0, evictions = 0;  // writes: pieces verified and stored
    int block_writes = 0, read_backs = 0;       // blocks written; blocks read back to hash
    std::atomic<int> saves{0};
    std::string last_have_bits;  // of the last resume data saved
    bool last_sequential = false;
    DataSync last_mode = DataSync::no_sync;

private:
    Metainfo mi_;
    FileLayout layout_;
    std::vector<uint8_t> data_;
    bool present_ = false;
    std::string base_ = "/mem";
    std::deque<std::function<void()>> jobs_;
    BlockAssembler assembler_{mi_.piece_length, mi_.total_length, kAssemblyBlock};
};

// ---- host ------------------------------------------------------------------------

class FakeHost final : public TorrentHost {
public:
    FakeHost() {
        uv_loop_init(&loop_);
        identity_.peer_id = make_peer_id("-BM0100-", 42);
        identity_.listen_port = 6881;
        identity_.announce_key = 7;
        opt.max_uploads = 4;
    }
    ~FakeHost() override {
        // Pool jobs of destroyed torrents still finish: let them, then close.
        uv_walk(&loop_, [](uv_handle_t* h, void*) {
            if (!uv_is_closing(h)) uv_close(h, nullptr);
        }, nullptr);
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }

    uv_loop_t* loop() const override { return const_cast<uv_loop_t*>(&loop_); }
    int64_t now_ms() const override { return now; }
    uint64_t random() override { return rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull; }
    const SessionOptions& options() const override { return opt; }
    HostIdentity identity() const override { return identity_; }
    Result<std::shared_ptr<PieceStore>> open_storage(const Metainfo&, const std::string&) override {
        REQUIRE(store != nullptr);
        return std::shared_ptr<PieceStore>(store);
    }
    std::string resume_file(const Sha1Digest& ih) const override {
        return "/nonexistent-btl-engine-test/" + to_hex(ih) + ".resume";
    }
    void log(LogLevel level, const std::string&, const std::string& message) override {
        logs.push_back({level, message});
    }
    bool is_banned(const std::string& ip) const override { return banned.count(ip) > 0; }
    void ban(const std::string& ip) override { banned.insert(ip); }
    void note_self_address(const std::string& a) override { self.insert(a); }
    bool is_self_address(const std::string& a) const override { return self.count(a) > 0; }
    bool may_connect() const override { return allow_connect; }
    void slot_event(SlotEvent e) override {
        if (e == SlotEvent::outgoing_opened) ++opened;
        if (e == SlotEvent::connect_finished) ++connect_finished;
        if (e == SlotEvent::closed) ++closed;
    }
    std::unique_ptr<PeerTransport> connect_peer(const sockaddr*, const Sha1Digest* mse_skey) override {
        dialled_encrypted.push_back(mse_skey != nullptr);
        auto t = std::make_unique<ScriptedTransport>("10.0.0.200", 6881, live);
        dialled.push_back(t.get());
        return t;
    }
    bool take_upload(uint32_t bytes, uint32_t) override {
        if (upload_tokens < 0) return true;
        if (upload_tokens < int64_t(bytes)) return false;
        upload_tokens -= bytes;
        return true;
    }
    bool account_download(uint32_t, uint32_t) override { return true; }
    bool download_allowed() const override { return true; }
    void set_active(uint32_t, bool a) override { active = a; }
    void status_changed(uint32_t) override { ++changes; }  // push-based change tracking
    std::shared_ptr<void> announce_turn(const std::string&, std::function<void()>) override { return nullptr; }
    uint16_t dht_port() const override { return dht; }
    void dht_node_hint(const std::string& ip, uint16_t port) override { dht_hints.emplace_back(ip, port); }
    void utp_hint(const std::string& ip) override { utp_hints.push_back(ip); }

    // Runs what the loop would: store jobs, pool jobs, pending closes, until
    // nothing is left to do.
    // Pool jobs (smart-ban hashes, resume saves) finish within a few ms.
    void pump() {
        int quiet = 0;
        for (int round = 0; round < 2000 && quiet < 5; ++round) {
            size_t n = store ? store->run_jobs() : 0;
            uv_run(&loop_, UV_RUN_NOWAIT);
            for (auto* t : std::vector<ScriptedTransport*>(live.begin(), live.end()))
                if (live.count(t) && t->closing()) {
                    t->deliver_close();
                    ++n;
                }
            if (n > 0) {
                quiet = 0;
                continue;
            }
            if (!uv_loop_alive(&loop_)) return;
            ++quiet;
            uv_sleep(1);
        }
    }
    bool logged(const std::string& part) const {
        for (const auto& l : logs)
            if (l.message.find(part) != std::string::npos) return true;
        return false;
    }
    int count_logged(const std::string& part) const {
        int n = 0;
        for (const auto& l : logs) n += l.message.find(part) != std::string::npos;
        return n;
    }

    struct Line {
        LogLevel level;
        std::string message;
    };
    SessionOptions opt;
    int64_t now = 1'000'000;
    int changes = 0;  // status_changed() calls
    std::shared_ptr<MemoryPieceStore> store;
    std::vector<Line> logs;
    std::set<std::string> banned, self;
    bool allow_connect = true, active = false;
    uint16_t dht = 0;  // our DHT port (0: no DHT)
    std::vector<std::pair<std::string, uint16_t>> dht_hints;
    std::vector<std::string> utp_hints;  // PEX said these speak uTP
    int opened = 0, connect_finished = 0, closed = 0;
    int64_t upload_tokens = -1;  // -1: unlimited
    std::set<ScriptedTransport*> live;
    std::vector<ScriptedTransport*> dialled;
    std::vector<bool> dialled_encrypted;  // per dial: asked for MSE/PE

private:
    uv_loop_t loop_{};
    HostIdentity identity_;
    uint64_t rng_ = 12345;
};

// ---- a torrent and its remote peers ----------------------------------------------

// A single-file torrent of `pieces` pieces of `piece_length` bytes (the last
// one `last` bytes if given), random content, no tracker.
// A bitfield with every one of n pieces (a seed's).
inline Bitfield all_pieces(uint32_t n) {
    Bitfield b(n);
    b.set_all();
    return b;
}

struct TestContent {
    std::string data;
    std::string torrent;
    Metainfo mi;
};

inline TestContent make_content(uint32_t pieces, uint32_t piece_length, uint32_t last = 0, uint32_t seed = 1) {
    TestContent c;
    uint64_t total = uint64_t(pieces - 1) * piece_length + (last ? last : piece_length);
    c.data.resize(total);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& ch : c.data) {
        x = x * 1103515245u + 12345u;
        ch = char(x >> 16);
    }
    std::string hashes;
    for (uint32_t i = 0; i < pieces; ++i) {
        auto h = sha1(std::string_view(c.data).substr(size_t(i) * piece_length, piece_length));
        hashes.append(reinterpret_cast<const char*>(h.data()), h.size());
    }
    c.torrent = "d4:infod6:lengthi" + std::to_string(total) + "e4:name4:test12:piece lengthi" +
                std::to_string(piece_length) + "e6:pieces" + std::to_string(hashes.size()) + ":" + hashes + "ee";
    auto mi = parse_metainfo(c.torrent);
    REQUIRE(mi.ok());
    c.mi = *mi;
    return c;
}

// The remote end of one incoming connection.
class RemotePeer {
public:
    RemotePeer(FakeHost& h, Torrent& t, const std::string& ip, bool fast = true, uint8_t id = 1)
        // Peers at different addresses are different peers (one connection
        // per peer id is kept); `id` tells apart peers at one address.
        : RemotePeer(h, t, ip, make_peer_id("-XX0001-", std::hash<std::string>()(ip) * 31 + id), fast) {}
    // ext: its handshake sets the extension-protocol bit (BEP 10).
    RemotePeer(FakeHost& h, Torrent& t, const std::string& ip, const PeerId& peer_id, bool fast = true,
               bool ext = false) {
        auto tr = std::make_unique<ScriptedTransport>(ip, 50000, h.live);
        tr_ = tr.get();
        Handshake hs;
        hs.info_hash = t.info_hash();
        hs.peer_id = peer_id;
        if (fast) hs.reserved[7] |= 0x04;
        if (ext) hs.reserved[5] |= 0x10;
        size_t used = 0;
        t.add_incoming(std::move(tr), hs, "", used);
        host_ = &h;
    }
    // False once the torrent dropped this peer (its transport is gone).
    bool connected() const { return host_->live.count(tr_) > 0; }
    bool closing() const { return connected() && tr_->closing(); }
    ScriptedTransport& wire() { return *tr_; }

    void send(const std::string& frame) { tr_->feed(frame); }
    void simple(MsgId id) {
        std::string f;
        append_simple(f, id);
        send(f);
    }
    void have(uint32_t piece) {
        std::string f;
        append_have(f, piece);
        send(f);
    }
    void bitfield(const Bitfield& bf) {
        std::string f;
        append_bitfield(f, bf);
        send(f);
    }
    void request(uint32_t piece, uint32_t begin, uint32_t length) {
        std::string f;
        append_request(f, piece, begin, length);
        send(f);
    }
    void block(uint32_t piece, uint32_t begin, std::string_view data) {
        std::string f;
        append_piece_header(f, piece, begin, uint32_t(data.size()));
        f.append(data);
        send(f);
    }
    // A BEP 10 message under sub-id `ext_id` (0: the extended handshake).
    void extended(uint8_t ext_id, std::string_view payload) {
        std::string f;
        append_extended(f, ext_id, payload);
        send(f);
    }
    std::vector<SentMessage> sent() { return tr_->take_sent(); }
    static std::vector<SentMessage> of(const std::vector<SentMessage>& all, MsgId id) {
        std::vector<SentMessage> out;
        for (const auto& m : all)
            if (!m.keepalive && m.id == id) out.push_back(m);
        return out;
    }

private:
    FakeHost* host_;
    ScriptedTransport* tr_;
};

// A host with a memory store and a started torrent; `seed` fills the store
// first (the torrent checks it and seeds).
struct Harness {
    explicit Harness(TestContent content, bool seed = false, bool paused = false) : c(std::move(content)) {
        host.store = std::make_shared<MemoryPieceStore>(c.mi);
        if (seed) host.store->fill(c.data);
        AddTorrentParams p;
        p.metainfo = c.mi;
        p.save_path = "/mem/test";
        p.paused = paused;
        t = std::make_unique<Torrent>(host, std::move(p), 1);
        t->start();
        host.pump();
    }
    ~Harness() {
        t.reset();
        host.pump();
    }
    std::string block_of(uint32_t piece, uint32_t begin, uint32_t len) const {
        return c.data.substr(size_t(piece) * size_t(c.mi.piece_length) + begin, len);
    }
    TorrentState state() const { return t->status(false).state; }

    TestContent c;
    FakeHost host;
    std::unique_ptr<Torrent> t;
};

}  // namespace btl::test
