#include "btl/core/smart_ban.hpp"

#include <algorithm>

namespace btl {

void SmartBan::block_received(uint32_t piece, uint32_t block, uint32_t nblocks, const std::string& ip) {
    if (block >= nblocks) return;
    auto& v = senders_[piece];
    if (v.size() != nblocks) v.resize(nblocks);
    v[block] = ip;
}

std::vector<std::string> SmartBan::take_senders(uint32_t piece) {
    auto it = senders_.find(piece);
    if (it == senders_.end()) return {};
    auto v = std::move(it->second);
    senders_.erase(it);
    return v;
}

std::vector<std::string> SmartBan::distinct(const std::vector<std::string>& senders) {
    std::vector<std::string> out;
    for (const auto& ip : senders)
        if (!ip.empty() && std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
    return out;
}

void SmartBan::record_failure(uint32_t piece, const std::vector<std::string>& senders,
                              const std::vector<Sha1Digest>& digests) {
    auto& recs = failed_[piece];
    if (recs.empty()) {
        failed_order_.push_back(piece);
        while (failed_order_.size() > max_failed_) {
            failed_.erase(failed_order_.front());
            failed_order_.pop_front();
        }
    }
    auto it = failed_.find(piece);
    if (it == failed_.end()) return;  // max_failed_ == 0
    size_t n = std::min(senders.size(), digests.size());
    for (size_t i = 0; i < n; ++i) {
        if (senders[i].empty()) continue;
        bool dup = std::any_of(it->second.begin(), it->second.end(), [&](const Record& r) {
            return r.block == i && r.ip == senders[i] && r.digest == digests[i];
        });
        if (!dup) it->second.push_back({uint32_t(i), senders[i], digests[i]});
    }
}

std::vector<std::string> SmartBan::piece_passed(uint32_t piece, const std::vector<Sha1Digest>& good) {
    std::vector<std::string> bad;
    auto it = failed_.find(piece);
    if (it == failed_.end()) return bad;
    for (const auto& r : it->second) {
        if (r.block >= good.size() || r.digest == good[r.block]) continue;
        if (std::find(bad.begin(), bad.end(), r.ip) == bad.end()) bad.push_back(r.ip);
    }
    failed_.erase(it);
    failed_order_.erase(std::remove(failed_order_.begin(), failed_order_.end(), piece), failed_order_.end());
    return bad;
}

void SmartBan::touch_trust(const std::string& ip) {
    if (trust_.count(ip)) return;
    trust_[ip] = 0;
    trust_order_.push_back(ip);
    while (trust_order_.size() > max_addresses_) {
        trust_.erase(trust_order_.front());
        trust_order_.pop_front();
    }
}

bool SmartBan::contributed_to_failure(const std::string& ip) {
    touch_trust(ip);
    auto it = trust_.find(ip);
    if (it == trust_.end()) return false;
    it->second -= 2;
    return it->second <= kBanTrust;
}

void SmartBan::contributed_to_pass(const std::string& ip) {
    touch_trust(ip);
    auto it = trust_.find(ip);
    if (it != trust_.end() && it->second < kMaxTrust) ++it->second;
}

int SmartBan::trust(const std::string& ip) const {
    auto it = trust_.find(ip);
    return it == trust_.end() ? 0 : it->second;
}

std::vector<Sha1Digest> block_digests(const uint8_t* data, size_t len, uint32_t block_size) {
    std::vector<Sha1Digest> out;
    if (block_size == 0) return out;
    out.reserve((len + block_size - 1) / block_size);
    for (size_t off = 0; off < len; off += block_size) out.push_back(sha1(data + off, std::min<size_t>(block_size, len - off)));
    return out;
}

}  // namespace btl
