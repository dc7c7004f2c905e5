#!/usr/bin/python3
"""btdownloadheadless --seed_time 0 exits as soon as the download is
complete, not at its next display tick: with --display_interval 30 an 8 MiB
download from a libtorrent seeder (loopback) must end well before the
first tick at 30 s (it used to end exactly there), with the data intact.
--seed_time 2 seeds about 2 s more, then exits, also before the tick.
Seeder 127.0.0.2, us 127.0.0.3 and up."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
TOTAL = 8 * H.MiB + 12_345
TICK = 30
LIMIT = 20  # seconds: generous for a loaded machine, far below the tick


def main():
    H.require_headless()
    with H.Workspace("headless-exit", timeout=180) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "blob.bin"), TOTAL, 5)
        tr = H.Tracker(ws)
        tor = ws.path("blob.torrent")
        ih, size, _ = H.make_torrent(os.path.join(src, "blob.bin"), tor, PIECE, tr.announce)
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready(20)
        for seed_time in (0, 2):
            out = ws.mkdir("leech-%d" % seed_time)
            t0 = time.monotonic()
            me = H.Headless(ws, "btl-leech-%d" % seed_time, tor, ws.next_ip(), save_in=out,
                            seed_time=seed_time, display_interval=TICK)
            rc = me.proc.wait(TICK + 60)
            dt = time.monotonic() - t0
            H.log("--seed_time %d: exited rc %s after %.1fs" % (seed_time, rc, dt))
            H.check(rc == 0, "btdownloadheadless --seed_time %d exited %s" % (seed_time, rc))
            H.check(dt < LIMIT, "--seed_time %d: exited after %.1fs, expected < %ds (the display "
                    "tick is every %ds)" % (seed_time, dt, LIMIT, TICK))
            H.check(dt >= seed_time, "--seed_time %d: exited after %.1fs, before seeding %ds"
                    % (seed_time, dt, seed_time))
            got = os.path.join(out, "blob.bin")
            H.check(os.path.exists(got) and os.path.getsize(got) == size, "incomplete %s" % got)
            with open(got, "rb") as a, open(os.path.join(src, "blob.bin"), "rb") as b:
                H.check(a.read() == b.read(), "downloaded data differs")
            st = me.status()
            H.check(float(st.get("progress", 0)) >= 0.9999, "final progress %r" % st.get("progress"))


if __name__ == "__main__":
    H.run_main(main)
