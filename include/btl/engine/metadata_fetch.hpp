// MetadataFetch: gets a magnet link's info dictionary from peers (BEP 9 over
// BEP 10) before a Torrent can exist.
//
// Peers come from the link's `tr` trackers (an Announcer with the info-hash
// only), its `x.pe` hints, incoming connections that name the info-hash (the
// session routes them here) and add_peers() (later the DHT).  Each peer gets
// a light connection: the BitTorrent handshake with the extension bit, our
// extended handshake (ut_metadata only), the peer's; every other message is
// skipped within a size bound.  Pieces are asked of several peers at once
// (MetadataAssembler holds the rules: sizes, who was asked what, timeouts,
// hash mismatches).  The complete dictionary is hashed on the thread pool;
// when it matches the info-hash, `done` gets it with every address the fetch
// knew, once.  The owner destroys the fetch afterwards (not inside `done`).
//
// Bounds: at most kMaxConnections connections at once, kMaxKnown addresses
// remembered, frames up to kMaxFrame bytes (longer ones drop the peer),
// 20 s for a handshake, kPieceTimeoutMs for a piece.  A peer whose pieces
// do not add up is dropped with a warning; one that alone sent a dictionary
// that does not hash to the info-hash is banned.
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "btl/base/async_job.hpp"
#include "btl/base/uv_util.hpp"
#include "btl/core/magnet.hpp"
#include "btl/core/peer_book.hpp"
#include "btl/core/wire.hpp"
#include "btl/engine/announcer.hpp"
#include "btl/engine/torrent_host.hpp"
#include "btl/ext/metadata_assembler.hpp"
#include "btl/net/peer_transport.hpp"

namespace btl {

class MetadataFetch {
public:
    static constexpr size_t kMaxConnections = 16;
    static constexpr size_t kMaxKnown = 1000;
    static constexpr uint32_t kMaxFrame = (1u << 20) + 13;
    static constexpr int64_t kPieceTimeoutMs = 10'000;
    static constexpr int64_t kHandshakeTimeoutMs = 20'000;

    using Done = std::function<void(std::string info, std::vector<PeerEndpoint> peers)>;
    MetadataFetch(TorrentHost& host, MagnetLink link, Done done);
    ~MetadataFetch();
    MetadataFetch(const MetadataFetch&) = delete;
    MetadataFetch& operator=(const MetadataFetch&) = delete;

    void start();
    // Ends the fetch without a result: connections closed, trackers left.
    void stop();
    void add_peers(const std::vector<PeerEndpoint>& peers);
    // An incoming connection whose handshake named our info-hash.
    void add_incoming(std::unique_ptr<PeerTransport> conn, const Handshake& hs, std::string_view rest, size_t& used);
    void tick(int64_t now_ms);

    const MagnetLink& link() const { return link_; }
    int connected_peers() const;   // peers past the handshakes
    size_t known_peers() const { return known_.size(); }
    int64_t metadata_size() const { return asm_.size(); }
    size_t pieces_received() const { return asm_.pieces_received(); }
    bool finished() const { return finished_; }
    std::string tracker_message() const { return announcer_ ? announcer_->last_message() : std::string(); }

private:
    class Conn;
    friend class Conn;
    void connect_more();
    void pump();
    void conn_closed(Conn& c, const std::string& why, bool violation);
    void on_complete();
    void on_verified(bool ok, std::string info);
    void remember(const PeerEndpoint& ep);
    void log(LogLevel l, const std::string& msg);

    TorrentHost& host_;
    MagnetLink link_;
    Done done_;
    MetadataAssembler asm_{kPieceTimeoutMs};
    PeerBook book_;
    std::vector<PeerEndpoint> known_;
    std::map<uint32_t, std::unique_ptr<Conn>> conns_;
    std::vector<std::unique_ptr<Conn>> dead_;
    std::unique_ptr<Announcer> announcer_;
    UvHandle<uv_timer_t> timer_;
    JobOwner jobs_;
    uint32_t next_key_ = 1;
    int64_t last_prune_ms_ = 0;
    bool verifying_ = false, finished_ = false;
};

}  // namespace btl
