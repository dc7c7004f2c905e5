#!/usr/bin/env python3
"""Local Service Discovery (BEP 14) with libtorrent (enable_lsd), both ways,
with no tracker, in a network namespace the test makes itself.

One libtorrent session on 10.77.0.4 seeds torrent X and wants torrent Y;
our btdownloadheadless seeds Y (10.77.0.2) and another leeches X
(10.77.0.3).  Nobody is told of anybody: both downloads complete only if
each side's LSD announces reach the other and are taken as peers.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import netns_util  # noqa: E402

LT_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lt_lsd_peer.py")

OUR_SEED, OUR_LEECH, LT = "10.77.0.2", "10.77.0.3", "10.77.0.4"
DEAD_TRACKER = "http://10.77.0.9:1/announce"


def main():
    netns_util.enter([OUR_SEED, OUR_LEECH, LT])
    H.require_headless()
    with H.Workspace("lsd-libtorrent", timeout=90) as ws:
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "x.bin"), 2 * 1024 * 1024, 21)
        H.write_random_file(os.path.join(src, "y.bin"), 2 * 1024 * 1024, 22)
        x_t, y_t = ws.path("x.torrent"), ws.path("y.torrent")
        H.make_torrent(os.path.join(src, "x.bin"), x_t, 65536, DEAD_TRACKER)
        H.make_torrent(os.path.join(src, "y.bin"), y_t, 65536, DEAD_TRACKER)
        lt_out, our_out = ws.mkdir("lt-out"), ws.mkdir("our-out")
        status = ws.path("lt.json")
        # The order makes each direction needed: our leecher runs first, so
        # only libtorrent's start-up announce can bring them together; our
        # seed starts after libtorrent's announce went out, so only ours
        # reaching libtorrent can.
        t0 = time.monotonic()
        leech = H.Headless(ws, "our-leech", x_t, OUR_LEECH, save_in=our_out, extra=["--lsd", "1", "--verbose"])
        leech.wait_state(["downloading", "stalled"], 20)
        lt_proc = ws.start("libtorrent", [sys.executable, LT_PEER, x_t, src, y_t, lt_out, LT,
                                          str(H.free_port(LT)), status])
        H.wait_until(lambda: H.read_json(status), 20, "libtorrent to start", procs=[lt_proc])
        time.sleep(1.0)
        seed = H.Headless(ws, "our-seed", y_t, OUR_SEED, save_in=src, extra=["--lsd", "1"])
        leech.wait_state(["seeding"], 60)
        H.log("ours downloaded from libtorrent, found by LSD, after %.1f s" % (time.monotonic() - t0))
        H.wait_until(lambda: (H.read_json(status) or {}).get("leech", {}).get("seeding"), 60,
                     "libtorrent to download from our seed", procs=[lt_proc, seed.proc])
        H.log("libtorrent downloaded from ours, found by LSD, after %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "x.bin"), os.path.join(our_out, "x.bin"), "our LSD leecher")
        H.assert_same_data(os.path.join(src, "y.bin"), os.path.join(lt_out, "y.bin"), "libtorrent's LSD leecher")
        # Each side took the other's announces: libtorrent says so in an
        # lsd_peer_alert, ours in its log.
        heard = (H.read_json(status) or {}).get("lsd_peers_from", [])
        H.log("libtorrent's LSD peers:", heard)
        H.check(any(OUR_SEED in m or OUR_LEECH in m for m in heard), "libtorrent got no peer by LSD from ours: %s" % heard)
        with open(leech.proc.logpath, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        H.check("LSD: peer %s:" % LT in text, "our leecher logged no LSD peer from libtorrent")
        for p in (seed, leech):
            H.check(p.stop() == 0, "%s did not exit cleanly" % p.name)


if __name__ == "__main__":
    H.run_main(main)
