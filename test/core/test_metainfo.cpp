#include <doctest/doctest.h>

#include <dirent.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "btl/base/json.hpp"
#include "btl/core/bencode.hpp"
#include "btl/core/metainfo.hpp"

using namespace btl;

namespace {

std::string data_dir() {
    std::string f = __FILE__;
    auto slash = f.rfind('/');
    return (slash == std::string::npos ? std::string(".") : f.substr(0, slash)) + "/../data/";
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string err_of(std::string_view bytes, const MetainfoLimits& lim = {}) {
    auto r = parse_metainfo(bytes, lim);
    return r.ok() ? std::string("ok") : r.error().message;
}

// A valid multi-file torrent whose files are given as bencoded dicts.
std::string multi_torrent(const std::string& files_bencoded, int64_t total, int64_t pl = 16384) {
    int64_t n = (total + pl - 1) / pl;
    std::string pieces(size_t(n) * 20, 'h');
    return "d8:announce3:url4:infod5:filesl" + files_bencoded + "e4:name3:dir12:piece lengthi" +
           std::to_string(pl) + "e6:pieces" + std::to_string(pieces.size()) + ":" + pieces + "ee";
}

std::string file_dict(int64_t len, std::initializer_list<std::string> path, const std::string& attr = "") {
    std::string s = (attr.empty() ? "d" : "d4:attr" + std::to_string(attr.size()) + ":" + attr) + "6:lengthi" +
                    std::to_string(len) + "e4:pathl";
    for (const auto& e : path) s += std::to_string(e.size()) + ":" + e;
    return s + "ee";
}

std::string single_torrent(int64_t len, int64_t pl, const std::string& extra_root = "") {
    int64_t n = (len + pl - 1) / pl;
    std::string pieces;
    for (int64_t i = 0; i < n; ++i) pieces += std::string(20, char('a' + i % 26));
    return "d8:announce3:url" + extra_root + "4:infod6:lengthi" + std::to_string(len) + "e4:name4:file12:piece lengthi" +
           std::to_string(pl) + "e6:pieces" + std::to_string(pieces.size()) + ":" + pieces + "ee";
}

}  // namespace

TEST_CASE("metainfo: torrents made by mktorrent and libtorrent have libtorrent's info-hash") {
    // Hashes printed by test/data/make_good.py from lt.torrent_info().info_hashes().v1.
    struct Good {
        const char* file;
        const char* hash;
        bool multi;
        size_t files;
        uint32_t pieces;
        int64_t total;
    };
    const Good goods[] = {
        {"mktorrent_single.torrent", "7350536b475df9522b12a455a95044a9db67ef60", false, 1, 16, 1000003},
        {"mktorrent_multi.torrent", "8726f75059de65f4cb468a08e3567fc948ff0fd9", true, 4, 9, 270019},
        {"libtorrent_single.torrent", "8713a89bafcd08b1e235e3234f13e1fc661548e4", false, 1, 31, 1000003},
        {"libtorrent_multi.torrent", "c6395a02610958daffd3516894432041ede7b685", true, 8, 20, 327680},
    };
    for (const auto& g : goods) {
        CAPTURE(g.file);
        auto m = load_metainfo_file(data_dir() + "good/" + g.file);
        REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().describe()));
        CHECK(to_hex(m->info_hash) == g.hash);
        CHECK(m->multi_file == g.multi);
        CHECK(m->files.size() == g.files);
        CHECK(m->num_pieces() == g.pieces);
        CHECK(m->total_length == g.total);
        CHECK(m->warnings.empty());
        CHECK(sha1(m->info_bytes) == m->info_hash);
        // Offsets are contiguous and add up to the total.
        int64_t off = 0;
        for (const auto& f : m->files) {
            CHECK(f.offset == off);
            off += f.length;
        }
        CHECK(off == m->total_length);
    }
    auto mk = load_metainfo_file(data_dir() + "good/mktorrent_multi.torrent");
    REQUIRE(mk.ok());
    CHECK(mk->name == "multi");
    CHECK(mk->is_private);
    CHECK(mk->comment == "multi comment");
    CHECK(mk->created_by == "mktorrent 1.1");
    CHECK(mk->creation_date == 0);
    CHECK(mk->files[2].path == std::vector<std::string>{"sub", "deeper", "c.bin"});
    CHECK(mk->files[2].path_string == "sub/deeper/c.bin");
    CHECK(mk->tracker_tiers() == std::vector<std::vector<std::string>>{{"http://127.0.0.1:6969/announce"}});

    // libtorrent's hybrid torrent pads every file but the last to a piece
    // boundary with BEP 47 pad files.
    auto lt = load_metainfo_file(data_dir() + "good/libtorrent_multi.torrent");
    REQUIRE(lt.ok());
    int pads = 0;
    for (const auto& f : lt->files) {
        if (f.pad) {
            ++pads;
            CHECK((f.offset + f.length) % lt->piece_length == 0);
        }
    }
    CHECK(pads == 4);
    CHECK(lt->tracker_tiers() == std::vector<std::vector<std::string>>{{"udp://127.0.0.1:6969/announce"},
                                                                       {"http://127.0.0.1:6969/announce"}});
}

