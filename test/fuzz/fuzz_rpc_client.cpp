// The RPC client's answer parsers on hostile bytes: no crash, no exception,
// bounded output, and an answer that parses keeps parsing the same when
// the view reads it again (the parsers are pure).
#include "btl/rpc/rpc_client_codec.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_rpc_client) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    auto list = rpc::parse_torrent_get(body);
    if (list.ok()) {
        BTL_FUZZ_CHECK(list->torrents.size() <= size);
        BTL_FUZZ_CHECK(list->removed.size() <= size);
        for (const auto& t : list->torrents) {
            BTL_FUZZ_CHECK(t.st.name.size() <= rpc::kMaxText);
            BTL_FUZZ_CHECK(t.st.progress >= 0 && t.st.progress <= 1);
            BTL_FUZZ_CHECK(t.st.total_size >= 0 && t.st.peers >= 0);
            for (const auto& f : t.st.files) BTL_FUZZ_CHECK(f.progress >= 0 && f.progress <= 1);
        }
        auto again = rpc::parse_torrent_get(body);
        BTL_FUZZ_CHECK(again.ok() && again->torrents.size() == list->torrents.size());
    }
    auto s = rpc::parse_session_get(body);
    if (s.ok()) BTL_FUZZ_CHECK(s->down_limit >= 0 && s->up_limit >= 0);
    auto st = rpc::parse_session_stats(body);
    if (st.ok()) BTL_FUZZ_CHECK(st->down_rate >= 0 && st->up_rate >= 0);
    auto free = rpc::parse_free_space(body);
    if (free.ok()) BTL_FUZZ_CHECK(*free >= 0);
    (void)rpc::parse_result(body);
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_rpc_client)
