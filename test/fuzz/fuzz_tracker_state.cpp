// bttrack's --dfile: the tracker reloads its state from this file at start,
// and a damaged or hand-edited file must not hurt it.  Any file either
// fails to load (leaving the registry empty) or loads into a registry whose
// image reloads to the same image, with consistent counts.
#include <string>
#include <string_view>

#include "btl/tracker/registry.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_tracker_state) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const int64_t now = 1'700'000'000;
    TrackerRegistry reg;
    auto st = reg.load(in, now);
    if (!st.ok()) {
        BTL_FUZZ_CHECK(!st.error().message.empty());
        BTL_FUZZ_CHECK(reg.total_peers() == 0 && reg.stats().torrents == 0);
        return 0;
    }
    RegistryStats s = reg.stats();
    BTL_FUZZ_CHECK(s.seeds + s.leechers == reg.total_peers());
    std::string image = reg.save();
    TrackerRegistry again;
    BTL_FUZZ_CHECK(again.load(image, now).ok());
    BTL_FUZZ_CHECK(again.save() == image);
    BTL_FUZZ_CHECK(again.total_peers() == reg.total_peers());
    // Nothing loaded is already past its timeout.
    BTL_FUZZ_CHECK(reg.expire(now) == 0);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_tracker_state)
