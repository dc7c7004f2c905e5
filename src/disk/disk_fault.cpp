#include "btl/disk/disk_fault.hpp"

#include <algorithm>
#include <cerrno>

namespace btl {

DiskFault classify_errno(int e) {
    switch (e) {
        case 0: return DiskFault::none;
        case ENOSPC:
        case EDQUOT:
        case EFBIG: return DiskFault::no_space;
        case EROFS: return DiskFault::read_only;
        case EACCES:
        case EPERM: return DiskFault::permission;
        case ENOENT:
        case ENOTDIR: return DiskFault::missing;
        default: return DiskFault::other;
    }
}

const char* disk_fault_name(DiskFault f) {
    switch (f) {
        case DiskFault::none: return "none";
        case DiskFault::no_space: return "no space";
        case DiskFault::read_only: return "read-only";
        case DiskFault::permission: return "permission denied";
        case DiskFault::missing: return "missing";
        case DiskFault::other: return "other";
    }
    return "?";
}

DiskRetry::DiskRetry(DiskRetryPolicy p) : p_(p) {
    if (p_.interval_ms < 1) p_.interval_ms = 1;
    if (p_.max_ms < p_.interval_ms) p_.max_ms = p_.interval_ms;
}

int64_t DiskRetry::delay_after(int failures) const {
    int64_t d = p_.interval_ms;
    for (int i = 1; i < failures && d < p_.max_ms; ++i) d *= 2;
    return std::min(d, p_.max_ms);
}

int64_t DiskRetry::on_full(int64_t now) {
    if (failures_ < 1'000'000) ++failures_;
    last_failure_ms_ = now;
    next_ms_ = now + delay_after(failures_);
    return next_ms_;
}

bool DiskRetry::on_check(int64_t now, int64_t free_bytes, int64_t needed) {
    if (free_bytes < 0 || free_bytes >= needed) return true;
    next_ms_ = now + p_.interval_ms;
    return false;
}

}  // namespace btl
