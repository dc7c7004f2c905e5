// The options every program that runs torrents takes (btlaunchmany and
// btdownloadheadless; shared/CLI.md): one list of specs and one reader that
// fills SessionOptions, so a new engine option is added once, here, and
// both programs get it with the same name, default, check and help line.
// What differs between the programs (rate limits, which the launcher can
// reload live; the data dir's default) stays in each program.
#pragma once
#include <vector>

#include "btl/base/options.hpp"
#include "btl/base/result.hpp"
#include "btl/engine/engine_types.hpp"

namespace btl {

// The shared specs, in --help order.
const std::vector<OptionSpec>& session_option_specs();

// `program_specs` with the shared specs inserted after the first
// `insert_after` entries of it.
std::vector<OptionSpec> with_session_options(std::vector<OptionSpec> program_specs, size_t insert_after);

// Reads the shared options into `so` (the fields not named here are left
// alone).  An error names the option; main() reports it as a usage error.
[[nodiscard]] Status read_session_options(const Options& o, SessionOptions& so);

}  // namespace btl
