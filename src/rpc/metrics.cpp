#include "btl/rpc/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "btl/rpc/torrent_fields.hpp"

namespace btl::rpc {

namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, const char* name, const std::string& labels, double v) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    if (v == std::floor(v) && std::fabs(v) < 9e15) {
        out += std::to_string(int64_t(v));
    } else {
        append_number(out, v);
    }
    out += '\n';
}

void one(std::string& out, const char* name, const char* type, const char* help, double v) {
    family(out, name, type, help);
    sample(out, name, "", v);
}

const char* state_label(const TorrentStatus& t, bool paused) {
    return paused ? "paused" : state_name(t.state);
}

void per_torrent(std::string& out, const MetricsInput& in, const std::vector<size_t>& shown) {
    std::vector<std::string> labels;
    for (size_t i : shown) {
        std::string l = "info_hash=\"" + to_hex(in.torrents[i]->info_hash) + "\",name=";
        append_label_value(l, in.torrents[i]->name);
        labels.push_back(std::move(l));
    }
    struct Series {
        const char* name;
        const char* type;
        const char* help;
        double (*value)(const TorrentStatus&);
    };
    static const Series kSeries[] = {
        {"btl_torrent_download_rate_bytes", "gauge", "Payload download rate of a torrent in bytes per second.",
         [](const TorrentStatus& t) { return t.down_rate; }},
        {"btl_torrent_upload_rate_bytes", "gauge", "Payload upload rate of a torrent in bytes per second.",
         [](const TorrentStatus& t) { return t.up_rate; }},
        {"btl_torrent_progress_ratio", "gauge", "Verified share of a torrent's data, 0 to 1.",
         [](const TorrentStatus& t) { return std::clamp(t.progress, 0.0, 1.0); }},
        {"btl_torrent_size_bytes", "gauge", "Total size of a torrent's data.",
         [](const TorrentStatus& t) { return double(t.total_size); }},
        {"btl_torrent_downloaded_bytes", "gauge", "Payload downloaded for a torrent, earlier sessions included.",
         [](const TorrentStatus& t) { return double(t.total_downloaded); }},
        {"btl_torrent_uploaded_bytes", "gauge", "Payload uploaded for a torrent, earlier sessions included.",
         [](const TorrentStatus& t) { return double(t.total_uploaded); }},
        {"btl_torrent_peers", "gauge", "Peers connected to a torrent.",
         [](const TorrentStatus& t) { return double(t.peers); }},
    };
    for (const auto& s : kSeries) {
        family(out, s.name, s.type, s.help);
        for (size_t k = 0; k < shown.size(); ++k) sample(out, s.name, labels[k], s.value(*in.torrents[shown[k]]));
    }
}

}  // namespace

void append_label_value(std::string& out, const std::string& v) {
    out += '"';
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    out += '"';
}

std::string prometheus_text(const MetricsInput& in) {
    std::string out;
    out.reserve(4096 + std::min(in.torrents.size(), in.max_torrents) * 900);
    const SessionStatus& s = in.session;
    one(out, "btl_download_rate_bytes", "gauge", "Payload download rate of the session in bytes per second.", s.down_rate);
    one(out, "btl_upload_rate_bytes", "gauge", "Payload upload rate of the session in bytes per second.", s.up_rate);
    one(out, "btl_session_downloaded_bytes", "gauge", "Payload downloaded by the torrents present, this session.",
        double(s.downloaded));
    one(out, "btl_session_uploaded_bytes", "gauge", "Payload uploaded by the torrents present, this session.",
        double(s.uploaded));
    one(out, "btl_peers", "gauge", "Peers connected, all torrents.", double(s.peers));
    one(out, "btl_listen_port", "gauge", "The BitTorrent listen port.", double(s.listen_port));
    if (s.dht_nodes >= 0) {  // DHT on: each routing table (BEP 5 IPv4, BEP 32 IPv6)
        int64_t v6 = std::max<int64_t>(s.dht_nodes6, 0);
        family(out, "btl_dht_nodes", "gauge", "Nodes in the DHT routing tables, by address family.");
        sample(out, "btl_dht_nodes", "family=\"ipv4\"", double(s.dht_nodes - v6));
        sample(out, "btl_dht_nodes", "family=\"ipv6\"", double(v6));
        // The datagram counters: the status file does not rewrite itself
        // for them alone, so a rate of them is read here.
        family(out, "btl_dht_packets_total", "counter", "DHT datagrams since start, by direction.");
        sample(out, "btl_dht_packets_total", "direction=\"in\"", double(s.dht_packets_in));
        sample(out, "btl_dht_packets_total", "direction=\"out\"", double(s.dht_packets_out));
    }
    static const char* const kStates[] = {"checking", "downloading", "seeding", "stalled", "stopped", "error", "paused"};
    size_t counts[7] = {};
    for (size_t i = 0; i < in.torrents.size(); ++i) {
        const char* st = state_label(*in.torrents[i], i < in.paused.size() && in.paused[i]);
        for (size_t k = 0; k < 7; ++k)
            if (std::string_view(st) == kStates[k]) ++counts[k];
    }
    family(out, "btl_torrents", "gauge", "Torrents by state (paused counts apart from its state).");
    for (size_t k = 0; k < 7; ++k) sample(out, "btl_torrents", std::string("state=\"") + kStates[k] + "\"", double(counts[k]));
    one(out, "btl_torrent_errors", "gauge", "Torrents whose last error is set.",
        double(std::count_if(in.torrents.begin(), in.torrents.end(), [](const TorrentStatus* t) { return !t->error.empty(); })));
    if (in.disk_free >= 0) {
        std::string l = "path=";
        append_label_value(l, in.disk_path);
        family(out, "btl_disk_free_bytes", "gauge", "Free space for unprivileged users where downloads are saved.");
        sample(out, "btl_disk_free_bytes", l, double(in.disk_free));
        family(out, "btl_disk_total_bytes", "gauge", "Size of the file system where downloads are saved.");
        sample(out, "btl_disk_total_bytes", l, double(in.disk_total));
    }
    one(out, "btl_rpc_requests_total", "counter", "HTTP requests the RPC server answered.", double(in.rpc_requests));
    one(out, "btl_rpc_auth_failures_total", "counter", "RPC requests refused for wrong credentials.",
        double(in.auth_failures));
    if (in.loop_handles >= 0) {
        one(out, "btl_loop_handles", "gauge", "Event loop handles alive (sockets, timers, ...).", double(in.loop_handles));
        one(out, "btl_loop_timers", "gauge", "Event loop timers alive.", double(in.loop_timers));
    }
    std::vector<size_t> order(in.torrents.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    size_t keep = std::min(in.max_torrents, order.size());
    std::partial_sort(order.begin(), order.begin() + long(keep), order.end(), [&](size_t a, size_t b) {
        const TorrentStatus &x = *in.torrents[a], &y = *in.torrents[b];
        double rx = x.down_rate + x.up_rate, ry = y.down_rate + y.up_rate;
        if (rx != ry) return rx > ry;
        if (x.name != y.name) return x.name < y.name;
        return x.info_hash < y.info_hash;
    });
    order.resize(keep);
    one(out, "btl_torrent_series_omitted", "gauge", "Torrents left out of the per-torrent series (bounded count).",
        double(in.torrents.size() - keep));
    per_torrent(out, in, order);
    return out;
}

}  // namespace btl::rpc
