#include "btl/rpc/rpc_security.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <random>

#include "btl/base/base64.hpp"

namespace btl::rpc {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_ip_literal(const std::string& h) {
    unsigned char buf[16];
    return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

}  // namespace

bool host_allowed(std::string_view host, const std::vector<std::string>& whitelist) {
    if (host.empty()) return true;
    std::string name;
    if (host.front() == '[') {  // [v6]:port
        size_t close = host.find(']');
        if (close == std::string_view::npos) return false;
        std::string_view rest = host.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return false;
        name = std::string(host.substr(1, close - 1));
        unsigned char buf[16];
        return inet_pton(AF_INET6, name.c_str(), buf) == 1;
    }
    size_t colon = host.find(':');
    name = lower(host.substr(0, colon));
    if (colon != std::string_view::npos) {
        std::string_view port = host.substr(colon + 1);
        if (port.empty() || port.size() > 5) return false;
        for (char c : port)
            if (c < '0' || c > '9') return false;
    }
    if (!name.empty() && name.back() == '.') name.pop_back();  // "localhost." is localhost
    if (name.empty()) return false;
    if (name == "localhost" || is_ip_literal(name)) return true;
    for (const auto& w : whitelist)
        if (w == name) return true;
    return false;
}

bool basic_auth_ok(std::string_view header, std::string_view user_pass) {
    constexpr std::string_view kBasic = "basic ";
    if (header.size() <= kBasic.size() || lower(header.substr(0, kBasic.size())) != kBasic) return false;
    std::string_view b64 = header.substr(kBasic.size());
    while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
    if (b64.size() > 1024) return false;
    auto given = base64_decode(b64);
    if (!given) return false;
    // Constant time over the expected length; a length mismatch still walks it.
    unsigned diff = given->size() != user_pass.size();
    for (size_t i = 0; i < user_pass.size(); ++i) {
        unsigned char g = i < given->size() ? static_cast<unsigned char>((*given)[i]) : 0;
        diff |= unsigned(g ^ static_cast<unsigned char>(user_pass[i]));
    }
    return diff == 0;
}

bool is_loopback_bind(std::string_view ip) {
    std::string s(ip);
    unsigned char b[16];
    if (inet_pton(AF_INET, s.c_str(), b) == 1) return b[0] == 127;
    if (inet_pton(AF_INET6, s.c_str(), b) == 1) {
        for (int i = 0; i < 15; ++i)
            if (b[i] != 0) return false;
        return b[15] == 1;
    }
    return false;
}

std::string normal_path(std::string_view p) {
    if (p.empty() || p.front() != '/') return "";
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i < p.size()) {
        size_t slash = p.find('/', i);
        if (slash == std::string_view::npos) slash = p.size();
        std::string_view part = p.substr(i, slash - i);
        if (part == "..") {
            if (parts.empty()) return "";
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = slash + 1;
    }
    std::string out;
    for (auto part : parts) {
        out += '/';
        out += part;
    }
    return out.empty() ? "/" : out;
}

bool path_inside(std::string_view path, const std::vector<std::string>& roots) {
    if (path.find('\0') != std::string_view::npos) return false;
    std::string p = normal_path(path);
    if (p.empty()) return false;
    for (const auto& r : roots) {
        std::string root = normal_path(r);
        if (root.empty()) continue;
        if (root == "/" || p == root || (p.size() > root.size() && p.compare(0, root.size(), root) == 0 && p[root.size()] == '/'))
            return true;
    }
    return false;
}

std::string new_session_id() {
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::string id;
    for (int i = 0; i < 48; ++i) id += kChars[rd() % (sizeof kChars - 1)];
    return id;
}

std::vector<std::string> split_host_list(std::string_view s, bool& ok) {
    ok = true;
    std::vector<std::string> out;
    if (s.empty()) return out;
    size_t i = 0;
    while (i <= s.size()) {
        size_t comma = s.find(',', i);
        if (comma == std::string_view::npos) comma = s.size();
        std::string_view item = s.substr(i, comma - i);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.empty()) ok = false;
        else out.push_back(lower(item));
        i = comma + 1;
    }
    return out;
}

}  // namespace btl::rpc
