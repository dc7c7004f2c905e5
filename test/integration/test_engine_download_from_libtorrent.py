#!/usr/bin/python3
"""Our btdownloadheadless downloads a multi-file torrent (>= 64 MiB, uneven
file sizes so pieces span files, 256 KiB pieces) from a libtorrent seeder
through opentracker, with --seed_time 0: it must exit 0 by itself and the
data must be byte-identical.  Seeder 127.0.0.2, us 127.0.0.3."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
TOTAL = 64 * H.MiB + 777_777


def main():
    H.require_headless()
    with H.Workspace("engine-dl-lt", timeout=240) as ws:
        src = ws.mkdir("seed")
        layout = H.uneven_layout(TOTAL, PIECE, n_files=9, seed=11)
        H.make_tree(os.path.join(src, "bundle"), layout, seed=11)
        tr = H.Tracker(ws)
        tor = ws.path("bundle.torrent")
        ih, size, npieces = H.make_torrent(os.path.join(src, "bundle"), tor,
                                           PIECE, tr.announce)
        H.log("torrent %s: %d bytes, %d pieces, %d files" % (ih, size, npieces, len(layout)))
        tr.start([ih])

        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready(20)

        out = ws.mkdir("leech")
        t0 = time.monotonic()
        me = H.Headless(ws, "btl-leech", tor, ws.next_ip(), save_in=out, seed_time=0)
        rc = me.proc.wait(150)
        dt = time.monotonic() - t0
        H.log("btdownloadheadless exited rc %s after %.1fs" % (rc, dt))
        H.check(rc == 0, "btdownloadheadless --seed_time 0 exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src, "bundle"), os.path.join(out, "bundle"),
                           "btdownloadheadless leecher")

        st = me.status()
        H.log("final status: %s" % st)
        H.check(st, "no status in %s after exit" % me.status_path)
        H.check(str(st.get("info_hash", "")).lower() == ih,
                "status info_hash %r, expected %s" % (st.get("info_hash"), ih))
        H.check(st.get("total_size") == size,
                "status total_size %r, expected %d" % (st.get("total_size"), size))
        H.check(float(st.get("progress", 0)) >= 0.9999,
                "final progress %r, expected 1" % st.get("progress"))
        H.check(st.get("downloaded", 0) >= size,
                "final downloaded %r < torrent size %d" % (st.get("downloaded"), size))
        H.check(st.get("state") in ("seeding", "stopped"),
                "final state %r, expected seeding or stopped" % st.get("state"))
        H.check(seeder.uploaded(size) >= size,
                "the libtorrent seeder uploaded less than the torrent")


if __name__ == "__main__":
    H.run_main(main)
