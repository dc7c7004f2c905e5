#include "btl/base/options.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "btl/base/version.hpp"

namespace btl {

static std::string canonical(std::string s) {
    for (auto& c : s)
        if (c == '-') c = '_';
    return s;
}

const OptionSpec* Options::find(const std::string& name) const {
    for (const auto& s : specs_)
        if (s.name == name) return &s;
    return nullptr;
}

void Options::set(const std::string& name, const std::string& value) { values_[name] = value; }

// "1" or "0" for a flag's value, nullopt for anything else.
static std::optional<std::string> flag_value(const std::string& v) {
    if (v == "1" || v == "yes" || v == "true") return std::string("1");
    if (v == "0" || v == "no" || v == "false" || v.empty()) return std::string("0");
    return std::nullopt;
}

Status Options::parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            for (++i; i < argc; ++i) positional_.push_back(argv[i]);
            break;
        }
        if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
            std::string body = a.substr(2), value;
            bool has_value = false;
            size_t eq = body.find('=');
            if (eq != std::string::npos) {
                value = body.substr(eq + 1);
                body = body.substr(0, eq);
                has_value = true;
            }
            std::string name = canonical(body);
            const OptionSpec* s = find(name);
            // Every program answers --version, declared or not.
            if (!s && name == "version" && !has_value) {
                set("version", "1");
                continue;
            }
            if (!s) return make_error("unknown option --" + body + " (see --help)");
            if (s->arg.empty()) {
                auto v = has_value ? flag_value(value) : std::optional<std::string>("1");
                if (!v) return make_error("option --" + body + " takes 0 or 1, not '" + value + "'");
                set(name, *v);
                continue;
            }
            if (!has_value) {
                if (i + 1 >= argc) return make_error("option --" + body + " needs a value (" + s->arg + ")");
                value = argv[++i];
            }
            set(name, value);
        } else if (a == "-h") {
            set("help", "1");
        } else if (a.size() > 1 && a[0] == '-') {
            // A typo (`-port`) must not quietly become a file name.
            return make_error("unknown option " + a + " (see --help)");
        } else {
            positional_.push_back(a);
        }
    }
    return Ok{};
}

Status Options::parse_config(const std::string& text, const std::string& origin) {
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        size_t hash = line.find('#');
        if (hash != std::string::npos) line.erase(hash);
        auto trim = [](std::string s) {
            size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
            return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
        };
        line = trim(line);
        if (line.empty()) continue;
        size_t eq = line.find('=');
        if (eq == std::string::npos) return make_error(origin + ":" + std::to_string(n) + ": expected key = value");
        std::string key = canonical(trim(line.substr(0, eq))), value = trim(line.substr(eq + 1));
        const OptionSpec* s = find(key);
        if (!s) return make_error(origin + ":" + std::to_string(n) + ": unknown option " + key);
        if (s->arg.empty()) {
            auto v = flag_value(value);
            if (!v) return make_error(origin + ":" + std::to_string(n) + ": " + key + " takes 0 or 1, not '" + value + "'");
            value = *v;
        }
        if (!has(key)) set(key, value);  // the command line wins
    }
    return Ok{};
}

std::string Options::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    const OptionSpec* s = find(name);
    return s ? s->def : std::string();
}

Result<int64_t> Options::get_int(const std::string& name, int64_t lo, int64_t hi) const {
    std::string v = get(name);
    int64_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size())
        return make_error("--" + name + " must be a whole number, not '" + v + "'");
    if (x < lo || x > hi)
        return make_error("--" + name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return x;
}

Result<double> Options::get_double(const std::string& name, double lo, double hi) const {
    std::string v = get(name);
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size()) return make_error("--" + name + " must be a number, not '" + v + "'");
    if (x < lo || x > hi)
        return make_error("--" + name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return x;
}

Result<std::string> Options::get_choice(const std::string& name, const std::vector<std::string>& allowed) const {
    std::string v = get(name);
    std::string list;
    for (size_t i = 0; i < allowed.size(); ++i) {
        if (v == allowed[i]) return v;
        list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
    }
    return make_error("--" + name + " must be " + list + ", not '" + v + "'");
}

std::string Options::help_text() const {
    std::string out;
    for (const auto& s : specs_) {
        std::string left = "  --" + s.name + (s.arg.empty() ? "" : " " + s.arg);
        if (left.size() < 30) left.resize(30, ' ');
        else left += "\n" + std::string(30, ' ');
        out += left + s.help + (s.def.empty() ? "" : " (default " + s.def + ")") + "\n";
    }
    if (!find("version")) out += std::string("  --version") + std::string(19, ' ') + "print the program's name and version\n";
    return out;
}

std::optional<int> parse_command_line(Options& o, const ProgramInfo& p, int argc, char** argv, std::FILE* out,
                                      std::FILE* err) {
    if (auto st = o.parse(argc, argv); !st.ok()) return usage_error(p.name, st.error().message, err);
    if (o.flag("version")) {
        std::fprintf(out, "%s %s\n", p.name.c_str(), kVersion);
        return kExitOk;
    }
    if (o.flag("help")) {
        std::string text = "usage: " + p.synopsis + "\n\n" + (p.about.empty() ? "" : p.about + "\n\n") + o.help_text();
        std::fputs(text.c_str(), out);
        return kExitOk;
    }
    size_t n = o.positional().size();
    if (n < p.min_positional) return usage_error(p.name, "expected " + p.positional_what, err);
    if (n > p.max_positional)
        return usage_error(p.name, "unexpected argument '" + o.positional()[p.max_positional] + "' (expected " +
                                       p.positional_what + ")", err);
    return std::nullopt;
}

std::string usage_line(const std::string& program, const std::string& message) {
    return program + ": " + message + (message.find("--help") == std::string::npos ? " (see --help)" : "");
}

int usage_error(const std::string& program, const std::string& message, std::FILE* err) {
    std::fprintf(err, "%s\n", usage_line(program, message).c_str());
    return kExitUsage;
}

int runtime_error(const std::string& program, const std::string& message, std::FILE* err) {
    std::fprintf(err, "%s: %s\n", program.c_str(), message.c_str());
    return kExitRuntime;
}

}  // namespace btl
