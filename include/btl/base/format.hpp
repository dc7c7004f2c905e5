// Formatting shared by the front ends (plain, curses, headless, JSON):
// human-readable sizes, rates and durations and JSON string escaping.  Pure:
// no engine state, no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "btl/base/result.hpp"

namespace btl {

std::string format_size(int64_t bytes);        // "1.5 GiB", "312 KiB", "17 B"
std::string format_rate(double bytes_per_s);   // "12.3 MB/s" (decimal, as links are sold)
std::string format_eta(int64_t seconds);       // "1:02:03", "4:05", "-" when unknown
std::string json_escape(const std::string& s); // with the quotes
}  // namespace btl
