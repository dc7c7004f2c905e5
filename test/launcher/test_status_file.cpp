#include <doctest/doctest.h>
#include <unistd.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "btl/launcher/status_file.hpp"

using namespace btl;
namespace fs = std::filesystem;

namespace {

// A loop, a temporary directory and a document the test changes at will.
struct Fixture {
    uv_loop_t loop{};
    fs::path dir;
    std::string doc = "{\"v\":1}";
    uint64_t version = 1;
    int document_calls = 0, version_calls = 0;
    std::vector<std::string> warnings;

    Fixture() {
        uv_loop_init(&loop);
        char tmpl[] = "/tmp/btl-status-file-XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        dir = tmpl;
    }
    ~Fixture() {
        uv_run(&loop, UV_RUN_DEFAULT);  // closes what the StatusFile released
        uv_loop_close(&loop);
        fs::remove_all(dir);
    }
    std::string path() const { return (dir / "status.json").string(); }
    std::unique_ptr<StatusFile> make(std::string p) {
        StatusFile::Source src{[this] {
                                   ++version_calls;
                                   return version;
                               },
                               [this] {
                                   ++document_calls;
                                   return doc;
                               }};
        return std::make_unique<StatusFile>(&loop, std::move(p), std::move(src),
                                            [this](const std::string& m) { warnings.push_back(m); });
    }
    std::string read() const {
        std::ifstream in(path());
        return std::string((std::istreambuf_iterator<char>(in)), {});
    }
    // Runs the loop until `pred` or 5 s.
    template <class P>
    bool run_until(P pred) {
        for (int i = 0; i < 500 && !pred(); ++i) {
            uv_run(&loop, UV_RUN_NOWAIT);
            if (!pred()) ::usleep(10'000);
        }
        return pred();
    }
};

}  // namespace

TEST_CASE("status_file: writes the document, skips an unchanged version, writes a changed one") {
    Fixture f;
    auto s = f.make(f.path());
    REQUIRE(s->start(60'000).ok());
    s->write();
    REQUIRE(f.run_until([&] { return s->writes() == 1; }));
    CHECK(f.read() == "{\"v\":1}");
    s->write();  // same version: no write
    uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK(s->writes() == 1);
    CHECK(f.version_calls == 2);   // asked (the source refreshes there)...
    CHECK(f.document_calls == 1);  // ...but not built again: nothing is written
    f.doc = "{\"v\":2}";
    f.version = 2;
    s->write();
    REQUIRE(f.run_until([&] { return s->writes() == 2; }));
    CHECK(f.read() == "{\"v\":2}");
    bool flushed = false;
    s->flush([&] { flushed = true; });
    REQUIRE(f.run_until([&] { return flushed; }));
    CHECK(s->writes() == 3);  // the final document is written even if unchanged
}

TEST_CASE("status_file: writes asked for during a write coalesce into one, with the latest document") {
    Fixture f;
    auto s = f.make(f.path());
    REQUIRE(s->start(60'000).ok());
    s->write();
    for (int i = 2; i <= 10; ++i) {  // all while the first is on the pool
        f.doc = "{\"v\":" + std::to_string(i) + "}";
        f.version = uint64_t(i);
        s->write();
    }
    REQUIRE(f.run_until([&] { return s->writes() == 2; }));
    for (int i = 0; i < 5; ++i) uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK(s->writes() == 2);
    CHECK(f.read() == "{\"v\":10}");
    CHECK(f.warnings.empty());
}

TEST_CASE("status_file: soon() writes within a fraction of a second; a burst makes one write") {
    Fixture f;
    auto s = f.make(f.path());
    REQUIRE(s->start(60'000).ok());
    for (int i = 0; i < 100; ++i) s->soon();
    REQUIRE(f.run_until([&] { return s->writes() == 1; }));
    for (int i = 0; i < 5; ++i) uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK(f.document_calls == 1);
    CHECK(s->writes() == 1);
}

TEST_CASE("status_file: start removes temporary files a SIGKILL left; a failed write is a warning") {
    Fixture f;
    std::ofstream(f.path() + ".tmp.aB3dE9") << "half";
    std::ofstream(f.path() + ".tmp.keep") << "not ours";
    auto s = f.make(f.path());
    REQUIRE(s->start(60'000).ok());
    CHECK(!fs::exists(f.path() + ".tmp.aB3dE9"));
    CHECK(fs::exists(f.path() + ".tmp.keep"));

    auto broken = f.make((f.dir / "missing" / "status.json").string());
    REQUIRE(broken->start(60'000).ok());
    bool flushed = false;
    broken->flush([&] { flushed = true; });
    REQUIRE(f.run_until([&] { return flushed; }));
    REQUIRE(f.warnings.size() == 1);
    CHECK(f.warnings[0].rfind("status_json: cannot write", 0) == 0);
    CHECK(broken->writes() == 0);
}

TEST_CASE("status_file: with no path nothing is written and flush finishes at once") {
    Fixture f;
    auto s = f.make("");
    REQUIRE(s->start(1).ok());
    s->soon();
    bool flushed = false;
    s->flush([&] { flushed = true; });
    CHECK(flushed);
    CHECK(f.document_calls == 0);
}

TEST_CASE("status_file: destroyed while a write runs, its callback never runs") {
    Fixture f;
    auto s = f.make(f.path());
    REQUIRE(s->start(60'000).ok());
    bool flushed = false;
    s->flush([&] { flushed = true; });
    s.reset();
    uv_run(&f.loop, UV_RUN_DEFAULT);  // the pool job finishes; no callback into the dead object
    CHECK(!flushed);
    CHECK(f.read() == "{\"v\":1}");
}

TEST_CASE("status_file: an unchanged file gets a new mtime each alive interval; rewritten whole only past the rewrite interval") {
    Fixture f;
    auto s = f.make(f.path());
    // mtime every 150 ms, whole rewrite at most every 1.2 s (not stretched by its cost here)
    s->set_unchanged_timing(150, 1200, 0);
    REQUIRE(s->start(60'000).ok());
    s->write();
    REQUIRE(f.run_until([&] { return s->writes() == 1; }));
    CHECK(s->rewrite_unchanged_ms() == 1200);
    auto mtime = fs::last_write_time(f.path());
    s->write();  // younger than alive_ms: nothing at all
    uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK(s->touches() == 0);
    ::usleep(200'000);
    uv_update_time(&f.loop);
    s->write();  // unchanged, a touch: the document is not built again
    REQUIRE(f.run_until([&] { return s->touches() == 1; }));
    CHECK(s->writes() == 1);
    CHECK(f.document_calls == 1);
    CHECK(fs::last_write_time(f.path()) > mtime);
    CHECK(f.read() == "{\"v\":1}");
    // Past the rewrite interval: the whole document again (its fields that
    // make no new version are refreshed there).
    ::usleep(1'200'000);
    uv_update_time(&f.loop);
    f.doc = "{\"v\":1,\"counter\":7}";  // same version, as with the DHT's packet counters
    s->write();
    REQUIRE(f.run_until([&] { return s->writes() == 2; }));
    CHECK(f.document_calls == 2);
    CHECK(s->touches() == 1);
    CHECK(f.read() == "{\"v\":1,\"counter\":7}");
    // A file removed by hand: the touch fails, and the next tick writes it whole.
    fs::remove(f.path());
    ::usleep(200'000);
    uv_update_time(&f.loop);
    s->write();  // a touch, which fails
    for (int i = 0; i < 50; ++i) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        ::usleep(2'000);
    }
    CHECK(s->touches() == 1);
    CHECK(s->writes() == 2);
    CHECK_FALSE(fs::exists(f.path()));
    s->write();
    REQUIRE(f.run_until([&] { return s->writes() == 3; }));
    CHECK(f.read() == "{\"v\":1,\"counter\":7}");
    bool flushed = false;
    s->flush([&] { flushed = true; });
    REQUIRE(f.run_until([&] { return flushed; }));
}

TEST_CASE("status_file: an unchanged document's whole rewrite waits kUnchangedCostFactor times what a write cost") {
    Fixture f;
    f.doc = std::string(16 << 20, 'x');  // a write that costs something measurable (> 1 ms)
    auto s = f.make(f.path());
    REQUIRE(s->start(60'000).ok());
    CHECK(s->rewrite_unchanged_ms() == 60'000);  // nothing written yet: the minute
    s->write();
    REQUIRE(f.run_until([&] { return s->writes() == 1; }));
    s->set_unchanged_timing(60'000, 0);
    CHECK(s->rewrite_unchanged_ms() >= StatusFile::kUnchangedCostFactor);  // >= 1 ms of cost
    CHECK(s->rewrite_unchanged_ms() % StatusFile::kUnchangedCostFactor == 0);
}
