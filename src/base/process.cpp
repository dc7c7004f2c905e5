#include "btl/base/process.hpp"

#include <malloc.h>

#include <csignal>
#include <cstdlib>

namespace btl {

void prepare_engine_process() {
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGXFSZ, SIG_IGN);
    if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, kMallocArenas);
}

}  // namespace btl
