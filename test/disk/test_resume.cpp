#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "btl/core/bencode.hpp"
#include "btl/disk/resume.hpp"
#include "storage_test_util.hpp"

using namespace btl;
using testutil::TempDir;

static ResumeData sample() {
    ResumeData r;
    for (int i = 0; i < 20; ++i) r.info_hash[i] = uint8_t(i * 13);
    r.num_pieces = 11;
    r.have_bits = std::string("\xff\xe0", 2);
    r.files = {{1000, 123456789012345}, {0, 5}, {-1, 0}};
    r.uploaded = 1 << 30;
    r.downloaded = 5;
    r.save_path = "/srv/dl";
    r.added_time = 1700000000;
    r.completed_time = 1700000100;
    r.paused = true;
    return r;
}

TEST_CASE("resume: encode/decode round trip") {
    ResumeData r = sample();
    auto d = decode_resume(encode_resume(r));
    REQUIRE(d.ok());
    CHECK(d->info_hash == r.info_hash);
    CHECK(d->num_pieces == 11);
    CHECK(d->have_bits == r.have_bits);
    REQUIRE(d->files.size() == 3);
    CHECK(d->files[0].mtime_ns == 123456789012345);
    CHECK(d->files[2].size == -1);
    CHECK(d->uploaded == r.uploaded);
    CHECK(d->downloaded == 5);
    CHECK(d->save_path == "/srv/dl");
    CHECK(d->added_time == r.added_time);
    CHECK(d->completed_time == r.completed_time);
    CHECK(d->paused);
}

TEST_CASE("resume: strict decoding") {
    auto err = [](const ResumeData& r) {
        auto d = decode_resume(encode_resume(r));
        return d.ok() ? std::string("ok") : d.error().message;
    };
    ResumeData r = sample();
    r.have_bits = std::string("\xff", 1);
    CHECK(err(r) == "resume data: have bitfield has the wrong size");
    r = sample();
    r.have_bits = std::string("\xff\xf0", 2);
    CHECK(err(r) == "resume data: have bitfield has spare bits set");
    r = sample();
    r.files.push_back({-5, 0});
    CHECK(err(r) == "resume data: malformed file entry");

    auto mutate = [](const std::string& key, BValue v) {
        std::string enc = encode_resume(sample());  // BDoc points into it
        auto doc = decode(enc);
        BValue b = to_value(doc->root());
        b[key] = std::move(v);
        auto d = decode_resume(encode(b));
        return d.ok() ? std::string("ok") : d.error().message;
    };
    CHECK(mutate("version", 3) == "unsupported resume format version 3");
    CHECK(mutate("info-hash", "short") == "resume data: info-hash is not 20 bytes");
    CHECK(mutate("paused", 2) == "resume data: \"paused\" out of range");
    CHECK(mutate("uploaded", "x") == "resume data: \"uploaded\" is not an integer");
    CHECK(mutate("files", 1) == "resume data: \"files\" missing or not a list");
    CHECK(mutate("pieces", -1) == "resume data: \"pieces\" out of range");
    CHECK(mutate("boot-id", 5) == "resume data: \"boot-id\" is not a string");
    CHECK(mutate("boot-id", std::string(65, 'b')) == "resume data: \"boot-id\" is too long");

    std::string enc = encode_resume(sample());
    auto doc = decode(enc);
    BValue b = to_value(doc->root());
    b.as_dict().erase("save-path");
    CHECK(decode_resume(encode(b)).error().message == "resume data lacks \"save-path\"");
    CHECK_FALSE(decode_resume("garbage").ok());
    CHECK_FALSE(decode_resume("le").ok());
}

TEST_CASE("resume: atomic save and bounded read") {
    TempDir t;
    std::string p = t / "state/resume/x.resume";
    REQUIRE(save_resume_atomic(p, "first").ok());
    REQUIRE(save_resume_atomic(p, "second version").ok());
    auto back = read_small_file(p, 1000);
    REQUIRE(back.ok());
    CHECK(*back == "second version");
    size_t entries = 0;
    for (auto& e : std::filesystem::directory_iterator(t / "state/resume")) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);  // no temp file left behind
    auto big = read_small_file(p, 4);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message == p + " is too large (14 bytes, limit 4)");
    CHECK(read_small_file(t / "nope", 10).error().message == "cannot open " + t / "nope" + ": No such file or directory");
    // A directory that cannot be created gives one clear error.
    testutil::write_file(t / "file", {1});
    auto s = save_resume_atomic(t / "file/sub/x", "y");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find("cannot create directory") == 0);
}

