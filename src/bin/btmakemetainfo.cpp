// btmakemetainfo: makes a .torrent from a file or directory.  Wiring only:
// the work is in btl/disk/make_torrent.hpp.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "btl/base/atomic_file.hpp"
#include "btl/base/options.hpp"
#include "btl/disk/make_torrent.hpp"

using namespace btl;

namespace {

const char* const kProgram = "btmakemetainfo";

const std::vector<OptionSpec> kSpecs = {
    {"piece_size_pow2", "N", "", "piece size 2^N, 14..28 (default: about 1000-2000 pieces)"},
    {"comment", "C", "", "a comment"},
    {"target", "FILE", "", "where to write (default PATH.torrent)"},
    {"private", "", "", "set the private flag (BEP 27)"},
    {"announce_list", "L", "", "tiers 'url1,url2|url3' (BEP 12)"},
    {"created_by", "S", "btmakemetainfo (btlaunchmany)", "the 'created by' field"},
    {"no_date", "", "", "leave out the creation date"},
    {"threads", "N", "", "hashing threads (default: one per CPU)"},
    {"help", "", "", "show this help"},
};

// The options as MakeTorrentOptions; an error is a usage error.
Result<MakeTorrentOptions> make_options(const Options& o) {
    MakeTorrentOptions opt;
    opt.announce = o.positional()[0];
    opt.created_by = o.get("created_by");
    opt.comment = o.get("comment");
    opt.is_private = o.flag("private");
    opt.no_date = o.flag("no_date");
    if (o.has("announce_list")) opt.announce_list = parse_announce_list(o.get("announce_list"));
    if (o.has("piece_size_pow2")) {
        auto v = o.get_int("piece_size_pow2", 14, 28);
        if (!v) return v.error();
        opt.piece_size_pow2 = int(*v);
    }
    if (o.has("threads")) {
        auto v = o.get_int("threads", 1, 1024);
        if (!v) return v.error();
        opt.threads = unsigned(*v);
    }
    return opt;
}

// A progress line, only for a person watching (stderr is a terminal).
void show_progress(MakeTorrentOptions& opt) {
    opt.progress = [](int64_t done, int64_t total) {
        std::fprintf(stderr, "\rhashing: %5.1f%% of %lld bytes", total ? 100.0 * double(done) / double(total) : 100.0,
                     static_cast<long long>(total));
    };
}

}  // namespace

int main(int argc, char** argv) {
    Options o(kSpecs);
    const ProgramInfo program{kProgram, "btmakemetainfo TRACKER_URL PATH [options]",
                              "Makes PATH.torrent for a file or a directory.", 2, 2, "TRACKER_URL and PATH"};
    if (auto code = parse_command_line(o, program, argc, argv)) return *code;
    auto opt = make_options(o);
    if (!opt) return usage_error(kProgram, opt.error().message);
    std::string path = o.positional()[1];
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const std::string target = o.get("target").empty() ? path + ".torrent" : o.get("target");

    const bool tty = ::isatty(2);
    if (tty) show_progress(*opt);
    auto doc = make_torrent(path, *opt);
    if (tty) std::fputs("\r\033[K", stderr);
    if (!doc) return runtime_error(kProgram, doc.error().message);
    if (auto st = write_file_atomic(target, *doc); !st) return runtime_error(kProgram, st.error().message);
    return kExitOk;
}
