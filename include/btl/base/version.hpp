// The one place the release version is written: every program's --version
// prints "PROG VERSION" from here (base/options' parse_command_line), and
// the man pages name it.  Keep it in step with the peer-id prefix
// "-BL0100-" (Azureus style: BL, then 0.1.0.0).
#pragma once

namespace btl {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace btl