TEST_CASE("resume: trusted_pieces keeps only pieces whose files are unchanged") {
    // Files 10, 0, 20, 6 bytes; pieces of 8: [0,8) [8,16) [16,24) [24,32) [32,36)
    FileLayout layout({10, 0, 20, 6}, 8);
    ResumeData r;
    r.num_pieces = 5;
    r.have_bits = pieces_to_bits({1, 1, 0, 1, 1});
    CHECK(r.have_bits == std::string("\xd8", 1));
    std::vector<FileStat> now = {{10, 100, true}, {0, 0, true}, {20, 200, true}, {6, 300, true}};
    r.files = resume_files(now);
    CHECK(trusted_pieces(r, layout, now, "boot-a") == std::vector<uint8_t>{1, 1, 0, 1, 1});

    auto changed = now;
    changed[2].mtime_ns = 201;  // file 2 spans pieces 1..3
    CHECK(trusted_pieces(r, layout, changed, "boot-a") == std::vector<uint8_t>{1, 0, 0, 0, 1});
    changed = now;
    changed[3].exists = false;  // file 3: pieces 3..4
    CHECK(trusted_pieces(r, layout, changed, "boot-a") == std::vector<uint8_t>{1, 1, 0, 0, 0});
    changed = now;
    changed[0].size = 9;
    CHECK(trusted_pieces(r, layout, changed, "boot-a") == std::vector<uint8_t>{0, 0, 0, 1, 1});
    changed = now;
    changed[1].mtime_ns = 7;  // an empty file touches no piece
    CHECK(trusted_pieces(r, layout, changed, "boot-a") == std::vector<uint8_t>{1, 1, 0, 1, 1});

    // A file not synced before the save is trusted only in the same boot.
    r.boot_id = "boot-a";
    r.files[2].synced = false;
    CHECK(trusted_pieces(r, layout, now, "boot-a") == std::vector<uint8_t>{1, 1, 0, 1, 1});
    CHECK(trusted_pieces(r, layout, now, "boot-b") == std::vector<uint8_t>{1, 0, 0, 0, 1});
    r.boot_id = "";  // an unknown boot is never the same boot
    CHECK(trusted_pieces(r, layout, now, "") == std::vector<uint8_t>{1, 0, 0, 0, 1});
    r.files[2].synced = true;
    CHECK(trusted_pieces(r, layout, now, "boot-b") == std::vector<uint8_t>{1, 1, 0, 1, 1});

    ResumeData wrong = r;
    wrong.num_pieces = 6;
    CHECK(trusted_pieces(wrong, layout, now, "boot-a") == std::vector<uint8_t>(5, 0));
    wrong = r;
    wrong.files.pop_back();
    CHECK(trusted_pieces(wrong, layout, now, "boot-a") == std::vector<uint8_t>(5, 0));
}

TEST_CASE("resume: paths") {
    Sha1Digest h{};
    h[0] = 0xab;
    CHECK(resume_path("/d", h) == "/d/resume/ab00000000000000000000000000000000000000.resume");
    const char* old_xdg = getenv("XDG_STATE_HOME");
    std::string saved = old_xdg ? old_xdg : "";
    setenv("XDG_STATE_HOME", "/x/state", 1);
    CHECK(default_data_dir() == "/x/state/btlaunchmany");
    unsetenv("XDG_STATE_HOME");
    const char* home = getenv("HOME");
    if (home && *home) CHECK(default_data_dir() == std::string(home) + "/.local/state/btlaunchmany");
    if (old_xdg) setenv("XDG_STATE_HOME", saved.c_str(), 1);
}

TEST_CASE("resume: save_resume_files records the files as they are on disk, and which are synced") {
    TempDir t;
    auto data = testutil::pattern(20);
    Metainfo m = testutil::make_meta({12, 8}, 8, data);
    testutil::write_file(t / "dl/t/f0", std::vector<uint8_t>(data.begin(), data.begin() + 12));
    auto st = Storage::open(m, t / "dl/t", nullptr);
    REQUIRE(st.ok());
    ResumeData rd;
    rd.num_pieces = 3;
    rd.have_bits = pieces_to_bits({1, 0, 0});
    rd.save_path = t / "dl/t";
    std::string path = t / "state/resume/x.resume";
    auto save = [&](DataSync mode) {
        REQUIRE(save_resume_files(path, rd, **st, mode).ok());
        auto back = decode_resume(*read_small_file(path, 1000));
        REQUIRE(back.ok());
        REQUIRE(back->files.size() == 2);
        auto now = (*st)->stat_files();
        CHECK(back->files[0].size == 12);
        CHECK(back->files[0].mtime_ns == now[0].mtime_ns);
        CHECK(back->files[1].size == -1);  // f1 does not exist yet
        CHECK(back->files[1].synced);      // nothing of it to lose
        CHECK(back->have_bits == rd.have_bits);
        CHECK(back->boot_id == current_boot_id());
        return *back;
    };
    CHECK_FALSE(current_boot_id().empty());  // Linux has /proc/sys/kernel/random/boot_id
    CHECK_FALSE(save(DataSync::no_sync).files[0].synced);
    CHECK_FALSE(save(DataSync::no_sync).files[0].synced);  // still not
    CHECK(save(DataSync::sync).files[0].synced);
    CHECK(save(DataSync::sync).files[0].synced);       // the second finds nothing to sync
    CHECK(save(DataSync::no_sync).files[0].synced);    // unchanged since synced
    // A write changes the mtime: the file is unsynced again until synced.
    testutil::write_file(t / "dl/t/f0", std::vector<uint8_t>(data.begin(), data.begin() + 12));
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (t / "dl/t/f0").c_str(), ts, 0) == 0);
    CHECK_FALSE(save(DataSync::no_sync).files[0].synced);
}

