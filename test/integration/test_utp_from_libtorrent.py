#!/usr/bin/python3
"""uTP only, libtorrent seeding: a libtorrent seed with TCP switched off both
ways (uTP on) and our btdownloadheadless leecher, found through opentracker.
The only way the data can move is uTP (BEP 29) on our listen port; it must
arrive byte-identical and the seed must report its peer as a uTP socket.
Seeder 127.0.0.2, us 127.0.0.3."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
TOTAL = 16 * H.MiB + 12_345


def main():
    H.require_headless()
    with H.Workspace("utp-from-lt", timeout=90) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "blob"), TOTAL, seed=29)
        tr = H.Tracker(ws)
        tor = ws.path("blob.torrent")
        ih, size, _ = H.make_torrent(os.path.join(src, "blob"), tor, PIECE, tr.announce)
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, utp_only=True)
        seeder.wait_ready(20)

        out = ws.mkdir("leech")
        t0 = time.monotonic()
        # Capped so the transfer outlasts several polls of the seed's status:
        # uncapped, it can end (and the connection close) between two polls.
        me = H.Headless(ws, "btl-leech", tor, ws.next_ip(), save_in=out, seed_time=0,
                        extra=["--max_download_rate", "3000"])
        saw_utp = []
        def done():
            if seeder.status().get("utp_peers", 0) > 0:
                saw_utp.append(1)
            return me.proc.poll() is not None
        H.wait_until(done, 60, "the leecher to finish over uTP", procs=[seeder.proc])
        rc = me.proc.wait(5)
        H.log("btdownloadheadless exited rc %s after %.1fs" % (rc, time.monotonic() - t0))
        H.check(rc == 0, "btdownloadheadless --seed_time 0 exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src, "blob"), os.path.join(out, "blob"), "uTP leecher")
        H.check(saw_utp, "the libtorrent seed never listed a uTP peer")
        H.check(seeder.status().get("tcp_peers", 0) == 0, "the seed had a TCP peer although TCP is off")
        H.check(seeder.status().get("uploaded", 0) >= size, "the seed uploaded less than the torrent")


if __name__ == "__main__":
    H.run_main(main)
