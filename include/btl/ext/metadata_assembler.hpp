// MetadataAssembler: the state of one BEP 9 metadata download — which 16 KiB
// pieces of the info dictionary we have, which are asked of which peer and
// since when, and who sent what.  Pure (no I/O; the clock is passed in), so
// the fetcher's rules are tested without sockets.
//
// Contract:
//  - Peers are the caller's keys.  peer_size() records the metadata_size a
//    peer announced; a size that is not in (0, kMaxMetadataSize] is an error
//    (the caller drops the peer) and nothing is allocated for it.  The first
//    sane size is adopted; peers that announce another size are not asked
//    (a liar that came first is found by the hash check, and the attempt
//    starts over with the size unset).
//  - next_request() hands a peer the lowest piece neither held nor asked
//    of anyone, at most kPerPeer at a time.
//  - on_data() accepts only a piece this peer was asked for, of the adopted
//    total size and of that piece's exact size; anything else is an error
//    naming it (the caller drops the peer).  Memory grows one piece at a
//    time as pieces arrive, bounded by the adopted size.
//  - on_reject() and peer_gone() return the peer's pieces to the pool; a peer
//    that rejected is not asked again.  timed_out() returns the peers whose
//    oldest request waited longer than the timeout; their pieces go back to
//    the pool for others.
//  - Once complete(), the caller hashes assemble() against the info-hash.
//    On a mismatch, mismatch() forgets every piece and the size and returns
//    the peers that sent pieces; when one peer sent all of them it is the
//    liar (the caller bans it); when several did, the next attempt takes
//    every piece from a single peer, so the next mismatch names the liar.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "btl/base/result.hpp"
#include "btl/base/sha1.hpp"

namespace btl {

class MetadataAssembler {
public:
    static constexpr size_t kPerPeer = 2;
    explicit MetadataAssembler(int64_t timeout_ms = 10'000) : timeout_ms_(timeout_ms) {}

    Status peer_size(uint32_t peer, int64_t size);
    std::optional<uint32_t> next_request(uint32_t peer, int64_t now_ms);
    // Ok(true) when this piece completed the dictionary.
    Result<bool> on_data(uint32_t peer, uint32_t piece, int64_t total_size, std::string_view data);
    void on_reject(uint32_t peer, uint32_t piece);
    void peer_gone(uint32_t peer);
    std::vector<uint32_t> timed_out(int64_t now_ms);

    bool complete() const { return size_ > 0 && received_ == pieces_.size(); }
    std::string assemble() const;
    std::vector<uint32_t> mismatch();

    int64_t size() const { return size_; }
    size_t pieces_received() const { return received_; }
    size_t piece_count() const { return pieces_.size(); }
    bool single_source() const { return single_source_; }
    size_t outstanding(uint32_t peer) const;

private:
    struct Asked {
        uint32_t peer;
        int64_t since_ms;
    };
    void release_peer(uint32_t peer);
    void reset();

    int64_t timeout_ms_;
    int64_t size_ = -1;
    std::vector<std::string> pieces_;          // empty = not received
    std::vector<uint32_t> sender_;             // who sent each received piece
    std::vector<bool> have_;
    size_t received_ = 0;
    std::map<uint32_t, Asked> asked_;          // piece -> the request in flight
    std::map<uint32_t, int64_t> sizes_;        // peer -> its announced size
    std::set<uint32_t> refused_;               // peers that rejected a request
    bool single_source_ = false;
    std::optional<uint32_t> source_;           // the one peer asked in single-source mode
};

// SHA-1 of `info` equals `info_hash`.
bool metadata_matches(const Sha1Digest& info_hash, std::string_view info);

}  // namespace btl
