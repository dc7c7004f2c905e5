// Replays every committed fuzz input through its target in the normal build:
// the seed corpora (test/fuzz/corpus/NAME) and every input that once broke
// a target (test/data/fuzz/NAME), so a fixed crash stays fixed without
// running the fuzzers.
#include <doctest/doctest.h>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz.hpp"

using namespace btl::fuzz;

namespace {

std::string test_dir() {
    std::string f = __FILE__;
    auto slash = f.rfind('/');
    // this file lives in test/fuzz/; the data is in test/
    return (slash == std::string::npos ? std::string(".") : f.substr(0, slash)) + "/..";
}

// Regular files in dir, sorted; none if the directory does not exist.
std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        out.push_back(dir + "/" + n);
    }
    closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Target {
    const char* name;
    int (*fn)(const uint8_t*, size_t);
};

const Target kTargets[] = {
    {"bencode", fuzz_bencode},         {"metainfo", fuzz_metainfo},
    {"peer_stream", fuzz_peer_stream}, {"http_tracker", fuzz_http_tracker},
    {"udp_tracker", fuzz_udp_tracker}, {"http_request", fuzz_http_request},
    {"resume", fuzz_resume},           {"tracker_state", fuzz_tracker_state},
    {"extension", fuzz_extension},     {"pex", fuzz_pex},
    {"lsd", fuzz_lsd},                 {"magnet", fuzz_magnet},
    {"mse", fuzz_mse},
    {"rpc_request", fuzz_rpc_request}, {"rpc_dispatch", fuzz_rpc_dispatch},
    {"rpc_client", fuzz_rpc_client},
    {"extension", fuzz_extension},     {"utp", fuzz_utp},
    {"krpc", fuzz_krpc},
    {"label_config", fuzz_label_config},
    {"udp_demux", fuzz_udp_demux},  // IPv6 / shared UDP socket
    {"announce_query", fuzz_announce_query},  // bttrack's announce query, BEP 7 ipv6=/ipv4=
    {"dht_state", fuzz_dht_state},  // dht.dat with nodes6 (BEP 32)
    {"read_slab", fuzz_read_slab},  // the peer read buffer whose ranges blocks keep
};

// Runs one input; an invariant failure is reported with the file's name.
void replay(const Target& t, const std::string& path) {
    std::string bytes = read_all(path);
    try {
        int rc = t.fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        CHECK_MESSAGE(rc == 0, path);
    } catch (const FuzzInvariantError& e) {
        FAIL_CHECK(path << ": " << e.what());
    }
}

}  // namespace

TEST_CASE("fuzz replay: every seed corpus input passes its target") {
    for (const Target& t : kTargets) {
        CAPTURE(t.name);
        auto files = files_in(test_dir() + "/fuzz/corpus/" + t.name);
        // An empty or missing corpus would make this test vacuous.
        CHECK(files.size() >= 3);
        for (const auto& f : files) replay(t, f);
    }
}

TEST_CASE("fuzz replay: every input that once failed passes now") {
    size_t total = 0;
    for (const Target& t : kTargets) {
        CAPTURE(t.name);
        for (const auto& f : files_in(test_dir() + "/data/fuzz/" + t.name)) {
            replay(t, f);
            ++total;
        }
    }
    // Empty inputs and one-byte inputs are the classic edge cases; the
    // directory always holds at least those.
    CHECK(total >= 1);
}

TEST_CASE("fuzz replay: the targets hold on the simplest inputs") {
    const uint8_t bytes[] = {0, 1, 0xff};
    for (const Target& t : kTargets) {
        CAPTURE(t.name);
        for (size_t n = 0; n <= sizeof bytes; ++n) CHECK(t.fn(bytes, n) == 0);
    }
}
