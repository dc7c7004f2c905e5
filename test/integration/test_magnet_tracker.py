#!/usr/bin/python3
"""Magnet links through a tracker (issue 13).

1. btdownloadheadless 'magnet:?xt=urn:btih:...&tr=OPENTRACKER' with
   --seed_time 0 fetches the info dictionary (two 16 KiB metadata pieces)
   from a libtorrent seed it learns of only from the tracker, downloads the
   data byte-identical and exits 0; the metadata is saved as
   DATA_DIR/torrents/<info-hash>.torrent and btshowmetainfo reads it with the
   same info-hash and the tracker from tr=.
2. A restart with the same link and data dir fetches nothing: it says it
   uses the saved metadata, never "fetching metadata", and completes at once
   from the data on disk.
Loopback only: seed 127.0.0.2, us 127.0.0.3."""

import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 16 * H.KiB
TOTAL = 24 * H.MiB + 12_345  # 1537 pieces: a 30 KiB info dictionary, 2 metadata pieces


def main():
    H.require_headless()
    with H.Workspace("magnet-tracker", timeout=150) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "movie.bin"), TOTAL, 21)
        tr = H.Tracker(ws)
        tor = ws.path("movie.torrent")
        ih, size, npieces = H.make_torrent(os.path.join(src, "movie.bin"), tor, PIECE, tr.announce)
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready(20)

        magnet = "magnet:?xt=urn:btih:%s&dn=movie.bin&tr=%s" % (ih, urllib.parse.quote(tr.announce, safe=""))
        out = ws.mkdir("leech")
        data = ws.mkdir("leech.data")
        ip = ws.next_ip()
        t0 = time.monotonic()
        me = H.Headless(ws, "btl-magnet", magnet, ip, save_in=out, data_dir=data, seed_time=0)
        rc = me.proc.wait(90)
        H.log("btdownloadheadless exited rc %s after %.1fs" % (rc, time.monotonic() - t0))
        text = open(me.proc.logpath, "rb").read().decode("utf-8", "replace")
        H.check(rc == 0, "magnet download exited %s, expected 0:\n%s" % (rc, text[-3000:]))
        H.check("fetching metadata" in text, "no 'fetching metadata' line:\n%s" % text[-2000:])
        H.check("metadata received" in text, "no 'metadata received' line:\n%s" % text[-2000:])
        H.assert_same_data(os.path.join(src, "movie.bin"), os.path.join(out, "movie.bin"), "magnet leecher")

        saved = os.path.join(data, "torrents", ih + ".torrent")
        H.check(os.path.isfile(saved), "metadata not saved as %s" % saved)
        H.check(H.torrent_info_hash(saved) == ih, "saved torrent has another info-hash")
        show = subprocess.run([os.path.join(H.btl_bin_dir(), "btshowmetainfo"), "--json", saved],
                              capture_output=True, text=True, timeout=20)
        H.check(show.returncode == 0, "btshowmetainfo failed: %r" % show.stderr)
        shown = json.loads(show.stdout)
        shown = shown[0] if isinstance(shown, list) else shown
        H.log("btshowmetainfo: %s" % {k: shown[k] for k in list(shown)[:8]})
        H.check(ih in show.stdout.lower(), "btshowmetainfo does not show info-hash %s" % ih)
        H.check(tr.announce in show.stdout, "btshowmetainfo does not show the tracker from tr=")

        # 2. Restart: no fetch.
        again = H.Headless(ws, "btl-magnet-again", magnet, ip, save_in=out, data_dir=data, seed_time=0)
        rc = again.proc.wait(60)
        text = open(again.proc.logpath, "rb").read().decode("utf-8", "replace")
        H.check(rc == 0, "restart exited %s:\n%s" % (rc, text[-2000:]))
        H.check("metadata from " + saved in text, "restart did not use the saved metadata:\n%s" % text[-2000:])
        H.check("fetching metadata" not in text, "restart fetched metadata again:\n%s" % text[-2000:])
        st = again.status()
        H.check(st.get("downloaded", -1) == 0, "restart downloaded %r bytes, expected 0" % st.get("downloaded"))


if __name__ == "__main__":
    H.run_main(main)
