#!/usr/bin/python3
"""Sequential download (issue 17): set over RPC (torrent-set
sequentialDownload, as Transmission 4.1 names it) on a torrent added paused,
then started; a libtorrent seed (upload capped so the download takes a few
seconds) serves it through an opentracker on loopback.

The have-order comes from the log: with --verbose, a sequential torrent logs
"piece N verified" as each piece passes.  Every piece appears once, no piece
lands more than a request queue (WINDOW) behind a later one, and at most 5%
of all pairs are out of order (a random order, which is what rarest first
from a single seed gives, inverts half of them).  torrent-get says
sequentialDownload true, and still does after a restart (resume data).
Loopback only; --upnp/--natpmp/--lsd/--dht off."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

PIECE = 16 * H.KiB
TOTAL = 160 * PIECE + 777
# Requests are pipelined (about 3 s of data, at least 16 blocks: 16 pieces
# here) and the seed answers them in its own order, so a piece may land a
# queue's length behind a later one; rarest first from one seed is a random
# order (about half of all pairs inverted).
WINDOW = 48
MAX_INVERTED = 0.05


def rpc(port, method, args):
    return L.Rpc(port).ok(method, **args)


def first(port, fields):
    """The first torrent's fields, {} while there is none."""
    ts = rpc(port, "torrent-get", {"fields": fields})["torrents"]
    return ts[0] if ts else {}


def main():
    with H.Workspace("files-sequential", timeout=100) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "movie.bin")
        H.write_random_file(data, TOTAL, 71)
        tr = H.Tracker(ws)
        tor = ws.path("movie.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, upload_limit=600 * H.KiB)
        seeder.wait_ready()

        watch, save, ddir = ws.mkdir("watch"), ws.mkdir("save"), ws.mkdir("data")
        ip, port, rport = ws.next_ip(), H.free_port("127.0.0.2"), H.free_port()
        extra = ["--rpc_port", str(rport), "--verbose"]
        lau = L.Launcher(ws, "btl", watch, save, ddir, ip, port, extra=extra)
        H.wait_until(lambda: "watching" in lau.log_text(), 10, "btlaunchmany to start", procs=[lau.proc])
        with open(tor, "rb") as f:
            import base64
            meta = base64.b64encode(f.read()).decode()
        rpc(rport, "torrent-add", {"metainfo": meta, "paused": True})
        H.wait_until(lambda: any(t["status"] == 0 for t in rpc(rport, "torrent-get", {"fields": ["status"]})["torrents"]),
                     15, "the torrent added paused", procs=[lau.proc])
        rpc(rport, "torrent-set", {"ids": [1], "sequentialDownload": True})
        # torrent-get answers from the rows, refreshed every display interval.
        H.wait_until(lambda: first(rport, ["sequentialDownload"]).get("sequentialDownload") is True, 5,
                     "torrent-get to say sequentialDownload", procs=[lau.proc])
        rpc(rport, "torrent-start", {"ids": [1]})
        lau.wait(lambda rows: any(r.get("state") == "seeding" for r in rows.values()), 60, "the download to finish")
        H.assert_same_data(data, os.path.join(save, "movie.bin"), "sequential download")

        order = [int(m) for m in re.findall(r"piece (\d+) verified", lau.log_text())]
        H.log("have-order (%d pieces): %s" % (len(order), order))
        H.check(sorted(order) == list(range(npieces)), "each piece once: got %d entries for %d pieces" %
                (len(order), npieces))
        furthest, late = -1, 0
        for p in order:
            H.check(p >= furthest - WINDOW, "piece %d arrived after piece %d: not sequential" % (p, furthest))
            late += p < furthest
            furthest = max(furthest, p)
        inverted = sum(1 for i in range(len(order)) for j in range(i + 1, len(order)) if order[i] > order[j])
        pairs = len(order) * (len(order) - 1) // 2
        H.log("%d of %d pieces finished behind a later one; %d of %d pairs inverted" % (late, npieces, inverted, pairs))
        H.check(inverted <= MAX_INVERTED * pairs, "%d of %d pairs out of order: not sequential" % (inverted, pairs))

        lau.proc.signal()
        H.check(lau.proc.wait(20) == 0, "btlaunchmany did not stop cleanly")
        lau2 = L.Launcher(ws, "btl2", watch, save, ddir, ip, port, extra=extra)
        H.wait_until(lambda: lau2.proc.poll() is None and os.path.exists(lau2.status_path), 10, "restart",
                     procs=[lau2.proc])
        H.wait_until(lambda: first(rport, ["status"]).get("status") == 6, 15, "the torrent to seed after the restart",
                     procs=[lau2.proc])
        t = first(rport, ["sequentialDownload"])
        H.check(t["sequentialDownload"] is True, "sequential download lost at the restart: %r" % t)
        lau2.proc.signal()
        H.check(lau2.proc.wait(20) == 0, "btlaunchmany did not stop cleanly after the restart")
        H.check(seeder.stop() == 0, "libtorrent seed did not stop cleanly")


if __name__ == "__main__":
    H.run_main(main)