TEST_CASE("metainfo: every broken torrent in the corpus fails with its own message") {
    const std::map<std::string, std::string> want = {
        {"truncated.torrent", "runs past the end of the input"},
        {"deep_nesting.torrent", "nesting deeper than"},
        {"not_a_dict.torrent", "torrent is not a dictionary"},
        {"missing_info.torrent", "missing info dictionary"},
        {"info_not_dict.torrent", "info is not a dictionary"},
        {"duplicate_keys.torrent", "duplicate dictionary key"},
        {"trailing_data.torrent", "trailing data"},
        {"piece_length_zero.torrent", "piece length 0 is not positive"},
        {"piece_length_huge.torrent", "piece length 1099511627776 exceeds the limit"},
        {"negative_length.torrent", "negative length -5"},
        {"negative_file_length.torrent", "file 1 has negative length -1"},
        {"huge_length.torrent", "pieces holds 3 hashes but 4611686018427387904 bytes"},
        {"overflow_total.torrent", "total length overflows 64 bits at file 1"},
        {"pieces_not_multiple.torrent", "pieces length 61 is not a multiple of 20"},
        {"pieces_too_few.torrent", "pieces holds 2 hashes but 40000 bytes at piece length 16384 need 3"},
        {"pieces_too_many.torrent", "pieces holds 4 hashes"},
        {"missing_pieces.torrent", "info has no 'pieces'"},
        {"missing_name.torrent", "info has no 'name'"},
        {"missing_piece_length.torrent", "info has no 'piece length'"},
        {"no_length_no_files.torrent", "neither 'length' nor 'files'"},
        {"length_and_files.torrent", "both 'length' and 'files'"},
        {"empty_files.torrent", "info.files is empty"},
        {"zero_total.torrent", "total length of 0"},
        {"dotdot_path.torrent", "path element '..' in file 0"},
        {"dotdot_name.torrent", "invalid info.name '..'"},
        {"empty_name.torrent", "invalid info.name ''"},
        {"absolute_path.torrent", "path element containing '/' in file 0"},
        {"absolute_name.torrent", "path element containing '/' in name"},
        {"backslash_path.torrent", "path element containing '\\' in file 0"},
        {"nul_path.torrent", "path element containing NUL in file 0"},
        {"control_char_path.torrent", "control character in file 0"},
        {"empty_path.torrent", "file 0 has an empty path"},
        {"path_not_list.torrent", "file 0 path is not a list"},
        {"file_no_length.torrent", "file 0 has no length"},
        {"dotdot_middle.torrent", "path element '..' in file 0"},
        {"dot_name.torrent", "invalid info.name '.'"},
        {"backslash_name.torrent", "path element containing '\\' in name"},
        {"nul_name.torrent", "path element containing NUL in name"},
        {"symlinkish_path.torrent", "path element containing '/' in file 0"},
        {"huge_file_count.torrent", "torrent has 1000001 files, over the limit of 1000000"},
        {"overflow_two_files.torrent", "total length overflows 64 bits at file 1"},
    };
    std::set<std::string> seen;
    DIR* d = opendir((data_dir() + "broken").c_str());
    REQUIRE(d != nullptr);
    while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        seen.insert(n);
        CAPTURE(n);
        auto it = want.find(n);
        REQUIRE_MESSAGE(it != want.end(), "corpus file without an expected message");
        auto r = load_metainfo_file(data_dir() + "broken/" + n);
        REQUIRE(!r.ok());
        CHECK_MESSAGE(r.error().message.find(it->second) != std::string::npos, r.error().message);
        // One line: nothing a terminal would misread.
        CHECK(r.error().describe().find('\n') == std::string::npos);
    }
    closedir(d);
    CHECK(seen.size() == want.size());
}

