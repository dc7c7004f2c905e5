#!/usr/bin/python3
"""Serving ut_metadata (BEP 9): libtorrent and aria2c, given only a magnet
link, fetch the info dictionary from our seed and then the data.

Our btdownloadheadless seeds; libtorrent gets `magnet:?xt=urn:btih:HEX`
and dials us; aria2c gets a magnet with `tr=` (opentracker, where we
announce).  Both must finish with identical data."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
TOTAL = 2 * H.MiB + 999


def main():
    H.require_headless()
    with H.Workspace("pex-magnet-seed", timeout=90) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "data.bin"), TOTAL, 23)
        tr = H.Tracker(ws)
        tor = ws.path("data.torrent")
        ih, size, _ = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, tr.announce)
        tr.start([ih])
        me = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src)
        me.wait_state(["seeding"], 20)

        lt_dir = ws.mkdir("lt")
        lt = H.LtPeer(ws, "lt-magnet", None, lt_dir, ws.next_ip(),
                      magnet="magnet:?xt=urn:btih:%s" % ih, connect=[(me.ip, me.port)])
        a_dir = ws.mkdir("aria2")
        magnet = "magnet:?xt=urn:btih:%s&tr=%s" % (ih, tr.announce)
        a = H.Aria2(ws, "aria2-magnet", magnet, a_dir, ws.next_ip())
        lt.wait_seeding(40)
        rc = a.proc.wait(40)
        H.log("libtorrent %s; aria2c exited %s; us %s" % (lt.status(), rc, me.status()))
        H.check(rc == 0, "aria2c exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(lt_dir, "data.bin"),
                           "libtorrent's magnet download")
        H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(a_dir, "data.bin"),
                           "aria2c's magnet download")
        H.check(me.status().get("uploaded", 0) >= 2 * size,
                "we uploaded %s bytes, expected both copies" % me.status().get("uploaded"))
        me.stop()


if __name__ == "__main__":
    H.run_main(main)
