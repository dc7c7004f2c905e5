// TorrentHost: everything a Torrent (and its peers) needs from its owner,
// as one small abstract interface (Transmission's Wishlist::Mediator shape).
// Session implements it; a unit test implements it with a manual clock, an
// in-memory log and counters, so a Torrent is built and driven without a
// Session, sockets or a real disk.
//
// Contract: every method is called on the loop thread only.  The host
// outlives its torrents.  Methods are grouped by concern: loop and clock,
// options and identity, storage, the log sink, addresses (bans), connection
// slots and transports, global rate limits, scheduling (the tick, announce
// turns).
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "btl/base/sha1.hpp"
#include "btl/core/wire.hpp"
#include "btl/base/result.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/disk/piece_store.hpp"
#include "btl/engine/engine_types.hpp"
#include "btl/net/peer_transport.hpp"

namespace btl {

class UdpTrackerMux;

// Who we are on the wire and to trackers; fixed once the session listens,
// except the external port, which follows the gateway's mapping.
struct HostIdentity {
    PeerId peer_id{};
    uint16_t listen_port = 0;
    uint32_t announce_key = 0;
    uint16_t external_port = 0;  // mapped on the gateway (0 = none): what trackers get
    // IPv6: our address told to HTTP trackers as ipv6= (BEP 7); "" = none
    std::string ipv6;
};

// Connection-slot events, counted against the host's global caps.
enum class SlotEvent {
    outgoing_opened,  // an outgoing connect started (takes a half-open slot)
    connect_finished, // an outgoing connect ended (connected or failed)
    closed,           // a connection that held a slot is gone
};

class TorrentHost {
public:
    virtual ~TorrentHost() = default;

    // ---- loop and clock
    virtual uv_loop_t* loop() const = 0;
    [[nodiscard]] virtual int64_t now_ms() const = 0;
    [[nodiscard]] virtual uint64_t random() = 0;

    // ---- options and identity
    [[nodiscard]] virtual const SessionOptions& options() const = 0;
    [[nodiscard]] virtual HostIdentity identity() const = 0;

    // ---- disk: the torrent's piece storage, where resume data lives
    // Opens (touching nothing on disk) the storage of a torrent saved at
    // save_path: the real one is file-backed; a test's is in memory.
    virtual Result<std::shared_ptr<PieceStore>> open_storage(const Metainfo& m, const std::string& save_path) = 0;
    [[nodiscard]] virtual std::string resume_file(const Sha1Digest& info_hash) const = 0;

    // ---- the log sink (`torrent` is the torrent's name)
    virtual void log(LogLevel level, const std::string& torrent, const std::string& message) = 0;

    // ---- addresses: bans are session-wide; our own addresses are never dialled
    [[nodiscard]] virtual bool is_banned(const std::string& ip) const = 0;
    virtual void ban(const std::string& ip) = 0;
    virtual void note_self_address(const std::string& ip_port) = 0;
    [[nodiscard]] virtual bool is_self_address(const std::string& ip_port) const = 0;

    // ---- connection slots (global caps)
    [[nodiscard]] virtual bool may_connect() const = 0;
    virtual void slot_event(SlotEvent e) = 0;
    // Starts an outgoing connection (the caller took the slot); it reports
    // to the handler set on it before the loop runs again.  With mse_skey
    // (the info-hash) the connection is MSE/PE encrypted (net/mse.hpp).
    virtual std::unique_ptr<PeerTransport> connect_peer(const sockaddr* addr, const Sha1Digest* mse_skey) = 0;

    // ---- global rate limits
    // True if `bytes` may be sent now; otherwise the torrent's on_bandwidth()
    // is called once tokens are back.
    [[nodiscard]] virtual bool take_upload(uint32_t bytes, uint32_t torrent_id) = 0;
    // Accounts received bytes; false = stop reading until on_bandwidth().
    [[nodiscard]] virtual bool account_download(uint32_t bytes, uint32_t torrent_id) = 0;
    // False while the download bucket is in debt: paused reads stay paused.
    [[nodiscard]] virtual bool download_allowed() const = 0;
    // The torrent is short of its own (per-torrent) tokens: call its
    // on_bandwidth() again soon, as for global tokens.
    virtual void wait_bandwidth(uint32_t torrent_id) { (void)torrent_id; }

    // ---- scheduling
    // Active torrents get the one-second tick; idle ones cost nothing.
    virtual void set_active(uint32_t torrent_id, bool active) = 0;
    // `go` runs from the loop when this tracker server has a free announce
    // slot; dropping the token ends the turn (or cancels it).
    virtual std::shared_ptr<void> announce_turn(const std::string& tracker_url, std::function<void()> go) = 0;
    // ---- push-based change tracking: something status(false) shows may
    // have changed.  Called once per torrent until the host's consumer has
    // read it and cleared the torrent's mark (Torrent::clear_change_mark),
    // so the views read the changed torrents only, never sweep them all.
    virtual void status_changed(uint32_t torrent_id) { (void)torrent_id; }

    // ---- DHT (BEP 5); a host without a DHT keeps these defaults
    // Our DHT's UDP port, told to peers in a `port` message; 0 = no DHT.
    [[nodiscard]] virtual uint16_t dht_port() const { return 0; }
    // A peer's `port` message: its DHT node at ip:port.
    virtual void dht_node_hint(const std::string& ip, uint16_t port) { (void)ip, (void)port; }

    // ---- uTP (BEP 29); a host without uTP keeps this default
    // A peer said (PEX flag 0x04) that ip speaks uTP: dial it over uTP first.
    virtual void utp_hint(const std::string& ip) { (void)ip; }

    // ---- UDP trackers on the listen port's UDP socket; null = own sockets
    virtual std::shared_ptr<UdpTrackerMux> udp_trackers() { return nullptr; }
};

}  // namespace btl
