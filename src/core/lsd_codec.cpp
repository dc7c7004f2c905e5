#include "btl/core/lsd_codec.hpp"

#include <cctype>

namespace btl {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Plain decimal 1..65535, no sign, no leading zeros beyond one digit.
bool parse_port(std::string_view s, uint16_t& out) {
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
    uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint32_t(c - '0');
    }
    if (v == 0 || v > 65535) return false;
    out = uint16_t(v);
    return true;
}

bool printable(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return false;
    return true;
}

}  // namespace

std::vector<std::string> format_lsd_announces(const std::vector<Sha1Digest>& info_hashes, uint16_t port,
                                              const std::string& cookie, bool ipv6) {
    const std::string head = std::string("BT-SEARCH * HTTP/1.1\r\nHost: ") +
                             (ipv6 ? std::string("[") + kLsdGroup6 + "]" : std::string(kLsdGroup4)) + ":" +
                             std::to_string(kLsdPort) + "\r\nPort: " + std::to_string(port) + "\r\n";
    const std::string tail = (cookie.empty() ? std::string() : "cookie: " + cookie + "\r\n") + "\r\n\r\n";
    std::vector<std::string> out;
    std::string cur;
    size_t in_cur = 0;
    for (const auto& ih : info_hashes) {
        std::string line = "Infohash: " + to_hex(ih) + "\r\n";
        if (in_cur > 0 && (cur.size() + line.size() + tail.size() > kMaxLsdDatagram || in_cur >= kMaxLsdInfohashes)) {
            out.push_back(cur + tail);
            in_cur = 0;
        }
        if (in_cur == 0) cur = head;
        cur += line;
        ++in_cur;
    }
    if (in_cur > 0) out.push_back(cur + tail);
    return out;
}

Result<LsdAnnounce> parse_lsd_announce(std::string_view d) {
    if (d.size() > kMaxLsdDatagram) return make_error("LSD datagram too long (" + std::to_string(d.size()) + " bytes)");
    constexpr std::string_view kFirst = "BT-SEARCH * HTTP/1.1\r\n";
    if (d.substr(0, kFirst.size()) != kFirst) return make_error("not an LSD announce (first line is not BT-SEARCH)");
    d.remove_prefix(kFirst.size());
    LsdAnnounce a;
    bool have_port = false, ended = false;
    size_t lines = 0;
    while (!d.empty()) {
        size_t eol = d.find("\r\n");
        if (eol == std::string_view::npos) return make_error("LSD header line without CRLF");
        std::string_view line = d.substr(0, eol);
        d.remove_prefix(eol + 2);
        if (line.empty()) {
            ended = true;
            break;
        }
        if (++lines > kMaxLsdHeaders) return make_error("LSD announce has too many header lines");
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return make_error("LSD header line without a name");
        std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
        if (iequals(name, "Port")) {
            if (have_port) return make_error("LSD announce has two Port headers");
            if (!parse_port(value, a.port)) return make_error("LSD Port is not a port number");
            have_port = true;
        } else if (iequals(name, "Infohash")) {
            if (a.info_hashes.size() >= kMaxLsdInfohashes) return make_error("LSD announce has too many info-hashes");
            Sha1Digest ih{};
            if (value.size() != 40 || !from_hex(value, ih)) return make_error("LSD Infohash is not 40 hex digits");
            a.info_hashes.push_back(ih);
        } else if (iequals(name, "cookie")) {
            if (value.size() > kMaxLsdCookie || !printable(value)) return make_error("LSD cookie is malformed");
            a.cookie = std::string(value);
        }
    }
    if (!ended) return make_error("LSD announce is not terminated by an empty line");
    if (!have_port) return make_error("LSD announce has no Port");
    if (a.info_hashes.empty()) return make_error("LSD announce has no Infohash");
    return a;
}

}  // namespace btl
