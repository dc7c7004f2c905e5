// btshowmetainfo: prints what .torrent files hold, as text or as one JSON
// object per line (--json).  A broken file costs one line on stderr
// ("FILE: reason") and a non-zero exit at the end; the others are still shown.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "btl/base/json.hpp"
#include "btl/base/options.hpp"
#include "btl/core/metainfo.hpp"

namespace {

const std::vector<btl::OptionSpec> kSpecs = {
    {"json", "", "", "one JSON object per torrent, one per line"},
    {"help", "", "", "show this help"},
};

std::string human_size(int64_t n) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = double(n);
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        ++u;
    }
    char buf[64];
    if (u == 0) std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(n));
    else std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
    return buf;
}

std::string tiers_text(const std::vector<std::vector<std::string>>& tiers) {
    std::string s;
    for (size_t i = 0; i < tiers.size(); ++i) {
        if (i) s += " | ";
        for (size_t j = 0; j < tiers[i].size(); ++j) {
            if (j) s += ", ";
            s += tiers[i][j];
        }
    }
    return s;
}

void print_text(const std::string& file, const btl::Metainfo& m, bool first) {
    std::string o;
    if (!first) o += "\n";
    o += "metainfo file.: " + file + "\n";
    o += "info hash.....: " + btl::to_hex(m.info_hash) + "\n";
    if (m.multi_file) {
        o += "directory name: " + m.name + "\n";
        o += "files.........:\n";
        for (const auto& f : m.files) {
            if (f.pad) continue;
            o += "   " + f.path_string + " (" + std::to_string(f.length) + ")\n";
        }
    } else {
        o += "file name.....: " + m.name + "\n";
    }
    o += "piece length..: " + std::to_string(m.piece_length) + "\n";
    o += "pieces........: " + std::to_string(m.num_pieces()) + "\n";
    // BEP 47 pad files (hybrid torrents have one after nearly every file)
    // are never written: the size is what lands on disk.
    o += "total size....: " + std::to_string(m.content_length) + " (" + human_size(m.content_length) + ")\n";
    o += "announce url..: " + m.announce + "\n";
    if (!m.announce_list.empty()) o += "announce-list.: " + tiers_text(m.announce_list) + "\n";
    o += std::string("private.......: ") + (m.is_private ? "yes" : "no") + "\n";
    if (!m.comment.empty()) o += "comment.......: " + m.comment + "\n";
    if (!m.created_by.empty()) o += "created by....: " + m.created_by + "\n";
    if (m.creation_date) o += "creation date.: " + std::to_string(m.creation_date) + "\n";
    for (const auto& w : m.warnings) o += "warning.......: " + w + "\n";
    std::fputs(o.c_str(), stdout);
}

void json_list(std::string& o, const std::vector<std::string>& v) {
    o += '[';
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) o += ',';
        btl::append_json_string(o, v[i]);
    }
    o += ']';
}

void print_json(const std::string& file, const btl::Metainfo& m) {
    using btl::append_json_string;
    std::string o = "{\"file\":";
    append_json_string(o, file);
    o += ",\"info_hash\":\"" + btl::to_hex(m.info_hash) + "\"";
    o += ",\"name\":";
    append_json_string(o, m.name);
    o += std::string(",\"multi_file\":") + (m.multi_file ? "true" : "false");
    o += ",\"piece_length\":" + std::to_string(m.piece_length);
    o += ",\"num_pieces\":" + std::to_string(m.num_pieces());
    o += ",\"total_length\":" + std::to_string(m.total_length);
    o += ",\"content_length\":" + std::to_string(m.content_length);
    o += ",\"files\":[";
    for (size_t i = 0; i < m.files.size(); ++i) {
        const auto& f = m.files[i];
        if (i) o += ',';
        o += "{\"path\":";
        append_json_string(o, f.path_string);
        o += ",\"length\":" + std::to_string(f.length);
        if (f.pad) o += ",\"pad\":true";
        o += '}';
    }
    o += "],\"announce\":";
    append_json_string(o, m.announce);
    o += ",\"announce_list\":[";
    for (size_t i = 0; i < m.announce_list.size(); ++i) {
        if (i) o += ',';
        json_list(o, m.announce_list[i]);
    }
    o += "],\"url_list\":";
    json_list(o, m.url_list);
    o += std::string(",\"private\":") + (m.is_private ? "true" : "false");
    o += ",\"comment\":";
    if (m.comment.empty()) o += "null";
    else append_json_string(o, m.comment);
    o += ",\"created_by\":";
    if (m.created_by.empty()) o += "null";
    else append_json_string(o, m.created_by);
    o += ",\"creation_date\":" + (m.creation_date ? std::to_string(m.creation_date) : std::string("null"));
    o += ",\"warnings\":";
    json_list(o, m.warnings);
    o += "}\n";
    std::fputs(o.c_str(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
    btl::Options o(kSpecs);
    const btl::ProgramInfo program{"btshowmetainfo", "btshowmetainfo [--json] FILE.torrent...",
                                   "Shows the contents of BitTorrent metainfo files.", 1, SIZE_MAX,
                                   "one or more FILE.torrent"};
    if (auto code = btl::parse_command_line(o, program, argc, argv)) return *code;
    const bool json = o.flag("json");
    const std::vector<std::string>& files = o.positional();
    int status = 0;
    bool first = true;
    for (const auto& f : files) {
        auto m = btl::load_metainfo_file(f);
        if (!m) {
            std::fflush(stdout);  // keep stdout and stderr in file order on a terminal
            std::fprintf(stderr, "%s: %s\n", f.c_str(), m.error().describe().c_str());
            status = 1;
            continue;
        }
        if (json) print_json(f, *m);
        else print_text(f, *m, first);
        first = false;
    }
    return status;
}
