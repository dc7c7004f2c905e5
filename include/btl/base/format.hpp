// Formatting shared by the front ends (plain, curses, headless):
// human-readable sizes, rates and durations.  Pure: no engine state, no I/O.
// JSON strings are base/json's; json_escape() is only its older name.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "btl/base/json.hpp"
#include "btl/base/result.hpp"

namespace btl {

std::string format_size(int64_t bytes);        // "1.5 GiB", "312 KiB", "17 B"
std::string format_rate(double bytes_per_s);   // "12.3 MB/s" (decimal, as links are sold)
std::string format_eta(int64_t seconds);       // "1:02:03", "4:05", "-" when unknown
// The one escaper (base/json) under its older name: with the quotes.
inline std::string json_escape(std::string_view s) { return json_string(s); }
}  // namespace btl
