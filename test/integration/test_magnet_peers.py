#!/usr/bin/python3
"""Magnet links from peer hints and from an aria2c seed (issue 13).

1. A magnet with only `x.pe` (no tracker): btdownloadheadless dials the
   libtorrent seed it names, fetches the metadata, downloads and exits 0.
2. A magnet with `tr=` (opentracker) whose only seed is aria2c: the
   metadata comes from aria2's ut_metadata, the data byte-identical.
3. A magnet whose only hint is a host name (`x.pe=localhost:PORT`): it is
   resolved on the pool and the libtorrent seed on 127.0.0.1 is reached.
Loopback only: seeds 127.0.0.2 and 127.0.0.3, us 127.0.0.4 and 127.0.0.5."""

import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 32 * H.KiB
TOTAL = 8 * H.MiB + 4_321


def fetch(ws, name, magnet, ip, src_file):
    out = ws.mkdir(name + ".out")
    t0 = time.monotonic()
    me = H.Headless(ws, name, magnet, ip, save_in=out, seed_time=0)
    rc = me.proc.wait(90)
    text = open(me.proc.logpath, "rb").read().decode("utf-8", "replace")
    H.log("%s exited rc %s after %.1fs" % (name, rc, time.monotonic() - t0))
    H.check(rc == 0, "%s exited %s, expected 0:\n%s" % (name, rc, text[-3000:]))
    H.check("metadata received" in text, "%s: no 'metadata received':\n%s" % (name, text[-2000:]))
    H.assert_same_data(src_file, os.path.join(out, os.path.basename(src_file)), name)


def main():
    H.require_headless()
    with H.Workspace("magnet-peers", timeout=200) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "album.bin")
        H.write_random_file(data, TOTAL, 33)
        tr = H.Tracker(ws)
        tor = ws.path("album.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])

        # 1. x.pe only: no tracker in the link.
        lt_ip = ws.next_ip()
        seeder = H.LtPeer(ws, "lt-seed", tor, src, lt_ip, seed=True)
        seeder.wait_ready(20)
        fetch(ws, "btl-xpe", "magnet:?xt=urn:btih:%s&x.pe=%s:%d" % (ih, lt_ip, seeder.port), ws.next_ip(), data)
        H.check(seeder.stop() == 0, "libtorrent seed did not stop cleanly")

        # 2. aria2c as the only seed, found through the tracker.
        a_ip = ws.next_ip()
        aria = H.Aria2(ws, "aria2-seed", tor, src, a_ip,
                       extra=["--seed-time=600", "--seed-ratio=0.0", "--bt-seed-unverified=true",
                              "--check-integrity=false"])
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 30, "aria2c to announce as a seed",
                     procs=[aria.proc])
        magnet = "magnet:?xt=urn:btih:%s&dn=album.bin&tr=%s" % (ih, urllib.parse.quote(tr.announce, safe=""))
        fetch(ws, "btl-aria2", magnet, ws.next_ip(), data)
        aria.proc.kill_group()

        # 3. A host-name hint.
        lo = H.LtPeer(ws, "lt-seed-lo", tor, src, "127.0.0.1", seed=True)
        lo.wait_ready(20)
        fetch(ws, "btl-host", "magnet:?xt=urn:btih:%s&x.pe=localhost:%d" % (ih, lo.port), ws.next_ip(), data)
        H.check(lo.stop() == 0, "libtorrent seed on 127.0.0.1 did not stop cleanly")


if __name__ == "__main__":
    H.run_main(main)
