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
