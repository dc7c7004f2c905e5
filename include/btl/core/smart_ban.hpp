// SmartBan: finds the peer that sent bad data when a piece that failed its
// hash check had blocks from several peers.
//
// While a piece downloads, the torrent records which address sent each
// block (block_received).  When the piece fails, the senders are taken and,
// once the blocks are hashed off the loop, each sender's block digest is
// remembered (record_failure).  When the same piece later passes, the good
// block digests are compared with the remembered ones: every address whose
// block differed sent bad data and is returned for banning (piece_passed).
//
// Trust points back this up for pieces that never pass: a failed piece costs
// each contributor 2 points, a passed one earns 1 (up to kMaxTrust); at
// kBanTrust or below the address is banned.  An honest peer that shared a
// few pieces with a liar keeps its earned trust, a peer that only ever
// contributes to failures is banned after four of them.
//
// Memory is bounded: failure records are kept for at most max_failed pieces
// (the oldest is forgotten), trust for at most max_addresses addresses.
// Pure bookkeeping: no I/O, no clock; block_digests() is the helper the
// caller runs on its thread pool.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "btl/base/sha1.hpp"

namespace btl {

class SmartBan {
public:
    static constexpr int kMaxTrust = 8;
    static constexpr int kBanTrust = -7;

    explicit SmartBan(size_t max_failed = 64, size_t max_addresses = 4096)
        : max_failed_(max_failed), max_addresses_(max_addresses) {}

    // `ip` delivered block `block` of `piece` (which has nblocks blocks).
    void block_received(uint32_t piece, uint32_t block, uint32_t nblocks, const std::string& ip);
    // Who sent each block of the finished piece ("" = not recorded); the
    // piece's sender table is dropped.
    std::vector<std::string> take_senders(uint32_t piece);
    // Distinct non-empty addresses in a sender table, in first-seen order.
    static std::vector<std::string> distinct(const std::vector<std::string>& senders);
    // Forget every piece in progress (re-check, pause).
    void clear_in_progress() {
        if (st_) st_->senders.clear();
    }

    // The piece failed; digests[i] is the SHA-1 of block i as received.
    void record_failure(uint32_t piece, const std::vector<std::string>& senders,
                        const std::vector<Sha1Digest>& digests);
    bool has_failure(uint32_t piece) const { return st_ && st_->failed.count(piece) > 0; }
    size_t failed_pieces() const { return st_ ? st_->failed.size() : 0; }
    // The piece passed with these block digests: the addresses that once
    // sent a different block of it (each once).  Its records are dropped.
    std::vector<std::string> piece_passed(uint32_t piece, const std::vector<Sha1Digest>& good);

    // Trust points; returns true when `ip` should be banned now.
    bool contributed_to_failure(const std::string& ip);
    void contributed_to_pass(const std::string& ip);
    int trust(const std::string& ip) const;

private:
    struct Record {
        uint32_t block;
        std::string ip;
        Sha1Digest digest;
    };
    void touch_trust(const std::string& ip);

    size_t max_failed_, max_addresses_;
    // Allocated with the first block received: every torrent has a
    // SmartBan, most never receive a block (a seed, a queued or idle
    // download), and the two empty deques alone cost over 1 KB each
    // (libstdc++ allocates a node up front), 100+ MB at 100,000 torrents.
    struct State {
        std::unordered_map<uint32_t, std::vector<std::string>> senders;
        std::map<uint32_t, std::vector<Record>> failed;
        std::deque<uint32_t> failed_order;  // oldest first, for the bound
        std::unordered_map<std::string, int> trust;
        std::deque<std::string> trust_order;
    };
    std::unique_ptr<State> st_;
    State& state() {
        if (!st_) st_ = std::make_unique<State>();
        return *st_;
    }
};

// SHA-1 of each block_size slice of data (the last may be shorter).
std::vector<Sha1Digest> block_digests(const uint8_t* data, size_t len, uint32_t block_size);

}  // namespace btl
