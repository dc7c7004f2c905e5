#include "btl/core/smart_ban.hpp"

#include <algorithm>

namespace btl {

void SmartBan::block_received(uint32_t piece, uint32_t block, uint32_t nblocks, const std::string& ip) {
    if (block >= nblocks) return;
    auto& v = state().senders[piece];
    if (v.size() != nblocks) v.resize(nblocks);
    v[block] = ip;
}

std::vector<std::string> SmartBan::take_senders(uint32_t piece) {
    if (!st_) return {};
    auto it = st_->senders.find(piece);
    if (it == st_->senders.end()) return {};
    auto v = std::move(it->second);
    st_->senders.erase(it);
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
    State& s = state();
    auto& recs = s.failed[piece];
    if (recs.empty()) {
        s.failed_order.push_back(piece);
        while (s.failed_order.size() > max_failed_) {
            s.failed.erase(s.failed_order.front());
            s.failed_order.pop_front();
        }
    }
    auto it = s.failed.find(piece);
    if (it == s.failed.end()) return;  // max_failed_ == 0
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
    if (!st_) return bad;
    auto it = st_->failed.find(piece);
    if (it == st_->failed.end()) return bad;
    for (const auto& r : it->second) {
        if (r.block >= good.size() || r.digest == good[r.block]) continue;
        if (std::find(bad.begin(), bad.end(), r.ip) == bad.end()) bad.push_back(r.ip);
    }
    st_->failed.erase(it);
    auto& order = st_->failed_order;
    order.erase(std::remove(order.begin(), order.end(), piece), order.end());
    return bad;
}

void SmartBan::touch_trust(const std::string& ip) {
    State& s = state();
    if (s.trust.count(ip)) return;
    s.trust[ip] = 0;
    s.trust_order.push_back(ip);
    while (s.trust_order.size() > max_addresses_) {
        s.trust.erase(s.trust_order.front());
        s.trust_order.pop_front();
    }
}

bool SmartBan::contributed_to_failure(const std::string& ip) {
    touch_trust(ip);
    auto it = st_->trust.find(ip);
    if (it == st_->trust.end()) return false;
    it->second -= 2;
    return it->second <= kBanTrust;
}

void SmartBan::contributed_to_pass(const std::string& ip) {
    touch_trust(ip);
    auto it = st_->trust.find(ip);
    if (it != st_->trust.end() && it->second < kMaxTrust) ++it->second;
}

int SmartBan::trust(const std::string& ip) const {
    if (!st_) return 0;
    auto it = st_->trust.find(ip);
    return it == st_->trust.end() ? 0 : it->second;
}

std::vector<Sha1Digest> block_digests(const uint8_t* data, size_t len, uint32_t block_size) {
    std::vector<Sha1Digest> out;
    if (block_size == 0) return out;
    out.reserve((len + block_size - 1) / block_size);
    for (size_t off = 0; off < len; off += block_size) out.push_back(sha1(data + off, std::min<size_t>(block_size, len - off)));
    return out;
}

}  // namespace btl
