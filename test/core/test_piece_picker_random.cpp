// PiecePicker under long random sequences of operations: the indexes stay
// consistent (check_invariants) whatever the order of events.
#include <doctest/doctest.h>

#include <iterator>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "btl/core/piece_picker.hpp"

using namespace btl;

TEST_CASE("picker: random operations keep the invariants") {
    std::mt19937_64 rng(12345);
    for (int round = 0; round < 20; ++round) {
        uint32_t n = 1 + uint32_t(rng() % 60);
        uint32_t blocks = 1 + uint32_t(rng() % 4);
        int64_t plen = int64_t(blocks) * 16384;
        int64_t total = plen * (n - 1) + 1 + int64_t(rng() % uint64_t(plen));
        PiecePicker p(n, plen, total, 16384, rng());
        const uint32_t npeers = 6;
        std::vector<Bitfield> has(npeers, Bitfield(n));
        std::vector<bool> seed(npeers, false);
        std::map<std::pair<uint32_t, uint32_t>, std::set<PeerKey>> req;  // block -> peers
        for (uint32_t k = 0; k < npeers; ++k) {
            if (rng() % 4 == 0) {
                seed[k] = true;
                has[k].set_all();
                p.add_seed();
            } else {
                for (uint32_t i = 0; i < n; ++i)
                    if (rng() % 2) has[k].set(i);
                p.inc_availability(has[k]);
            }
        }
        for (int step = 0; step < 3000; ++step) {
            PeerKey k = PeerKey(rng() % npeers);
            switch (rng() % 9) {
                case 0:
                case 1:
                case 2: {
                    std::vector<BlockRef> out;
                    size_t got = p.pick(has[k], 1 + rng() % 8, k, out);
                    REQUIRE(got == out.size());
                    for (auto b : out) {
                        REQUIRE(has[k].get(b.piece));
                        REQUIRE_FALSE(p.have(b.piece));
                        REQUIRE(req[{b.piece, b.block}].insert(k).second);  // never twice to one peer
                        REQUIRE(req[{b.piece, b.block}].size() <= 3);
                        REQUIRE(p.block_length(b) > 0);
                    }
                    break;
                }
                case 3:
                case 4: {  // a random outstanding request completes
                    if (req.empty()) break;
                    auto it = req.begin();
                    std::advance(it, rng() % req.size());
                    if (it->second.empty()) {
                        req.erase(it);
                        break;
                    }
                    PeerKey from = *std::next(it->second.begin(), long(rng() % it->second.size()));
                    BlockRef b{it->first.first, it->first.second};
                    auto r = p.mark_received(b, from);
                    REQUIRE(r.accepted);
                    REQUIRE(r.cancel.size() + 1 == it->second.size());
                    req.erase(it);
                    if (r.piece_complete) {
                        if (rng() % 5 == 0) {
                            p.piece_failed(b.piece);
                        } else {
                            p.piece_passed(b.piece);
                        }
                    }
                    break;
                }
                case 5: {  // abort
                    if (req.empty()) break;
                    auto it = req.begin();
                    std::advance(it, rng() % req.size());
                    if (!it->second.empty()) {
                        PeerKey who = *it->second.begin();
                        p.abort_request({it->first.first, it->first.second}, who);
                        it->second.erase(who);
                    }
                    if (it->second.empty()) req.erase(it);
                    break;
                }
                case 6: {  // a have
                    uint32_t i = uint32_t(rng() % n);
                    if (!seed[k] && !has[k].get(i)) {
                        has[k].set(i);
                        p.inc_availability(i);
                    }
                    break;
                }
                case 7: {  // reconnect: peer leaves with its requests, comes back
                    for (auto it = req.begin(); it != req.end();) {
                        if (it->second.count(k)) {
                            p.abort_request({it->first.first, it->first.second}, k);
                            it->second.erase(k);
                        }
                        it = it->second.empty() ? req.erase(it) : std::next(it);
                    }
                    if (seed[k]) p.remove_seed(); else p.dec_availability(has[k]);
                    has[k].clear_all();
                    for (uint32_t i = 0; i < n; ++i)
                        if (rng() % 2) has[k].set(i);
                    seed[k] = false;
                    p.inc_availability(has[k]);
                    break;
                }
                case 8:
                    if (rng() % 20 == 0) p.set_piece_priority(uint32_t(rng() % n), int(rng() % 3));
                    break;
            }
            if (step % 97 == 0) REQUIRE(p.check_invariants());
            for (auto& [b, peers] : req) REQUIRE(p.outstanding({b.first, b.second}) == peers.size());
        }
        REQUIRE(p.check_invariants());
    }
}


TEST_CASE("picker: random priority and availability changes keep the bucket table consistent") {
    // The bucket table stores only the keys in use and grows at either end
    // when a priority or an availability needs a new key.
    std::mt19937 rng(7);
    PiecePicker p(64, 16384, 64 * 16384, 16384, 3);
    std::vector<uint32_t> avail(64, 0);
    for (int step = 0; step < 20000; ++step) {
        uint32_t piece = rng() % 64;
        switch (rng() % 4) {
            case 0: p.set_piece_priority(piece, int(rng() % 8)); break;
            case 1: p.inc_availability(piece); ++avail[piece]; break;
            case 2:
                if (avail[piece] > 0) {
                    p.dec_availability(piece);
                    --avail[piece];
                }
                break;
            case 3:
                if (rng() % 50 == 0) p.set_have(piece);
                break;
        }
        if (step % 97 == 0) REQUIRE(p.check_invariants());
    }
    CHECK(p.check_invariants());
}
