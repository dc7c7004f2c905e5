// btlaunchmany's configuration: the command line plus the config file, read
// at start and again on SIGHUP, and what a re-read changes in the running
// session.
//
// Contract:
//  - load_options(): the command line first; then the config file (--config
//    FILE, else $XDG_CONFIG_HOME/btlaunchmany/config, else
//    ~/.config/btlaunchmany/config) fills only what the command line did not
//    set.  A missing default config file is no error; a missing --config
//    FILE is.  The error says whether it is a usage error (a bad option on
//    the command line or in the file: exit 2) or a runtime one (the file
//    cannot be read: exit 1).
//  - live_settings() reads the options a running session can change (the
//    rate limits and max_uploads) into session units (bytes/s); an
//    out-of-range value is an error naming the option.
//  - diff_options() is pure: given the running options and the re-read
//    ones it says what to apply to the session and which other options
//    changed (they take effect after a restart).  Flags compare by meaning
//    (absent == 0).
//  - ConfigReload::reload() does the SIGHUP job: re-read, diff, apply the
//    live settings to the Session, log one line per restart-only change and
//    a summary; an unreadable or bad config leaves everything as it was
//    (one error line).  It compares with the options the process started
//    with, not the last reload: a restart-only option that differs is
//    still not in effect, so every SIGHUP says so again.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "btl/base/options.hpp"
#include "btl/engine/session.hpp"
#include "btl/launcher/labels.hpp"

namespace btl {

std::string default_config_path();

struct LoadedOptions {
    Options options;
    std::string config_used;  // the file read, "" for none
    LabelTable labels;        // the config file's label.NAME.* lines
};

struct LoadError {
    Error error;
    bool usage = true;  // a bad option (exit 2), not an unreadable file (exit 1)
};

// Result<> has no room for `usage`, hence the variant-like pair.
struct LoadResult {
    std::optional<LoadedOptions> loaded;
    LoadError failure;
    bool ok() const { return loaded.has_value(); }
};

LoadResult load_options(const std::vector<OptionSpec>& specs, const std::vector<std::string>& args);

struct LiveSettings {
    int64_t max_upload_rate = 0;    // bytes/s, 0 = unlimited
    int64_t max_download_rate = 0;  // bytes/s, 0 = unlimited
    int max_uploads = 4;
    bool operator==(const LiveSettings&) const = default;
};

Result<LiveSettings> live_settings(const Options& o);

struct OptionChange {
    std::string name;
    std::string value;  // the new value as written
    bool operator==(const OptionChange&) const = default;
};

struct ConfigDiff {
    LiveSettings apply;                   // what the session must run with now
    std::vector<OptionChange> live;       // live options whose value changed
    std::vector<OptionChange> restart;    // changed options that need a restart
};

Result<ConfigDiff> diff_options(const Options& running, const Options& reloaded);

class ConfigReload {
public:
    // `args` is argv[1..]: a reload re-reads the same command line.
    ConfigReload(std::vector<OptionSpec> specs, std::vector<std::string> args, Options started)
        : specs_(std::move(specs)), args_(std::move(args)), started_(std::move(started)) {}
    void reload(Session& session, EventSink& log);

private:
    std::vector<OptionSpec> specs_;
    std::vector<std::string> args_;
    Options started_;
};

}  // namespace btl
