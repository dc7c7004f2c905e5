#include "btl/launcher/config_reload.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "btl/engine/session_options.hpp"
#include "btl/launcher/launcher.hpp"  // rate_limit_text

namespace btl {

namespace {
// What a running session can change without a restart; diff_options() and
// live_settings() must agree on this list.
const char* const kLive[] = {"max_upload_rate", "max_download_rate", "max_uploads", "dht", "dht_bootstrap"};

bool is_live(const std::string& name) {
    for (const char* k : kLive)
        if (name == k) return true;
    return false;
}

// A flag's value by meaning: absent, "" and "0" are all off.
std::string value_of(const Options& o, const OptionSpec& spec) {
    if (spec.arg.empty()) return o.flag(spec.name) ? "1" : "0";
    return o.get(spec.name);
}
}  // namespace

std::string default_config_path() {
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/btlaunchmany/config";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/btlaunchmany/config";
    return "";
}

LoadResult load_options(const std::vector<OptionSpec>& specs, const std::vector<std::string>& args) {
    LoadResult r;
    Options o(specs);
    std::vector<char*> argv{const_cast<char*>("btlaunchmany")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    if (auto st = o.parse(int(argv.size()), argv.data()); !st.ok()) {
        r.failure = {st.error(), true};
        return r;
    }
    bool explicit_config = o.has("config");
    std::string path = explicit_config ? o.get("config") : default_config_path();
    std::string used;
    LabelTable labels;
    if (!path.empty()) {
        std::ifstream in(path);
        if (!in && explicit_config) {
            r.failure = {make_error(path + ": cannot read the config file"), false};
            return r;
        }
        if (in) {
            std::stringstream ss;
            ss << in.rdbuf();
            // label.NAME.* lines are the labels' (labels.hpp), not options.
            auto rest = take_label_lines(ss.str(), path, labels);
            if (!rest.ok()) {
                r.failure = {rest.error(), true};
                return r;
            }
            if (auto st = o.parse_config(*rest, path); !st.ok()) {
                r.failure = {st.error(), true};
                return r;
            }
            used = path;
        }
    }
    r.loaded = LoadedOptions{std::move(o), used, std::move(labels)};
    return r;
}

Result<LiveSettings> live_settings(const Options& o) {
    auto up = o.get_int("max_upload_rate", 0, 100'000'000), down = o.get_int("max_download_rate", 0, 100'000'000);
    auto uploads = o.get_int("max_uploads", 0, 1000);
    if (!up.ok()) return up.error();
    if (!down.ok()) return down.error();
    if (!uploads.ok()) return uploads.error();
    return LiveSettings{*up * 1000, *down * 1000, int(*uploads)};
}

Result<ConfigDiff> diff_options(const Options& running, const Options& reloaded) {
    auto live = live_settings(reloaded);
    if (!live.ok()) return live.error();
    ConfigDiff d;
    d.apply = *live;
    for (const auto& spec : reloaded.specs()) {
        std::string now = value_of(reloaded, spec);
        if (now == value_of(running, spec)) continue;
        (is_live(spec.name) ? d.live : d.restart).push_back({spec.name, now});
    }
    return d;
}

void ConfigReload::reload(Session& session, EventSink& log) {
    auto fail = [&log](const std::string& why) { log.log(LogLevel::error, "", "SIGHUP: config not reloaded: " + why); };
    auto loaded = load_options(specs_, args_);
    if (!loaded.ok()) return fail(loaded.failure.error.message);
    auto diff = diff_options(started_, loaded.loaded->options);
    if (!diff.ok()) return fail(diff.error().message);
    SessionOptions so;  // for --dht and --dht_bootstrap, checked before anything is applied
    if (auto st = read_session_options(loaded.loaded->options, so); !st.ok()) return fail(st.error().message);
    // The live settings are applied even when unchanged: cheap, and it
    // repairs anything that drifted.
    session.set_rate_limits(diff->apply.max_upload_rate, diff->apply.max_download_rate);
    session.set_max_uploads(diff->apply.max_uploads);
    session.set_dht(so.dht, so.dht_bootstrap);
    for (const auto& c : diff->restart)
        log.log(LogLevel::warning, "",
                "SIGHUP: " + c.name + " changed to '" + c.value + "'; it takes effect after a restart");
    const std::string& used = loaded.loaded->config_used;
    log.log(LogLevel::info, "",
            "SIGHUP: reloaded " + (used.empty() ? std::string("(no config file)") : used) + ": upload " +
                rate_limit_text(diff->apply.max_upload_rate) + ", download " +
                rate_limit_text(diff->apply.max_download_rate) + ", max_uploads " +
                std::to_string(diff->apply.max_uploads) + ", DHT " + (so.dht ? "on" : "off"));
}

}  // namespace btl
