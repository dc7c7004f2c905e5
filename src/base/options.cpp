#include "btl/base/options.hpp"

#include <charconv>
#include <cstdlib>
#include <sstream>

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
            if (!s) return make_error("unknown option --" + body + " (see --help)");
            if (s->arg.empty()) {
                if (has_value) return make_error("option --" + body + " takes no value");
                set(name, "1");
                continue;
            }
            if (!has_value) {
                if (i + 1 >= argc) return make_error("option --" + body + " needs a value (" + s->arg + ")");
                value = argv[++i];
            }
            set(name, value);
        } else if (a == "-h") {
            set("help", "1");
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
        if (!has(key)) set(key, s->arg.empty() ? (value == "0" || value == "false" || value == "no" ? "" : "1") : value);
        if (s->arg.empty() && values_[key].empty()) values_.erase(key);
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

std::string Options::help_text() const {
    std::string out;
    for (const auto& s : specs_) {
        std::string left = "  --" + s.name + (s.arg.empty() ? "" : " " + s.arg);
        if (left.size() < 30) left.resize(30, ' ');
        else left += "\n" + std::string(30, ' ');
        out += left + s.help + (s.def.empty() ? "" : " (default " + s.def + ")") + "\n";
    }
    return out;
}

}  // namespace btl
