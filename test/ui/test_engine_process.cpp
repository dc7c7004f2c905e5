// Starting the engine detached and waiting for its socket (engine_process):
// real processes, a real Unix socket, a temporary directory.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "btl/base/lock_file.hpp"
#include "btl/ui/engine_process.hpp"

using namespace btl;
using namespace btl::ui;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/btl-engine-process-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string read_all(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("engine argv: the same options with the display forced to plain") {
    auto a = engine_argv("btlaunchmany", {"/w", "--save_in", "/s", "--display_interval", "0.5"});
    CHECK(a == std::vector<std::string>{"btlaunchmany", "/w", "--save_in", "/s", "--display_interval", "0.5",
                                        "--display", "plain"});
    // Positional arguments after -- stay after it.
    auto b = engine_argv("btlaunchmany", {"--data_dir", "/d", "--", "-odd-dir"});
    CHECK(b == std::vector<std::string>{"btlaunchmany", "--data_dir", "/d", "--display", "plain", "--", "-odd-dir"});
}

TEST_CASE("spawn_engine: own session, output appended to the log; a failed start names the log") {
    TempDir d;
    const std::string log = d.path + "/engine.log";
    {
        std::ofstream(log) << "earlier run\n";
    }
    auto pid = spawn_engine("/bin/sh", {"sh", "-c", "echo sid=$(ps -o sid= -p $$ | tr -d ' ') pid=$$; read x; exit 3"}, log);
    REQUIRE(pid.ok());
    auto st = wait_for_engine(d.path + "/rpc.sock", *pid, d.path, 10, log);
    REQUIRE(!st.ok());
    CHECK(st.error().message.find("exit status 3") != std::string::npos);
    CHECK(st.error().message.find(log) != std::string::npos);
    std::string text = read_all(log);
    CHECK(text.rfind("earlier run\n", 0) == 0);
    // Its own session: the session id is its own pid (setsid), not ours.
    CHECK(text.find("sid=" + std::to_string(*pid) + " pid=" + std::to_string(*pid)) != std::string::npos);
}

TEST_CASE("wait_for_engine: returns once the socket accepts; times out naming the socket") {
    TempDir d;
    const std::string sock = d.path + "/rpc.sock", log = d.path + "/engine.log";
    // A listener that comes up a little later, as an engine does.
    std::string py = "import socket,time; time.sleep(0.3); s=socket.socket(socket.AF_UNIX); s.bind('" + sock +
                     "'); s.listen(); time.sleep(5)";
    auto pid = spawn_engine("/usr/bin/python3", {"python3", "-c", py}, log);
    REQUIRE(pid.ok());
    CHECK(wait_for_engine(sock, *pid, d.path, 10, log).ok());
    kill(*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);

    auto never = spawn_engine("/bin/sleep", {"sleep", "5"}, log);
    REQUIRE(never.ok());
    auto st = wait_for_engine(d.path + "/other.sock", *never, d.path, 0.3, log);
    REQUIRE(!st.ok());
    CHECK(st.error().message.find("did not open " + d.path + "/other.sock") != std::string::npos);
    kill(*never, SIGKILL);
    waitpid(*never, nullptr, 0);
}

TEST_CASE("engine_running: the data dir's lock says whether an engine runs") {
    TempDir d;
    CHECK(!engine_running(d.path));
    auto held = try_lock_file(d.path + "/btlaunchmany.lock");
    REQUIRE(held.ok());
    // flock locks belong to the open file: a second open in this process
    // is refused like another process would be.
    int pid = -1;
    CHECK(engine_running(d.path, &pid));
    CHECK(pid == getpid());
    held.lock.release();
    CHECK(!engine_running(d.path));
}
