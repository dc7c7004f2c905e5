// BEP 11 ut_pex messages: any input either fails with a message naming
// ut_pex or parses to at most kMaxPexEntries peers per list, with ports
// set, and what we encode from a parsed message parses back to it.
#include <string>
#include <string_view>

#include "btl/ext/ut_pex.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_pex) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto m = parse_pex(in);
    if (!m) {
        BTL_FUZZ_CHECK(m.error().message.rfind("ut_pex: ", 0) == 0);
        return 0;
    }
    BTL_FUZZ_CHECK(m->added.size() <= 2 * kMaxPexEntries);
    BTL_FUZZ_CHECK(m->dropped.size() <= 2 * kMaxPexEntries);
    for (const auto& p : m->added) BTL_FUZZ_CHECK(p.ep.port != 0 && !p.ep.ip.empty());
    for (const auto& ep : m->dropped) BTL_FUZZ_CHECK(ep.port != 0 && !ep.ip.empty());
    auto again = parse_pex(encode_pex(*m));
    BTL_FUZZ_CHECK(again.ok());
    BTL_FUZZ_CHECK(again->added.size() == m->added.size() && again->dropped.size() == m->dropped.size());
    // IPv4 entries come first in both; within a family the order is kept.
    size_t i = 0;
    for (const auto& p : m->added)
        if (p.ep.ip.find(':') == std::string::npos) BTL_FUZZ_CHECK(again->added[i++] == p);
    for (const auto& p : m->added)
        if (p.ep.ip.find(':') != std::string::npos) BTL_FUZZ_CHECK(again->added[i++] == p);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_pex)
