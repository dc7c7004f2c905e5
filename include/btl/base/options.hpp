// Command-line options in the original BitTorrent style: `--name value` or
// `--name=value`, where every underscore may also be written as a dash
// (`--max_upload_rate` == `--max-upload-rate`).  Each program declares its
// options once; the same table produces --help text and validates input, so
// a bad option is one clear line naming it.
//
// One exit-code rule for every program (the EXIT STATUS of each man page):
// 0 success, 1 a runtime error (a file that cannot be read, a port in use),
// 2 a usage error (an unknown option, a missing or extra argument, a bad
// value).  parse_command_line() handles --help and the usage errors of the
// command line itself; usage_error()/runtime_error() print the one line for
// the rest and return the code for main() to return.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "btl/base/result.hpp"

namespace btl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

struct OptionSpec {
    std::string name;      // canonical, with underscores
    std::string arg;       // "" for a flag, else the placeholder shown in help ("KB/S")
    std::string def;       // default value shown in help ("" = none)
    std::string help;
};

class Options {
public:
    explicit Options(std::vector<OptionSpec> specs) : specs_(std::move(specs)) {}
    // Parses argv[1..]; positional arguments are collected in order.  `--`
    // ends the options; `-` alone is a positional argument (stdin); `-h`
    // means --help; any other word starting with `-` is an unknown option.
    // A flag may be given a value: `--private=1` sets it, `--private=0`
    // clears it (0/1, yes/no, true/false), anything else is an error.
    Status parse(int argc, char** argv);
    // Applies `key = value` lines (a config file); unknown keys are errors.
    Status parse_config(const std::string& text, const std::string& origin);

    bool has(const std::string& name) const { return values_.count(name) > 0; }
    std::string get(const std::string& name) const;  // value or the spec's default
    // Integer value within [lo, hi]; errors name the option.
    Result<int64_t> get_int(const std::string& name, int64_t lo, int64_t hi) const;
    Result<double> get_double(const std::string& name, double lo, double hi) const;
    // The value, which must be one of `allowed`; errors name the option.
    Result<std::string> get_choice(const std::string& name, const std::vector<std::string>& allowed) const;
    // A flag is set by `--name` or `--name=1` (or `name = 1` in a config).
    bool flag(const std::string& name) const {
        auto it = values_.find(name);
        return it != values_.end() && it->second == "1";
    }
    const std::vector<std::string>& positional() const { return positional_; }
    const std::vector<OptionSpec>& specs() const { return specs_; }
    std::string help_text() const;

private:
    const OptionSpec* find(const std::string& name) const;
    void set(const std::string& name, const std::string& value);

    std::vector<OptionSpec> specs_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

// What a program tells parse_command_line() about itself.
struct ProgramInfo {
    std::string name;      // "bttrack": the prefix of every error line
    std::string synopsis;  // "bttrack --dfile FILE [--port P] [options]"
    std::string about;     // one paragraph under the synopsis in --help
    size_t min_positional = 0, max_positional = 0;
    std::string positional_what;  // "exactly one directory": named in the usage error
};

// Parses argv into `o`.  Returns the code main() must return at once: 0
// after printing --help to `out`, 2 after a usage error (one line on `err`),
// or nullopt when the program should run.
std::optional<int> parse_command_line(Options& o, const ProgramInfo& p, int argc, char** argv,
                                      std::FILE* out = stdout, std::FILE* err = stderr);

// "PROG: MESSAGE (see --help)": the hint is added unless MESSAGE has one.
std::string usage_line(const std::string& program, const std::string& message);
// Print the one line and return kExitUsage / kExitRuntime.
int usage_error(const std::string& program, const std::string& message, std::FILE* err = stderr);
int runtime_error(const std::string& program, const std::string& message, std::FILE* err = stderr);

}  // namespace btl
