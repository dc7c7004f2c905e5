// prepare_engine_process(): signals a peer or a file limit would raise are
// ignored, and threads that allocate at once share at most kMallocArenas
// malloc arenas.  Checked in a forked child, so the test binary's own
// settings stay as they were.
#include <doctest/doctest.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "btl/base/process.hpp"

namespace {

// The arenas glibc has made so far: malloc_info lists one <heap> each.
int malloc_arenas() {
    char* text = nullptr;
    size_t len = 0;
    FILE* f = open_memstream(&text, &len);
    if (!f || malloc_info(0, f) != 0) return -1;
    std::fclose(f);
    int n = 0;
    for (const char* p = text; (p = std::strstr(p, "<heap nr=")) != nullptr; ++p) ++n;
    std::free(text);
    return n;
}

bool ignored(int sig) {
    struct sigaction sa {};
    return sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

// Eight threads allocating at the same moment (each holds its block until
// all have one, so none can reuse an arena another just left).
void allocate_on_threads() {
    std::atomic<int> holding{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i)
        ts.emplace_back([&] {
            void* p = std::malloc(4096);
            ++holding;
            while (holding.load() < 8) std::this_thread::yield();
            std::free(p);
        });
    for (auto& t : ts) t.join();
}

// 0: as expected; otherwise which check failed.
int child_checks() {
    std::signal(SIGPIPE, SIG_DFL);  // whatever earlier tests set
    std::signal(SIGXFSZ, SIG_DFL);
    unsetenv("MALLOC_ARENA_MAX");
    const int before = malloc_arenas();
    btl::prepare_engine_process();
    if (!ignored(SIGPIPE) || !ignored(SIGXFSZ)) return 3;
    allocate_on_threads();
    const int after = malloc_arenas();
    if (before < 1 || after > std::max(before, btl::kMallocArenas)) return 4;
    return 0;
}

}  // namespace

TEST_CASE("process: SIGPIPE and SIGXFSZ ignored; allocating threads share at most kMallocArenas arenas") {
    std::fflush(nullptr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(child_checks());
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
