#include "btl/launcher/labels.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace btl {

namespace {

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// One `label.NAME.KEY = VALUE` line (comment stripped, trimmed).
Status apply_label_line(const std::string& line, LabelTable& labels) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) return make_error("expected key = value");
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    size_t last = key.rfind('.');
    std::string name = last > 6 ? key.substr(6, last - 6) : std::string();
    std::string field = last == std::string::npos ? std::string() : key.substr(last + 1);
    for (char& c : field)
        if (c == '-') c = '_';
    if (!valid_label(name)) return make_error("'" + key + "': not a valid label name");
    LabelConfig& cfg = labels[name];
    if (field == "save_in" || field == "move_completed_to") {
        if (value.empty() || value[0] != '/') return make_error(key + " needs an absolute directory, not '" + value + "'");
        (field == "save_in" ? cfg.save_in : cfg.move_completed_to) = value;
        return Ok{};
    }
    if (field == "seed_ratio") {
        char* end = nullptr;
        double r = value.empty() ? -1 : std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !std::isfinite(r) || r < 0 || r > 1e6)
            return make_error(key + " takes a ratio from 0 to 1000000, not '" + value + "'");
        cfg.seed_ratio = r;
        return Ok{};
    }
    return make_error("unknown label setting '" + key + "' (save_in, move_completed_to, seed_ratio)");
}

}  // namespace

bool valid_label(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] == '.') return false;
    for (unsigned char c : name)
        if (c == '/' || c < 0x20 || c == 0x7f) return false;
    return true;
}

std::string label_of_watch_name(const std::string& name) {
    size_t s = name.find('/');
    return s == std::string::npos ? std::string() : name.substr(0, s);
}

std::string watch_leaf_name(const std::string& name) {
    size_t s = name.rfind('/');
    return s == std::string::npos ? name : name.substr(s + 1);
}

Result<std::string> take_label_lines(const std::string& text, const std::string& origin, LabelTable& labels) {
    std::istringstream in(text);
    std::string line, rest;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        std::string body = line;
        if (size_t hash = body.find('#'); hash != std::string::npos) body.erase(hash);
        body = trim(body);
        if (body.rfind("label.", 0) != 0) {
            rest += line + "\n";
            continue;
        }
        if (Status s = apply_label_line(body, labels); !s.ok())
            return make_error(origin + ":" + std::to_string(n) + ": " + s.error().message);
        rest += "\n";  // keeps the line numbers of what follows
    }
    return rest;
}

std::string label_save_in(const LabelTable& t, const std::string& label, const std::string& save_in) {
    if (label.empty()) return save_in;
    if (auto it = t.find(label); it != t.end() && !it->second.save_in.empty()) return it->second.save_in;
    return save_in + "/" + label;
}

std::string label_move_completed_to(const LabelTable& t, const std::string& label, const std::string& global) {
    if (auto it = t.find(label); !label.empty() && it != t.end() && !it->second.move_completed_to.empty())
        return it->second.move_completed_to;
    return global;
}

std::optional<double> label_seed_ratio(const LabelTable& t, const std::string& label) {
    if (auto it = t.find(label); !label.empty() && it != t.end()) return it->second.seed_ratio;
    return std::nullopt;
}

}  // namespace btl
