// btmakemetainfo: makes a .torrent from a file or directory.  Wiring only:
// the work is in btl/make_torrent.hpp.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "btl/disk/make_torrent.hpp"

namespace {

const char* kUsage =
    "usage: btmakemetainfo TRACKER_URL PATH [options]\n"
    "Makes PATH.torrent for a file or a directory.\n"
    "  --piece_size_pow2 N   piece size 2^N (14..28; default: about 1000-2000 pieces)\n"
    "  --comment C           a comment\n"
    "  --target FILE         where to write (default PATH.torrent)\n"
    "  --private             set the private flag (BEP 27)\n"
    "  --announce_list L     tiers 'url1,url2|url3' (BEP 12)\n"
    "  --created_by S        the 'created by' field\n"
    "  --no_date             leave out the creation date\n"
    "  --threads N           hashing threads (default: one per CPU)\n"
    "  --help                this text\n"
    "Dashed spellings (--piece-size-pow2) are accepted too.\n";

int usage_error(const std::string& why) {
    std::fprintf(stderr, "btmakemetainfo: %s (try --help)\n", why.c_str());
    return 2;
}

bool parse_int(const std::string& s, long lo, long hi, long& out) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < lo || v > hi) return false;
    out = v;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    btl::MakeTorrentOptions opt;
    opt.created_by = "btmakemetainfo (btlaunchmany)";
    std::string target;
    std::vector<std::string> pos;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
            pos.push_back(a);
            continue;
        }
        std::string name = a.substr(2), value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            has_value = true;
        }
        for (char& c : name)
            if (c == '-') c = '_';
        auto need = [&]() -> bool {
            if (has_value) return true;
            if (i + 1 >= argc) return false;
            value = argv[++i];
            return true;
        };
        if (name == "help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (name == "private") {
            opt.is_private = true;
        } else if (name == "no_date") {
            opt.no_date = true;
        } else if (name == "piece_size_pow2") {
            long v;
            if (!need() || !parse_int(value, 14, 28, v)) return usage_error("--piece_size_pow2 needs a number in 14..28");
            opt.piece_size_pow2 = int(v);
        } else if (name == "threads") {
            long v;
            if (!need() || !parse_int(value, 1, 1024, v)) return usage_error("--threads needs a number in 1..1024");
            opt.threads = unsigned(v);
        } else if (name == "comment") {
            if (!need()) return usage_error("--comment needs a value");
            opt.comment = value;
        } else if (name == "target") {
            if (!need()) return usage_error("--target needs a value");
            target = value;
        } else if (name == "announce_list") {
            if (!need()) return usage_error("--announce_list needs a value");
            opt.announce_list = btl::parse_announce_list(value);
        } else if (name == "created_by") {
            if (!need()) return usage_error("--created_by needs a value");
            opt.created_by = value;
        } else {
            return usage_error("unknown option " + a);
        }
    }
    if (pos.size() != 2) return usage_error("need TRACKER_URL and PATH");
    opt.announce = pos[0];
    std::string path = pos[1];
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (target.empty()) target = path + ".torrent";

    const bool tty = ::isatty(2);
    if (tty) {
        opt.progress = [](int64_t done, int64_t total) {
            std::fprintf(stderr, "\rhashing: %5.1f%% of %lld bytes", total ? 100.0 * double(done) / double(total) : 100.0,
                         static_cast<long long>(total));
        };
    }
    auto doc = btl::make_torrent(path, opt);
    if (tty) std::fputs("\r\033[K", stderr);
    if (!doc) {
        std::fprintf(stderr, "btmakemetainfo: %s\n", doc.error().message.c_str());
        return 1;
    }
    if (auto st = btl::write_file_atomic(target, *doc); !st) {
        std::fprintf(stderr, "btmakemetainfo: %s\n", st.error().message.c_str());
        return 1;
    }
    return 0;
}
