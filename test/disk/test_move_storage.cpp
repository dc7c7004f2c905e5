#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "btl/disk/move_storage.hpp"
#include "btl/disk/resume.hpp"
#include "storage_test_util.hpp"

using namespace btl;
using testutil::TempDir;

namespace {

bool exists(const std::string& p) { return std::filesystem::exists(p); }

int64_t mtime_ns(const std::string& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

struct Fixture {
    TempDir tmp;
    std::vector<uint8_t> data = testutil::pattern(300'000, 7);
    Metainfo m = testutil::make_meta({100'000, 0, 150'000, 50'000}, 32768, data, true,
                                     {"a.bin", "empty", "sub/b.bin", "sub/deeper/c.bin"});
    std::string from = tmp / "old/t", to = tmp / "new/t";
    Fixture() {
        int64_t off = 0;
        for (const auto& f : m.files) {
            std::vector<uint8_t> part(data.begin() + off, data.begin() + off + f.length);
            testutil::write_file(from + "/" + f.path_string, part);
            off += f.length;
        }
    }
    void check_at(const std::string& root) {
        int64_t off = 0;
        for (const auto& f : m.files) {
            std::vector<uint8_t> part(data.begin() + off, data.begin() + off + f.length);
            CHECK(testutil::read_file(root + "/" + f.path_string) == part);
            off += f.length;
        }
    }
};

}  // namespace

TEST_CASE("move_storage: a save path keeps its last element") {
    CHECK(relocated_save_path("/srv/dl/Movie", "/mnt/done") == "/mnt/done/Movie");
    CHECK(relocated_save_path("/srv/dl/file.iso/", "/mnt/done/") == "/mnt/done/file.iso");
    CHECK(relocated_save_path("/srv/x", "/") == "/x");
    CHECK(relocated_save_path("/", "/mnt") == "");
    CHECK(relocated_save_path("/srv/x", "") == "");
}

TEST_CASE("move_storage: plans skip pad files and keep relative paths") {
    std::vector<uint8_t> data = testutil::pattern(100, 1);
    Metainfo multi = testutil::make_meta({40, 24, 36}, 64, data, true, {"a", ".pad/24", "d/b"}, {false, true, false});
    MovePlan p = plan_move(multi, "/s/t/", "/d/t");
    REQUIRE(p.files.size() == 2);
    CHECK(p.files[0].from == "/s/t/a");
    CHECK(p.files[0].to == "/d/t/a");
    CHECK(p.files[1].to == "/d/t/d/b");
    CHECK(p.files[1].length == 36);
    Metainfo single = testutil::make_meta({100}, 64, data, false, {"x.iso"});
    MovePlan q = plan_move(single, "/s/x.iso", "/d/x.iso");
    REQUIRE(q.files.size() == 1);
    CHECK(q.files[0].from == "/s/x.iso");
    CHECK(q.files[0].length == 100);
}

TEST_CASE("move_storage: refuses the same place and nesting") {
    CHECK(move_refusal("/a/b", "/a/b/") != "");
    CHECK(move_refusal("/a/b", "/a/b/c") != "");
    CHECK(move_refusal("/a/b/c", "/a/b") != "");
    CHECK(move_refusal("/a/b", "/a/bc") == "");
    CHECK(move_refusal("/a/b", "/c/b") == "");
    Fixture f;
    CHECK_FALSE(execute_move(plan_move(f.m, f.from, f.from + "/in")).ok());
    f.check_at(f.from);  // nothing touched
}

TEST_CASE("move_storage: rename on one file system keeps data and mtimes, removes the old tree") {
    Fixture f;
    int64_t mt = mtime_ns(f.from + "/sub/b.bin");
    MoveProgress prog;
    REQUIRE(execute_move(plan_move(f.m, f.from, f.to), &prog).ok());
    f.check_at(f.to);
    CHECK(mtime_ns(f.to + "/sub/b.bin") == mt);
    CHECK_FALSE(exists(f.from));  // emptied directories go too
    CHECK(prog.bytes_done.load() == 300'000);
    CHECK(prog.bytes_total.load() == 300'000);
}

TEST_CASE("move_storage: the copy path (another file system) copies, keeps mtimes, then unlinks") {
    Fixture f;
    int64_t mt = mtime_ns(f.from + "/a.bin");
    MovePlan p = plan_move(f.m, f.from, f.to);
    p.force_copy = true;
    MoveProgress prog;
    REQUIRE(execute_move(p, &prog).ok());
    f.check_at(f.to);
    CHECK(mtime_ns(f.to + "/a.bin") == mt);
    CHECK_FALSE(exists(f.from));
    CHECK_FALSE(exists(f.to + "/a.bin.btlmove"));
    CHECK(prog.bytes_done.load() == 300'000);
}

TEST_CASE("move_storage: a move killed halfway is finished by running it again") {
    Fixture f;
    MovePlan p = plan_move(f.m, f.from, f.to);
    p.force_copy = true;
    // The state a kill -9 can leave: one file copied and in place (source
    // not yet unlinked), one half-copied temp, one still only at the source.
    std::filesystem::create_directories(f.to + "/sub");
    std::filesystem::copy_file(f.from + "/a.bin", f.to + "/a.bin");
    testutil::write_file(f.to + "/sub/b.bin.btlmove", testutil::pattern(1000, 99));
    testutil::write_file(f.to + "/sub/b.bin", testutil::pattern(10, 98));  // a stale partial destination
    REQUIRE(execute_move(p).ok());
    f.check_at(f.to);
    CHECK_FALSE(exists(f.from));
    CHECK_FALSE(exists(f.to + "/sub/b.bin.btlmove"));
    // A temp left beside a file that a rename then moves is removed too.
    Fixture g;
    testutil::write_file(g.to + "/a.bin.btlmove", testutil::pattern(100, 97));
    REQUIRE(execute_move(plan_move(g.m, g.from, g.to)).ok());
    CHECK_FALSE(exists(g.to + "/a.bin.btlmove"));
    g.check_at(g.to);
    // And again, after everything was done: nothing changes, nothing fails.
    REQUIRE(execute_move(p).ok());
    f.check_at(f.to);
}

TEST_CASE("move_storage: files never written (an incomplete download) are skipped") {
    Fixture f;
    std::filesystem::remove(f.from + "/sub/b.bin");
    REQUIRE(execute_move(plan_move(f.m, f.from, f.to)).ok());
    CHECK(exists(f.to + "/a.bin"));
    CHECK_FALSE(exists(f.to + "/sub/b.bin"));
}

TEST_CASE("move_storage: a symlink in place of a file is refused, naming it") {
    Fixture f;
    std::filesystem::remove(f.from + "/a.bin");
    std::filesystem::create_symlink("/etc/passwd", f.from + "/a.bin");
    Status s = execute_move(plan_move(f.m, f.from, f.to));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find(f.from + "/a.bin") != std::string::npos);
}

TEST_CASE("resume: places and label keys round-trip and are optional") {
    ResumeData r;
    r.num_pieces = 3;
    r.have_bits = std::string("\xe0", 1);
    r.save_path = "/a/t";
    r.placed = 1;
    r.move_from = "/a/t";
    r.move_to = "/b/t";
    r.move_placed = 2;
    r.label = "movies";
    auto d = decode_resume(encode_resume(r));
    REQUIRE(d.ok());
    CHECK(d->placed == 1);
    CHECK(d->move_from == "/a/t");
    CHECK(d->move_to == "/b/t");
    CHECK(d->move_placed == 2);
    CHECK(d->label == "movies");
    ResumeData plain;
    plain.num_pieces = 3;
    plain.have_bits = std::string("\xe0", 1);
    auto e = decode_resume(encode_resume(plain));
    REQUIRE(e.ok());
    CHECK(e->placed == 0);
    CHECK(e->move_to.empty());
    CHECK(e->label.empty());
}