TEST_CASE("resume: version 1 files (every file synced, no boot id) still load") {
    std::string ih(20, 'h');
    std::string v1 = "d5:addedi1e9:completedi0e10:downloadedi0e5:filesll" "i12ei77eee" "4:have1:\x80" "9:info-hash20:" + ih +
                     "6:pausedi0e6:piecesi1e9:save-path1:/8:uploadedi0e7:versioni1ee";
    auto r = decode_resume(v1);
    REQUIRE(r.ok());
    REQUIRE(r->files.size() == 1);
    CHECK(r->files[0].size == 12);
    CHECK(r->files[0].synced);
    CHECK(r->boot_id.empty());
    // and a version 2 entry must carry its flag
    std::string v2 = encode_resume(*r);
    CHECK(v2.find("7:boot-id0:") != std::string::npos);
    CHECK(decode_resume(v2)->files[0].synced);
    std::string bad = v2;
    bad.replace(bad.find("i77ei1e"), 7, "i77ei2e");
    CHECK(decode_resume(bad).error().message == "resume data: malformed file entry");
}

TEST_CASE("resume: find_resume_temps finds only temp files of resume files") {
    TempDir t;
    std::string hex(40, 'a'), other(40, '0');
    for (const std::string& n : std::vector<std::string>{hex + ".resume.tmp.Ab12Cd", hex + ".resume.tmp.zz99yy", hex + ".resume",
                                hex + ".lock", other + ".resume.tmp.q", "junk.resume.tmp.abcdef",
                                std::string(40, 'A') + ".resume.tmp.abcdef", "status.json.tmp.abcdef"})
        testutil::write_file(t / ("d/resume/" + n), {1});
    auto found = find_resume_temps(t / "d");
    REQUIRE(found.size() == 2);
    auto a = found[hex];
    std::sort(a.begin(), a.end());
    CHECK(a == std::vector<std::string>{t / ("d/resume/" + hex + ".resume.tmp.Ab12Cd"),
                                        t / ("d/resume/" + hex + ".resume.tmp.zz99yy")});
    CHECK(found[other] == std::vector<std::string>{t / ("d/resume/" + other + ".resume.tmp.q")});
    CHECK(find_resume_temps(t / "missing").empty());
}

TEST_CASE("resume: per-file choices and sequential download round trip, strictly") {
    ResumeData r = sample();
    auto plain = decode_resume(encode_resume(r));
    REQUIRE(plain.ok());
    CHECK(plain->files_wanted.empty());  // absent keys: every file wanted, normal
    CHECK_FALSE(plain->sequential);
    CHECK(encode_resume(r).find("files-wanted") == std::string::npos);

    r.files_wanted = {true, false, true};
    r.file_priorities = {1, 0, -1};
    r.sequential = true;
    auto d = decode_resume(encode_resume(r));
    REQUIRE(d.ok());
    CHECK(d->files_wanted == r.files_wanted);
    CHECK(d->file_priorities == r.file_priorities);
    CHECK(d->sequential);

    // One entry per file, values in range, both lists together.
    auto bad = [&](ResumeData x) { return !decode_resume(encode_resume(x)).ok(); };
    ResumeData x = r;
    x.files_wanted = {true, false};
    x.file_priorities = {1, 0};
    CHECK(bad(x));
    x = r;
    x.file_priorities = {2, 0, 0};
    CHECK(bad(x));
    x = r;
    x.file_priorities = {1, 0};
    CHECK(bad(x));
    std::string enc = encode_resume(r);
    std::string wrong = enc;
    auto at = wrong.find("10:sequentiali1e");
    REQUIRE(at != std::string::npos);
    wrong.replace(at, 16, "10:sequentiali7e");
    CHECK_FALSE(decode_resume(wrong).ok());
}
