#!/usr/bin/python3
"""A .magnet file in a running btlaunchmany (issue 13).

1. NAME.magnet (one link with tr=opentracker) dropped into the watched
   directory before any seed exists: the row is in state "fetching
   metadata" in the status JSON and the plain display says "fetching
   metadata (peers 0)".
2. A libtorrent seed then dials us: the incoming connection names the
   info-hash, the session routes it to the fetch, the metadata arrives and
   the row becomes downloading, then seeding, with the data identical.
3. The same link in a second .magnet file is a duplicate ("duplicate of
   show.magnet"), as for .torrent files.  A .magnet for a swarm nobody seeds
   fetches until its file is removed: the row goes away and the log says
   the fetch stopped.
4. A restart of btlaunchmany with the saved metadata fetches nothing: it
   says it loads DATA_DIR/torrents/<info-hash>.torrent and the row is
   seeding from the data on disk.
Loopback only: btlaunchmany 127.0.0.2, seed 127.0.0.3."""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

PIECE = 16 * H.KiB
TOTAL = 6 * H.MiB + 999


def main():
    with H.Workspace("magnet-launcher", timeout=150) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "show.bin")
        H.write_random_file(data, TOTAL, 44)
        tr = H.Tracker(ws)
        tor = ws.path("show.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        other = "fedcba9876543210fedcba9876543210fedcba98"
        tr.start([ih, other])

        watch, save, ddir = ws.mkdir("watch"), ws.mkdir("save"), ws.mkdir("data")
        ip, port = ws.next_ip(), H.free_port("127.0.0.2")
        lau = L.Launcher(ws, "btl", watch, save, ddir, ip, port)
        H.wait_until(lambda: "watching" in lau.log_text(), 10, "btlaunchmany to start", procs=[lau.proc])
        quoted = urllib.parse.quote(tr.announce, safe="")
        with open(os.path.join(watch, "show.magnet"), "w") as f:
            f.write("magnet:?xt=urn:btih:%s&dn=show.bin&tr=%s\n" % (ih, quoted))
        row = lau.wait(lambda rows: rows.get("show.magnet", {}).get("state") == "fetching metadata" and rows["show.magnet"],
                       15, "a fetching row for show.magnet")
        H.log("fetching row: %s" % {k: row.get(k) for k in ("name", "state", "peers", "tracker_message")})
        H.check(row.get("name") == "show.bin", "fetching row name %r" % row.get("name"))
        H.wait_until(lambda: "show.bin: fetching metadata (peers 0)" in lau.log_text(), 10,
                     "the plain display to say 'fetching metadata (peers 0)'", procs=[lau.proc])

        # 2. The seed dials us; the fetch gets the incoming connection.
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, connect=[(ip, port)])
        lau.wait(lambda rows: rows.get("show.magnet", {}).get("state") == "seeding", 60,
                 "show.magnet to download and seed")
        H.assert_same_data(data, os.path.join(save, "show.bin"), "launcher magnet download")
        saved = os.path.join(ddir, "torrents", ih + ".torrent")
        H.check(os.path.isfile(saved), "metadata not saved as %s" % saved)

        # The same link under another name is a duplicate, as for a .torrent.
        with open(os.path.join(watch, "copy.magnet"), "w") as f:
            f.write("magnet:?xt=urn:btih:%s&tr=%s\n" % (ih, quoted))
        err = lau.wait(lambda rows: rows.get("copy.magnet", {}).get("error"), 15, "an error row for copy.magnet")
        H.check("duplicate of show.magnet" in err, "copy.magnet row error: %r" % err)
        os.unlink(os.path.join(watch, "copy.magnet"))

        # 3. A fetch that cannot finish stops when its file goes.
        gone = os.path.join(watch, "nobody.magnet")
        with open(gone, "w") as f:
            f.write("magnet:?xt=urn:btih:%s&dn=nobody&tr=%s\n" % (other, quoted))
        lau.wait(lambda rows: rows.get("nobody.magnet", {}).get("state") == "fetching metadata", 15,
                 "a fetching row for nobody.magnet")
        os.unlink(gone)
        lau.wait(lambda rows: "nobody.magnet" not in rows, 15, "the nobody.magnet row to go")
        H.wait_until(lambda: "removed nobody.magnet (metadata fetch stopped)" in lau.log_text(), 10,
                     "the log to say the fetch stopped", procs=[lau.proc])
        H.check(seeder.stop() == 0, "libtorrent seed did not stop cleanly")
        lau.proc.signal()
        H.check(lau.proc.wait(20) == 0, "btlaunchmany did not stop cleanly")

        # 4. Restart: the saved metadata, no fetch.
        first_log = lau.log_text()
        lau2 = L.Launcher(ws, "btl2", watch, save, ddir, ip, port)
        lau2.wait(lambda rows: rows.get("show.magnet", {}).get("state") == "seeding", 30,
                  "show.magnet to seed after the restart")
        text = lau2.log_text()
        H.check("metadata from " + saved in text, "restart did not load the saved metadata:\n%s" % text[-2000:])
        H.check("fetching metadata" not in text, "restart fetched metadata again:\n%s" % text[-2000:])
        H.check("fetching metadata" in first_log, "the first run never said it was fetching")
        lau2.proc.signal()
        H.check(lau2.proc.wait(20) == 0, "btlaunchmany did not stop cleanly after the restart")


if __name__ == "__main__":
    H.run_main(main)
