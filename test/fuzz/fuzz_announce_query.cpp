// bttrack's announce query (the part of an HTTP GET after '?'), including
// BEP 7's ipv6=/ipv4= endpoints: any query either fails with a reason or
// yields an announce whose second endpoint, if any, is a unicast address of
// the other family with a port, and whose answer from a registry holding it
// is well-formed bencode with whole compact entries.
//
// Input layout: byte 0 picks the connection's address and whether ip= and
// ipv6=/ipv4= are honoured; the rest is the query.
#include <string>
#include <string_view>

#include "btl/core/bencode.hpp"
#include "btl/tracker/service.hpp"
#include "fuzz.hpp"

namespace btl::fuzz {

BTL_FUZZ_DECLARE(fuzz_announce_query) {
    ByteReader in(data, size);
    const uint8_t mode = in.u8();
    static const char* const kRemotes[] = {"203.0.113.5", "192.168.1.7", "2001:db8::5", "fd00::5"};
    PeerAddr remote;
    BTL_FUZZ_CHECK(PeerAddr::parse(kRemotes[mode & 3], remote));
    std::string_view query(reinterpret_cast<const char*>(in.rest()), in.remaining());

    ClientAnnounce a;
    const char* why = parse_announce_query(query, remote, mode & 4, a, mode & 8);
    if (why) {
        BTL_FUZZ_CHECK(*why != 0);
        return 0;
    }
    BTL_FUZZ_CHECK(a.addr.len == 4 || a.addr.len == 16);
    BTL_FUZZ_CHECK(a.port != 0);
    if (!(mode & 8)) BTL_FUZZ_CHECK(a.other_addr.len == 0);
    if (a.other_addr.len) {
        BTL_FUZZ_CHECK(a.other_addr.len != a.addr.len);
        BTL_FUZZ_CHECK(a.other_addr.is_unicast());
        BTL_FUZZ_CHECK(a.other_port != 0);
        if (!remote.is_local()) BTL_FUZZ_CHECK(!a.other_addr.is_local());
    }
    // A second peer asks; the first must come back whole in its answer.
    TrackerRegistry reg;
    std::string out;
    a.event = ClientEvent::none;  // stopped would not register it
    reg.announce(a, 1000, out);
    ClientAnnounce b = a;
    b.peer_id[0] ^= 0xff;
    b.event = ClientEvent::none;
    b.numwant = -1;
    b.left = 5;  // a leecher: the first peer is sent whether or not it seeds
    b.port = static_cast<uint16_t>(a.port == 1 ? 2 : 1);
    out.clear();
    reg.announce(b, 1000, out);
    auto d = decode(out);
    BTL_FUZZ_CHECK(d.ok());
    if (b.compact && !d->root().find("failure reason")) {
        const size_t v4 = d->root().find_string("peers").string().size();
        const size_t v6 = d->root().find_string("peers6").string().size();
        BTL_FUZZ_CHECK(v4 % 6 == 0 && v6 % 18 == 0);
        const size_t want = 1 + (a.other_addr.len ? 1 : 0);
        BTL_FUZZ_CHECK(v4 / 6 + v6 / 18 == want);
    }
    return 0;
}

}  // namespace btl::fuzz

BTL_FUZZ_ENTRY(btl::fuzz::fuzz_announce_query)