TEST_CASE("metainfo: every truncation of a good torrent is an error, never a crash") {
    std::string good = read_all(data_dir() + "good/mktorrent_multi.torrent");
    REQUIRE(parse_metainfo(good).ok());
    for (size_t n = 0; n < good.size(); ++n) {
        auto r = parse_metainfo(std::string_view(good).substr(0, n));
        CHECK_MESSAGE(!r.ok(), "prefix of " << n << " bytes parsed");
        if (!r.ok()) CHECK(!r.error().message.empty());
    }
    // Flipping any single byte must also never crash (it may still parse).
    for (size_t i = 0; i < good.size(); i += 7) {
        std::string bad = good;
        bad[i] = char(bad[i] ^ 0x5a);
        (void)parse_metainfo(bad);
    }
}

TEST_CASE("metainfo: single-file fields, piece sizes and hashes") {
    std::string t = single_torrent(40000, 16384,
                                   "13:announce-listll2:t12:t2el2:t3ee7:comment2:hi10:created by3:me!"
                                   "13:creation datei1700000000e8:url-list8:http://w");
    auto m = parse_metainfo(t);
    REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().describe()));
    CHECK(!m->multi_file);
    CHECK(m->name == "file");
    CHECK(m->files.size() == 1);
    CHECK(m->files[0].path_string == "file");
    CHECK(m->files[0].offset == 0);
    CHECK(m->num_pieces() == 3);
    CHECK(m->piece_size(0) == 16384);
    CHECK(m->piece_size(1) == 16384);
    CHECK(m->piece_size(2) == 40000 - 2 * 16384);
    CHECK(m->piece_size(3) == 0);
    Sha1Digest h1{};
    h1.fill(uint8_t('b'));
    CHECK(m->piece_hash(1) == h1);
    CHECK(m->announce == "url");
    CHECK(m->tracker_tiers() == std::vector<std::vector<std::string>>{{"t1", "t2"}, {"t3"}});
    CHECK(m->comment == "hi");
    CHECK(m->created_by == "me!");
    CHECK(m->creation_date == 1700000000);
    CHECK(m->url_list == std::vector<std::string>{"http://w"});
    CHECK(!m->is_private);
    // Exact multiple: the last piece is full.
    auto e = parse_metainfo(single_torrent(32768, 16384));
    REQUIRE(e.ok());
    CHECK(e->piece_size(1) == 16384);
}

TEST_CASE("metainfo: info-hash is over the raw bytes, even with unsorted keys") {
    // Keys out of order: a re-encoding would sort them and change the hash.
    std::string pieces(20, 'x');
    std::string info = "d4:name1:n6:lengthi5e12:piece lengthi16384e6:pieces20:" + pieces + "7:privatei1ee";
    std::string t = "d4:info" + info + "e";
    auto m = parse_metainfo(t);
    REQUIRE(m.ok());
    CHECK(m->info_hash == sha1(info));
    CHECK(m->info_bytes == info);
    CHECK(m->is_private);
    CHECK(m->tracker_tiers().empty());
}

