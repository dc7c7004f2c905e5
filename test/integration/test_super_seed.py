#!/usr/bin/python3
"""BEP 16 super-seeding.  Part 1: our btdownloadheadless seed with
--super_seeder (127.0.0.2, 1000 kB/s up) and three of our leechers (each
1000 kB/s up) started together on an 8 MiB file: all finish byte-identical
and the seed uploaded at most 1.2 copies of the file (a normal seed sends
well over one copy: leechers ask it for the same pieces).  Part 2: a
libtorrent leecher alone downloads the whole file from our super-seed
(which showed it the pieces one by one), byte-identical."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
SIZE = 8 * H.MiB
RATE_KB = 1000
N_LEECHERS = 3


def main():
    H.require_headless()
    with H.Workspace("super-seed", timeout=240) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "super.bin")
        H.write_random_file(data, SIZE, 16)
        tr = H.Tracker(ws)
        tor = ws.path("super.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])

        seeder = H.Headless(ws, "btl-super", tor, ws.next_ip(), save_in=src,
                            extra=["--max_upload_rate", str(RATE_KB), "--super_seeder",
                                   "--verbose"])
        seeder.wait_state(("seeding",), 60)
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 20,
                     "the seeder's announce to reach the tracker", interval=0.2,
                     procs=[seeder.proc])

        # Part 1: three of ours.
        t0 = time.monotonic()
        leechers = []
        for i in range(N_LEECHERS):
            out = ws.mkdir("leech%d" % i)
            leechers.append((H.Headless(ws, "btl-leech%d" % i, tor, ws.next_ip(), save_in=out,
                                        extra=["--max_upload_rate", str(RATE_KB)]), out))
        done = {}
        while len(done) < N_LEECHERS:
            for me, _ in leechers:
                if me.name not in done and me.status().get("state") == "seeding":
                    done[me.name] = time.monotonic() - t0
                    H.log("%s complete after %.1fs" % (me.name, done[me.name]))
                H.check(me.proc.poll() is None, "%s exited (rc %s)" % (me.name, me.proc.returncode))
            H.check(time.monotonic() - t0 < 90, "leechers not done after 90s: %s" % {
                me.name: me.status().get("progress") for me, _ in leechers})
            H.check(seeder.proc.poll() is None, "seeder exited (rc %s)" % seeder.proc.returncode)
            time.sleep(0.2)
        for me, out in leechers:
            H.assert_same_data(data, os.path.join(out, "super.bin"), me.name)
        copies = seeder.status().get("uploaded", 0) / size
        H.log("super-seed uploaded %.2f copies; the last leecher finished after %.1fs"
              % (copies, max(done.values())))
        H.check(copies >= 0.99, "seed uploaded only %.2f copies: the leechers got data from nowhere?"
                % copies)
        H.check(copies <= 1.2, "super-seed uploaded %.2f copies (expected <= 1.2)" % copies)
        for me, _ in leechers:
            H.check(me.stop(20) == 0, "%s did not exit 0 on SIGTERM" % me.name)

        # Part 2: a libtorrent leecher alone with the super-seed.
        out = ws.mkdir("lt")
        lt = H.LtPeer(ws, "lt-leech", tor, out, ws.next_ip(), exit_when_done=True)
        rc = lt.proc.wait(120)
        H.check(rc == 0, "libtorrent leecher exited %s (status %s)" % (rc, lt.status()))
        H.assert_same_data(data, os.path.join(out, "super.bin"), "libtorrent leecher")
        rc = seeder.stop(20)
        H.check(rc == 0, "seeder exited %s on SIGTERM, expected 0" % rc)


if __name__ == "__main__":
    H.run_main(main)
