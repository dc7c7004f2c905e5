#include "btl/base/format.hpp"

#include <cstdio>

namespace btl {

std::string format_size(int64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

std::string format_rate(double r) {
    char buf[32];
    if (r < 1000)
        std::snprintf(buf, sizeof buf, "%.0f B/s", r);
    else if (r < 1e6)
        std::snprintf(buf, sizeof buf, "%.1f kB/s", r / 1e3);
    else if (r < 1e9)
        std::snprintf(buf, sizeof buf, "%.1f MB/s", r / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2f GB/s", r / 1e9);
    return buf;
}

std::string format_eta(int64_t s) {
    if (s < 0) return "-";
    if (s >= 100 * 3600) return ">4d";
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    return buf;
}

}  // namespace btl