TEST_CASE("metainfo: path sanitising drops '.' and empty elements, escapes invalid UTF-8") {
    std::string files = file_dict(10, {".", "a", "", "b"}) + file_dict(10, {"caf\xc3\xa9"}) +
                        file_dict(10, {"bad\xff\xfe"});
    auto m = parse_metainfo(multi_torrent(files, 30));
    REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().describe()));
    CHECK(m->files[0].path == std::vector<std::string>{"a", "b"});
    CHECK(m->files[0].path_string == "a/b");
    CHECK(m->files[1].path_string == "caf\xc3\xa9");  // valid UTF-8 untouched
    CHECK(m->files[2].path_string == "bad%FF%FE");
    REQUIRE(m->warnings.size() == 1);
    CHECK(m->warnings[0].find("invalid UTF-8 in file 2") != std::string::npos);
    CHECK(m->files[2].offset == 20);

    // A name with invalid UTF-8 is escaped the same way.
    std::string pieces(20, 'x');
    auto n = parse_metainfo("d4:infod6:lengthi5e4:name2:\xc0\xaf" "12:piece lengthi16384e6:pieces20:" + pieces + "ee");
    REQUIRE(n.ok());
    CHECK(n->name == "%C0%AF");  // an overlong '/' never becomes a separator
    CHECK(n->files[0].path_string == "%C0%AF");
    // Issue 12: this torrent has no tracker, which is now said too.
    CHECK(n->warnings.size() == 2);
    CHECK(n->warnings[1] == "no trackers: DHT is not supported yet");
}

TEST_CASE("metainfo: duplicate paths are renamed deterministically with a warning") {
    std::string files = file_dict(1, {"a"}) + file_dict(1, {"a"}) + file_dict(1, {"a"}) +
                        file_dict(1, {"a", "x"}) + file_dict(1, {"a", "y"}) + file_dict(1, {"d", "f"}) +
                        file_dict(1, {"d"}) + file_dict(1, {"A"});
    auto m = parse_metainfo(multi_torrent(files, 8));
    REQUIRE(m.ok());
    std::vector<std::string> got;
    for (const auto& f : m->files) got.push_back(f.path_string);
    // "a" is a file, so later "a/..." files move into "a.3/" (a.1, a.2 are
    // taken by files); "d" is a directory, so the file "d" becomes "d.1".
    // Comparison is byte-exact: "A" is not a duplicate of "a".
    CHECK(got == std::vector<std::string>{"a", "a.1", "a.2", "a.3/x", "a.3/y", "d/f", "d.1", "A"});
    CHECK(m->warnings.size() == 5);
    CHECK(m->warnings[0].find("renamed to 'a.1'") != std::string::npos);
    // The same input always gives the same names.
    auto again = parse_metainfo(multi_torrent(files, 8));
    REQUIRE(again.ok());
    for (size_t i = 0; i < got.size(); ++i) CHECK(again->files[i].path_string == got[i]);
    // Renamed paths keep their elements in sync with path_string.
    CHECK(m->files[3].path == std::vector<std::string>{"a.3", "x"});
}

TEST_CASE("metainfo: colliding and deep paths cost linear time") {
    // 20,000 files all called "a" (a 480 KB torrent) took a minute when every
    // rename search started again from "a.1"; a single path 200,000
    // elements deep was quadratic in its depth.  Both now parse at once;
    // the bound is loose enough for sanitizer builds on a busy machine.
    std::string files;
    const int n = 20000;
    for (int i = 0; i < n; ++i) files += file_dict(1, {"a"});
    std::string deep = "d6:lengthi1e4:pathl";
    for (int i = 0; i < 200000; ++i) deep += "1:d";
    files += deep + "ee";
    auto t0 = std::chrono::steady_clock::now();
    auto m = parse_metainfo(multi_torrent(files, n + 1));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(m.ok());
    CHECK(m->files[n - 1].path_string == "a." + std::to_string(n - 1));
    CHECK(m->files[n].path.size() == 200000);
    CHECK(m->warnings.size() == size_t(n - 1));
    CHECK(secs < 10.0);
}

