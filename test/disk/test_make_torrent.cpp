#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "btl/base/sha1.hpp"
#include "btl/core/metainfo.hpp"
#include "btl/disk/make_torrent.hpp"

using namespace btl;
namespace fs = std::filesystem;

namespace {

// A scratch directory removed when the test ends.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "btl_mt_XXXXXX").string();
        REQUIRE(::mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = char(rng());
    return s;
}

void write(const fs::path& p, const std::string& data) {
    fs::create_directories(p.parent_path());
    std::ofstream o(p, std::ios::binary);
    o << data;
}

// The obvious single-threaded reference: hash the concatenation.
std::string reference_pieces(const std::string& stream, size_t pl) {
    std::string out;
    for (size_t i = 0; i < stream.size(); i += pl) {
        auto d = sha1(std::string_view(stream).substr(i, pl));
        out.append(reinterpret_cast<const char*>(d.data()), 20);
    }
    return out;
}

}  // namespace

TEST_CASE("make_torrent: automatic piece size aims at 1000-2000 pieces within 16 KiB..16 MiB") {
    CHECK(auto_piece_pow2(1) == 14);
    CHECK(auto_piece_pow2(2000 * 16384) == 14);
    CHECK(auto_piece_pow2(2000 * 16384 + 1) == 15);
    CHECK(auto_piece_pow2(int64_t(1) << 30) == 20);  // 1 GiB -> 1 MiB pieces, 1024 of them
    CHECK(auto_piece_pow2(int64_t(1) << 50) == 24);
    for (int64_t total = int64_t(40) << 20; total < (int64_t(30) << 30); total = total * 3 / 2) {
        int p = auto_piece_pow2(total);
        int64_t n = (total + (int64_t(1) << p) - 1) >> p;
        CAPTURE(total);
        CHECK(n <= 2000);
        CHECK(n > 1000);
    }
}

TEST_CASE("make_torrent: announce-list spec") {
    using Tiers = std::vector<std::vector<std::string>>;
    CHECK(parse_announce_list("a,b|c") == Tiers{{"a", "b"}, {"c"}});
    CHECK(parse_announce_list("a") == Tiers{{"a"}});
    CHECK(parse_announce_list("") == Tiers{});
    CHECK(parse_announce_list("|a,,b||") == Tiers{{"a", "b"}});
}

TEST_CASE("make_torrent: directory listing is sorted bytewise, skips symlinks, recurses") {
    TempDir t;
    fs::path root = t.path / "root";
    write(root / "b", "bb");
    write(root / "a.txt", "a");
    write(root / "a" / "z", "zzz");
    write(root / "A", "AAAA");
    write(root / "empty", "");
    fs::create_directories(root / "emptydir");
    fs::create_symlink("/etc/passwd", root / "link");
    fs::create_directory_symlink("/etc", root / "dirlink");
    auto tree = collect_sources(root.string() + "/");
    REQUIRE_MESSAGE(tree.ok(), (tree.ok() ? "" : tree.error().message));
    CHECK(tree->name == "root");
    CHECK(tree->multi_file);
    std::vector<std::string> names;
    for (const auto& f : tree->files) {
        std::string s;
        for (const auto& e : f.rel_path) s += (s.empty() ? "" : "/") + e;
        names.push_back(s);
    }
    // '.' (0x2e) sorts before '/' (0x2f), uppercase before lowercase: strcmp order.
    CHECK(names == std::vector<std::string>{"A", "a.txt", "a/z", "b", "empty"});
    CHECK(tree->total_length == 4 + 1 + 3 + 2);

    auto one = collect_sources((root / "b").string());
    REQUIRE(one.ok());
    CHECK(!one->multi_file);
    CHECK(one->name == "b");
    CHECK(one->files.size() == 1);

    fs::create_directories(t.path / "nothing" / "sub");
    auto none = collect_sources((t.path / "nothing").string());
    REQUIRE(!none.ok());
    CHECK(none.error().message.find("no files") != std::string::npos);
    auto zero = collect_sources((root / "empty").string());
    REQUIRE(!zero.ok());
    CHECK(zero.error().message.find("total size is 0") != std::string::npos);
    auto missing = collect_sources((t.path / "missing").string());
    REQUIRE(!missing.ok());
    CHECK(missing.error().message.find("No such file") != std::string::npos);
}

