// Command-line options in the original BitTorrent style: `--name value` or
// `--name=value`, where every underscore may also be written as a dash
// (`--max_upload_rate` == `--max-upload-rate`).  Each program declares its
// options once; the same table produces --help text and validates input, so
// a bad option is one clear line naming it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "btl/base/result.hpp"

namespace btl {

struct OptionSpec {
    std::string name;      // canonical, with underscores
    std::string arg;       // "" for a flag, else the placeholder shown in help ("KB/S")
    std::string def;       // default value shown in help ("" = none)
    std::string help;
};

class Options {
public:
    explicit Options(std::vector<OptionSpec> specs) : specs_(std::move(specs)) {}
    // Parses argv[1..]; positional arguments are collected in order.
    Status parse(int argc, char** argv);
    // Applies `key = value` lines (a config file); unknown keys are errors.
    Status parse_config(const std::string& text, const std::string& origin);

    bool has(const std::string& name) const { return values_.count(name) > 0; }
    std::string get(const std::string& name) const;  // value or the spec's default
    // Integer value within [lo, hi]; errors name the option.
    Result<int64_t> get_int(const std::string& name, int64_t lo, int64_t hi) const;
    Result<double> get_double(const std::string& name, double lo, double hi) const;
    bool flag(const std::string& name) const { return has(name); }
    const std::vector<std::string>& positional() const { return positional_; }
    std::string help_text() const;

private:
    const OptionSpec* find(const std::string& name) const;
    void set(const std::string& name, const std::string& value);

    std::vector<OptionSpec> specs_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

}  // namespace btl
