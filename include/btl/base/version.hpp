// The one place the release version is written: every program's --version
// prints "PROG VERSION" from here (base/options' parse_command_line), and
// the man pages name it.  Keep it in step with the version digits of the
// peer-id prefix (engine_types.hpp, Azureus style: "-XX0100-" is 0.1.0.0).
#pragma once

namespace btl {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace btl