TEST_CASE("make_torrent: threaded hashing equals a plain hash of the concatenated files") {
    TempDir t;
    fs::path root = t.path / "d";
    // Uneven sizes, an empty file, and files smaller than a piece, so pieces
    // span several files and chunks start mid-file.
    const size_t sizes[] = {1, 16383, 0, 16385, 5, 700001, 0, 3, 2'000'000, 77};
    std::string stream;
    for (size_t i = 0; i < std::size(sizes); ++i) {
        std::string data = random_bytes(sizes[i], uint32_t(i + 1));
        char name[16];
        std::snprintf(name, sizeof name, "f%02zu", i);
        write(root / name, data);
        stream += data;
    }
    auto tree = collect_sources(root.string());
    REQUIRE(tree.ok());
    CHECK(tree->total_length == int64_t(stream.size()));
    for (int64_t pl : {int64_t(16384), int64_t(32768), int64_t(1) << 20}) {
        std::string want = reference_pieces(stream, size_t(pl));
        for (unsigned threads : {1u, 2u, 5u}) {
            CAPTURE(pl);
            CAPTURE(threads);
            int calls = 0;
            int64_t last_done = -1, last_total = 0;
            bool monotonic = true;
            auto got = hash_pieces(*tree, pl, threads, [&](int64_t done, int64_t total) {
                ++calls;
                monotonic = monotonic && done >= last_done && done <= total;
                last_done = done;
                last_total = total;
            });
            REQUIRE(got.ok());
            CHECK(*got == want);
            CHECK(calls >= 1);
            CHECK(monotonic);
            CHECK(last_done == int64_t(stream.size()));  // the end is always reported
            CHECK(last_total == int64_t(stream.size()));
        }
    }
}

TEST_CASE("make_torrent: a file that shrank while hashing is an error") {
    TempDir t;
    write(t.path / "f", std::string(100000, 'x'));
    auto tree = collect_sources((t.path / "f").string());
    REQUIRE(tree.ok());
    fs::resize_file(t.path / "f", 5000);
    auto got = hash_pieces(*tree, 16384, 2);
    REQUIRE(!got.ok());
    CHECK(got.error().message.find("shrank") != std::string::npos);
}

TEST_CASE("make_torrent: the document parses back with every option") {
    TempDir t;
    std::string data = random_bytes(100'003, 9);
    write(t.path / "x.bin", data);
    MakeTorrentOptions opt;
    opt.announce = "http://tr/announce";
    opt.announce_list = parse_announce_list("http://a,http://b|udp://c");
    opt.piece_size_pow2 = 15;
    opt.comment = "c";
    opt.created_by = "test";
    opt.is_private = true;
    opt.creation_date = 1234;
    auto doc = make_torrent((t.path / "x.bin").string(), opt);
    REQUIRE_MESSAGE(doc.ok(), (doc.ok() ? "" : doc.error().message));
    auto m = parse_metainfo(*doc);
    REQUIRE(m.ok());
    CHECK(m->name == "x.bin");
    CHECK(!m->multi_file);
    CHECK(m->piece_length == 32768);
    CHECK(m->total_length == 100003);
    CHECK(m->pieces == reference_pieces(data, 32768));
    CHECK(m->announce == "http://tr/announce");
    CHECK(m->announce_list == std::vector<std::vector<std::string>>{{"http://a", "http://b"}, {"udp://c"}});
    CHECK(m->is_private);
    CHECK(m->comment == "c");
    CHECK(m->created_by == "test");
    CHECK(m->creation_date == 1234);

    opt = {};
    opt.announce = "http://tr/announce";
    opt.no_date = true;
    auto plain = make_torrent((t.path / "x.bin").string(), opt);
    REQUIRE(plain.ok());
    // Exactly the fields mktorrent -d writes, in sorted order.
    CHECK(plain->rfind("d8:announce18:http://tr/announce4:infod6:lengthi100003e4:name5:x.bin12:piece lengthi16384e6:pieces",
                       0) == 0);
    CHECK(plain->find("creation date") == std::string::npos);

    opt.piece_size_pow2 = 13;
    auto bad = make_torrent((t.path / "x.bin").string(), opt);
    REQUIRE(!bad.ok());
    CHECK(bad.error().message.find("2^13") != std::string::npos);
}

TEST_CASE("make_torrent: names our parser would refuse are refused up front") {
    TempDir t;
    write(t.path / "d" / "back\\slash", "data");
    MakeTorrentOptions opt;
    opt.announce = "http://tr/announce";
    auto doc = make_torrent((t.path / "d").string(), opt);
    REQUIRE(!doc.ok());
    CHECK(doc.error().message.find("containing '\\'") != std::string::npos);
}

TEST_CASE("make_torrent: atomic write replaces the target and leaves no temporary") {
    TempDir t;
    std::string target = (t.path / "out.torrent").string();
    write(target, "old");
    REQUIRE(write_file_atomic(target, "new contents").ok());
    std::ifstream in(target, std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), {});
    CHECK(got == "new contents");
    CHECK((fs::status(target).permissions() & fs::perms::others_read) != fs::perms::none);
    int entries = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(t.path)) ++entries;
    CHECK(entries == 1);
    auto bad = write_file_atomic((t.path / "no" / "dir.torrent").string(), "x");
    REQUIRE(!bad.ok());
    CHECK(bad.error().message.find("No such file") != std::string::npos);
}

TEST_CASE("make_torrent: fast hashing of 64 MiB") {
    TempDir t;
    std::string data = random_bytes(size_t(64) << 20, 3);
    write(t.path / "big", data);
    auto tree = collect_sources((t.path / "big").string());
    REQUIRE(tree.ok());
    auto t0 = std::chrono::steady_clock::now();
    auto got = hash_pieces(*tree, 1 << 20, 0);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(got.ok());
    CHECK(got->size() == 64 * 20);
    std::printf("hash_pieces: 64 MiB in %.1f ms = %.0f MB/s\n", secs * 1e3, 64 * 1.048576 / secs);
}