TEST_CASE("metainfo: pad files are flagged and exempt from renaming") {
    std::string files = file_dict(10, {"a"}) + file_dict(16374, {".pad", "16374"}, "p") + file_dict(10, {"b"}) +
                        file_dict(16374, {".pad", "16374"}, "p") + file_dict(5, {"c"}, "x");
    auto m = parse_metainfo(multi_torrent(files, 10 + 16374 + 10 + 16374 + 5));
    REQUIRE(m.ok());
    CHECK(!m->files[0].pad);
    CHECK(m->files[1].pad);
    CHECK(m->files[3].pad);
    CHECK(m->files[3].path_string == ".pad/16374");
    CHECK(!m->files[4].pad);
    CHECK(m->files[2].offset == 16384);
    CHECK(m->warnings.empty());
}

TEST_CASE("metainfo: hostile paths are refused") {
    CHECK(err_of(multi_torrent(file_dict(1, {"a", "..", "b"}), 1)) == "path element '..' in file 0");
    CHECK(err_of(multi_torrent(file_dict(1, {"ok"}) + file_dict(1, {".."}), 2)) == "path element '..' in file 1");
    CHECK(err_of(multi_torrent(file_dict(1, {"a/b"}), 1)) == "path element containing '/' in file 0");
    CHECK(err_of(multi_torrent(file_dict(1, {"C:\\x"}), 1)) == "path element containing '\\' in file 0");
    CHECK(err_of(multi_torrent(file_dict(1, {std::string("a\0b", 3)}), 1)) == "path element containing NUL in file 0");
    CHECK(err_of(multi_torrent(file_dict(1, {"a\nb"}), 1)) == "path element containing a control character in file 0");
    CHECK(err_of(multi_torrent(file_dict(1, {"a\x7f"}), 1)) == "path element containing a control character in file 0");
    CHECK(err_of(multi_torrent(file_dict(1, {".", ""}), 1)) == "file 0 has an empty path");
    CHECK(err_of(multi_torrent("d6:lengthi1e4:pathli1eee", 1)) == "file 0 has a path element that is not a string");
    CHECK(err_of(multi_torrent("i1e", 1)) == "file 0 is not a dictionary");
}

TEST_CASE("metainfo: limits") {
    MetainfoLimits lim;
    lim.max_files = 2;
    std::string three = multi_torrent(file_dict(1, {"a"}) + file_dict(1, {"b"}) + file_dict(1, {"c"}), 3);
    CHECK(err_of(three, lim) == "torrent has 3 files, over the limit of 2");
    CHECK(err_of(three) == "ok");
    lim = {};
    lim.max_piece_length = 8192;
    CHECK(err_of(single_torrent(100, 16384), lim) == "piece length 16384 exceeds the limit of 8192");
    lim = {};
    lim.max_file_size = 50;
    std::string t = single_torrent(100, 16384);
    CHECK(err_of(t, lim).find("exceeds the limit of 50") != std::string::npos);

    std::string path = "/tmp/btl_test_metainfo_big.torrent";
    {
        std::ofstream o(path, std::ios::binary);
        o << t;
    }
    auto r = load_metainfo_file(path, lim);
    REQUIRE(!r.ok());
    CHECK(r.error().message == "file is " + std::to_string(t.size()) + " bytes, over the limit of 50");
    CHECK(load_metainfo_file(path).ok());
    std::remove(path.c_str());
    auto missing = load_metainfo_file("/nonexistent/x.torrent");
    REQUIRE(!missing.ok());
    CHECK(missing.error().message == "No such file or directory");
    CHECK(load_metainfo_file("/tmp").error().message == "not a regular file");
}

TEST_CASE("metainfo: UTF-8 validation") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain"));
    CHECK(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
    CHECK(!is_valid_utf8("\xc0\xaf"));                           // overlong
    CHECK(!is_valid_utf8("\xe0\x80\xaf"));                       // overlong
    CHECK(!is_valid_utf8("\xed\xa0\x80"));                       // surrogate
    CHECK(!is_valid_utf8("\xf4\x90\x80\x80"));                   // > U+10FFFF
    CHECK(!is_valid_utf8("\xe2\x82"));                           // truncated
    CHECK(!is_valid_utf8("\x80"));
    CHECK(escape_invalid_utf8("a\xe2\x82" "b\xc3\xa9") == "a%E2%82b\xc3\xa9");
}

