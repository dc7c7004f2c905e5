#include "btl/ext/metadata_assembler.hpp"

#include "btl/ext/extension.hpp"
#include "btl/ext/ut_metadata.hpp"

namespace btl {

Status MetadataAssembler::peer_size(uint32_t peer, int64_t size) {
    if (size <= 0) return make_error("metadata_size " + std::to_string(size) + " is not positive");
    if (size > kMaxMetadataSize)
        return make_error("metadata_size " + std::to_string(size) + " is over the limit of " +
                          std::to_string(kMaxMetadataSize) + " bytes");
    sizes_[peer] = size;
    if (size_ < 0) {
        size_ = size;
        uint32_t n = metadata_piece_count(size);
        pieces_.assign(n, std::string());
        sender_.assign(n, 0);
        have_.assign(n, false);
        received_ = 0;
    }
    return Ok{};
}

size_t MetadataAssembler::outstanding(uint32_t peer) const {
    size_t n = 0;
    for (const auto& [piece, a] : asked_) n += a.peer == peer;
    return n;
}

std::optional<uint32_t> MetadataAssembler::next_request(uint32_t peer, int64_t now_ms) {
    auto s = sizes_.find(peer);
    if (size_ <= 0 || s == sizes_.end() || s->second != size_ || refused_.count(peer)) return std::nullopt;
    if (single_source_) {
        if (!source_) source_ = peer;
        if (*source_ != peer) return std::nullopt;
    }
    if (outstanding(peer) >= kPerPeer) return std::nullopt;
    for (uint32_t i = 0; i < pieces_.size(); ++i) {
        if (have_[i] || asked_.count(i)) continue;
        asked_[i] = Asked{peer, now_ms};
        return i;
    }
    return std::nullopt;
}

Result<bool> MetadataAssembler::on_data(uint32_t peer, uint32_t piece, int64_t total_size, std::string_view data) {
    if (size_ <= 0 || total_size != size_)
        return make_error("metadata piece with total_size " + std::to_string(total_size) + ", not " +
                          std::to_string(size_));
    if (piece >= pieces_.size())
        return make_error("metadata piece " + std::to_string(piece) + " is out of range");
    auto a = asked_.find(piece);
    if (a == asked_.end() || a->second.peer != peer)
        return make_error("metadata piece " + std::to_string(piece) + " was never asked for");
    uint32_t want = metadata_piece_size(size_, piece);
    if (data.size() != want)
        return make_error("metadata piece " + std::to_string(piece) + " has " + std::to_string(data.size()) +
                          " bytes, not " + std::to_string(want));
    asked_.erase(a);
    pieces_[piece].assign(data);
    sender_[piece] = peer;
    have_[piece] = true;
    ++received_;
    return complete();
}

void MetadataAssembler::on_reject(uint32_t peer, uint32_t piece) {
    auto a = asked_.find(piece);
    if (a != asked_.end() && a->second.peer == peer) asked_.erase(a);
    refused_.insert(peer);
    release_peer(peer);
}

void MetadataAssembler::release_peer(uint32_t peer) {
    for (auto it = asked_.begin(); it != asked_.end();)
        it = it->second.peer == peer ? asked_.erase(it) : std::next(it);
    if (single_source_ && source_ && *source_ == peer) {
        // The one source went away: what it sent cannot be told apart from
        // the next source's pieces, so start over with another.
        source_.reset();
        for (size_t i = 0; i < pieces_.size(); ++i) {
            if (have_[i]) std::string().swap(pieces_[i]);
            have_[i] = false;
        }
        received_ = 0;
    }
}

void MetadataAssembler::peer_gone(uint32_t peer) {
    release_peer(peer);
    sizes_.erase(peer);
    refused_.erase(peer);
}

std::vector<uint32_t> MetadataAssembler::timed_out(int64_t now_ms) {
    std::set<uint32_t> slow;
    for (const auto& [piece, a] : asked_)
        if (now_ms - a.since_ms > timeout_ms_) slow.insert(a.peer);
    for (uint32_t p : slow) release_peer(p);
    return {slow.begin(), slow.end()};
}

std::string MetadataAssembler::assemble() const {
    std::string out;
    if (!complete()) return out;
    out.reserve(size_t(size_));
    for (const auto& p : pieces_) out += p;
    return out;
}

std::vector<uint32_t> MetadataAssembler::mismatch() {
    std::set<uint32_t> senders;
    for (size_t i = 0; i < pieces_.size(); ++i)
        if (have_[i]) senders.insert(sender_[i]);
    single_source_ = true;
    reset();
    return {senders.begin(), senders.end()};
}

void MetadataAssembler::reset() {
    size_ = -1;
    pieces_.clear();
    sender_.clear();
    have_.clear();
    received_ = 0;
    asked_.clear();
    source_.reset();
    // Peers keep their announced sizes: the first one asked next sets the size again.
    std::map<uint32_t, int64_t> keep;
    keep.swap(sizes_);
    for (const auto& [peer, size] : keep) (void)peer_size(peer, size);
}

bool metadata_matches(const Sha1Digest& info_hash, std::string_view info) { return sha1(info) == info_hash; }

}  // namespace btl
