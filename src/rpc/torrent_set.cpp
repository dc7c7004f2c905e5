#include "btl/rpc/torrent_set.hpp"

#include <algorithm>
#include <cmath>

namespace btl::rpc {

using nlohmann::json;

namespace {

constexpr std::string_view kKeys[] = {"uploadLimit",    "uploadLimited", "downloadLimit", "downloadLimited",
                                      "bandwidthPriority", "seedRatioLimit", "seedRatioMode", "seedIdleLimit",
                                      "seedIdleMode"};

// An integer argument in [lo, hi] (booleans count as 0/1 where Transmission
// clients send them either way); "" or why not.
std::string int_arg(const json& args, const char* key, int64_t lo, int64_t hi, int64_t& out) {
    auto it = args.find(key);
    if (it == args.end()) return "";
    if (it->is_boolean()) out = it->get<bool>() ? 1 : 0;
    else if (it->is_number_integer()) out = it->get<int64_t>();
    else if (it->is_number_float() && std::isfinite(it->get<double>()) && it->get<double>() == std::floor(it->get<double>()))
        out = int64_t(it->get<double>());
    else return std::string(key) + " must be an integer";
    if (out < lo || out > hi) return std::string(key) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    return "";
}

}  // namespace

bool is_limits_key(std::string_view key) { return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys); }

std::string apply_limits_args(const json& args, TorrentLimits& out) {
    TorrentLimits l = out;
    constexpr int64_t kMaxKbps = int64_t(1) << 40;
    int64_t v = 0;
    std::string bad;
    auto take = [&](const char* key, int64_t lo, int64_t hi, auto&& set) {
        if (!bad.empty() || !args.contains(key)) return;
        bad = int_arg(args, key, lo, hi, v);
        if (bad.empty()) set(v);
    };
    take("uploadLimit", 0, kMaxKbps, [&](int64_t x) { l.up_limit = x * 1000; });
    take("downloadLimit", 0, kMaxKbps, [&](int64_t x) { l.down_limit = x * 1000; });
    take("uploadLimited", 0, 1, [&](int64_t x) { l.up_limited = x == 1; });
    take("downloadLimited", 0, 1, [&](int64_t x) { l.down_limited = x == 1; });
    take("bandwidthPriority", -1, 1, [&](int64_t x) { l.priority = int(x); });
    take("seedRatioMode", 0, 2, [&](int64_t x) { l.seed_ratio_mode = int(x); });
    take("seedIdleLimit", 0, 10'000'000, [&](int64_t x) { l.seed_idle_minutes = x; });
    take("seedIdleMode", 0, 2, [&](int64_t x) { l.seed_idle_mode = int(x); });
    if (!bad.empty()) return bad;
    if (auto it = args.find("seedRatioLimit"); it != args.end()) {
        if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0 || it->get<double>() > 1e6)
            return "seedRatioLimit must be a number from 0 to 1000000";
        l.seed_ratio = it->get<double>();
    }
    out = l;
    return "";
}

int queue_move_kind(std::string_view method) {
    if (method == "queue-move-top") return 0;
    if (method == "queue-move-up") return 1;
    if (method == "queue-move-down") return 2;
    return 3;
}

std::vector<Sha1Digest> queue_move_order(const std::vector<const TorrentStatus*>& sel, int how) {
    std::vector<std::pair<int64_t, Sha1Digest>> order;
    for (const TorrentStatus* t : sel) order.emplace_back(t->queue_position, t->info_hash);
    std::sort(order.begin(), order.end());
    // Up: the first first; down: the last first; top: the last first (each
    // lands above the one moved before it); bottom: the first first.
    if (how == 0 || how == 2) std::reverse(order.begin(), order.end());
    std::vector<Sha1Digest> out;
    for (auto& [pos, ih] : order) out.push_back(ih);
    return out;
}

}  // namespace btl::rpc