TEST_CASE("json: strings are escaped and always valid UTF-8") {
    CHECK(json_string("plain") == "\"plain\"");
    CHECK(json_string("q\"b\\s/") == "\"q\\\"b\\\\s/\"");
    CHECK(json_string("a\nb\tc\x01") == "\"a\\nb\\tc\\u0001\"");
    CHECK(json_string("\xc3\xa9") == "\"\xc3\xa9\"");
    CHECK(json_string("x\xff") == "\"x%FF\"");
    CHECK(json_string(std::string("a\0b", 3)) == "\"a\\u0000b\"");
}

// ---- issue 12: clear words for what is not supported yet

TEST_CASE("metainfo: a v2-only torrent (BEP 52) is refused as such") {
    std::string pieces(20, 'x');
    std::string v2 = "d8:announce3:url4:infod9:file treed4:filed0:d6:lengthi5e11:pieces root32:" + std::string(32, 'r') +
                     "eee12:meta versioni2e4:name4:file12:piece lengthi16384eee";
    CHECK(err_of(v2) == "BitTorrent v2-only torrent (BEP 52) is not supported yet");
    // Neither files nor a v2 file tree: still the plain complaint.
    CHECK(err_of("d4:infod4:name1:x12:piece lengthi16384e6:pieces20:" + pieces + "ee") ==
          "info has neither 'length' nor 'files'");
}

TEST_CASE("metainfo: a hybrid torrent loads as v1 and its size leaves out the BEP 47 pad files") {
    std::string files = file_dict(10, {"a"}) + file_dict(16374, {".pad", "16374"}, "p") + file_dict(7, {"b"});
    std::string t = multi_torrent(files, 10 + 16374 + 7);
    // A hybrid's info also holds "meta version" 2 and a "file tree".
    t.insert(t.find("4:name"), "12:meta versioni2e");
    auto m = parse_metainfo(t);
    REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().describe()));
    CHECK(m->total_length == 10 + 16374 + 7);  // the piece stream
    CHECK(m->content_length == 17);            // what lands on disk
    auto single = parse_metainfo(single_torrent(1000, 16384));
    REQUIRE(single.ok());
    CHECK(single->content_length == 1000);
}

TEST_CASE("metainfo: no tracker and web seeds only each get one warning naming what is missing") {
    std::string pieces(20, 'x');
    std::string info = "4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:" + pieces + "e";
    auto none = parse_metainfo("d" + info + "e");
    REQUIRE(none.ok());
    CHECK(none->warnings == std::vector<std::string>{"no trackers: DHT is not supported yet"});
    auto ws = parse_metainfo("d" + info + "8:url-listl21:http://example.org/x/ee");
    REQUIRE(ws.ok());
    REQUIRE(ws->warnings.size() == 1);
    CHECK(ws->warnings[0].find("web seeds (BEP 19) are not supported yet") != std::string::npos);
    // With a tracker, web seeds are simply unused: no warning.
    auto both = parse_metainfo("d8:announce3:url" + info + "8:url-listl21:http://example.org/x/ee");
    REQUIRE(both.ok());
    CHECK(both->warnings.empty());
    auto tiers = parse_metainfo("d13:announce-listll3:urlee" + info + "e");
    REQUIRE(tiers.ok());
    CHECK(tiers->warnings.empty());
}

TEST_CASE("metainfo: a magnet link or a .magnet file is named as such, not 'No such file'") {
    CHECK(is_magnet_uri("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"));
    CHECK(is_magnet_uri("MAGNET:?xt=urn:btih:x"));
    CHECK_FALSE(is_magnet_uri("magnet.torrent"));
    CHECK_FALSE(is_magnet_uri("magnet"));
    auto r = load_metainfo_file("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "a magnet link, not a .torrent file");
    auto f = load_metainfo_file("/nonexistent/dir/ubuntu.magnet");
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().message == "a .magnet file (a magnet link), not a .torrent file");
    auto t = load_metainfo_file("/nonexistent/dir/ubuntu.torrent");
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().message == std::strerror(ENOENT));
}
