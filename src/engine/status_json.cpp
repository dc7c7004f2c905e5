#include "btl/engine/status_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "btl/base/json.hpp"

namespace btl {

void append_json_value(std::string& out, const std::string& v) { append_json_string(out, v); }

void append_json_value(std::string& out, bool v) { out += v ? "true" : "false"; }

void append_json_value(std::string& out, int64_t v) {
    char b[24];
    auto r = std::to_chars(b, b + sizeof b, v);
    out.append(b, r.ptr);
}

void append_json_value(std::string& out, uint64_t v) {
    char b[24];
    auto r = std::to_chars(b, b + sizeof b, v);
    out.append(b, r.ptr);
}

void append_json_value(std::string& out, double v) {
    // "%.6g" writes "inf" and "nan", which are not JSON: a rate is never
    // either, but one bad division must not make the whole document
    // unreadable.
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char b[48];
    int n = std::snprintf(b, sizeof b, "%.6g", v);
    if (n > 0) out.append(b, size_t(std::min(n, int(sizeof b) - 1)));
}

void append_json_value(std::string& out, const Sha1Digest& v) {
    out += '"';
    out += to_hex(v);
    out += '"';
}

void append_json_value(std::string& out, TorrentState v) {
    out += '"';
    out += state_name(v);
    out += '"';
}

void append_json_value(std::string& out, const std::vector<TrackerStatus>& v) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        bool first = true;
        out += '{';
        for_each_tracker_field([&](std::string_view name, auto member) {
            append_json_member(out, name, v[i].*member, first);
            first = false;
        });
        out += '}';
    }
    out += ']';
}

namespace {
// Equal values give equal text; the trackers compare member by member, only
// those the document shows (not next_announce_s, which ticks every second).
template <class T>
bool same_value(const T& a, const T& b) {
    return a == b;
}

bool same_value(const std::vector<TrackerStatus>& a, const std::vector<TrackerStatus>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        bool same = true;
        for_each_tracker_field([&](std::string_view, auto member) { same = same && a[i].*member == b[i].*member; });
        if (!same) return false;
    }
    return true;
}
}  // namespace

void append_torrent_members(std::string& out, const TorrentStatus& t, bool first) {
    for_each_torrent_field([&](std::string_view name, auto member) {
        append_json_member(out, name, t.*member, first);
        first = false;
    });
}

bool same_torrent_members(const TorrentStatus& a, const TorrentStatus& b) {
    bool same = true;
    for_each_torrent_field([&](std::string_view, auto member) { same = same && same_value(a.*member, b.*member); });
    return same;
}

void append_status_head(std::string& out) { out += "{\"torrents\":["; }

void append_status_end(std::string& out, const SessionStatus& totals, std::optional<size_t> errors) {
    out += ']';
    if (errors) append_json_member(out, "errors", uint64_t{*errors});
    out += ",\"totals\":{";
    bool first = true;
    for_each_totals_field([&](std::string_view name, auto member) {
        append_json_member(out, name, totals.*member, first);
        first = false;
    });
    out += "}}\n";
}

SessionStatus versioned_totals(SessionStatus s) {
    s.dht_packets_in = 0;
    s.dht_packets_out = 0;
    return s;
}

std::string status_json(const std::vector<TorrentStatus>& torrents, const SessionStatus& session) {
    std::string out;
    out.reserve(64 + torrents.size() * 640);
    append_status_head(out);
    for (size_t i = 0; i < torrents.size(); ++i) {
        if (i) out += ',';
        out += '{';
        append_torrent_members(out, torrents[i]);
        out += '}';
    }
    append_status_end(out, session);
    return out;
}

std::string trackers_json(const std::vector<TrackerStatus>& trackers) {
    std::string out;
    append_json_value(out, trackers);
    return out;
}

}  // namespace btl
