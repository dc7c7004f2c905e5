#!/usr/bin/python3
"""Resume: our leecher downloads from a rate-limited libtorrent seeder
(~16 s for the whole file), gets SIGTERM at ~40-60 % (seen in status_json),
must exit 0 and leave resume data in --data_dir.  Restarted with the same
--data_dir and --save_in it must finish byte-identical, and its second-run
`downloaded` must be at most (1 - progress_at_kill) * size + 4 pieces: no
verified piece is downloaded twice.  Seeder 127.0.0.2, us 127.0.0.3."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
SIZE = 32 * H.MiB + 99_999
SEED_RATE = 2_000_000        # bytes/s
SLACK = 4 * PIECE


def main():
    H.require_headless()
    with H.Workspace("engine-restart", timeout=240) as ws:
        src = ws.mkdir("seed")
        layout = H.uneven_layout(SIZE, PIECE, n_files=4, seed=41)
        H.make_tree(os.path.join(src, "resume"), layout, seed=41)
        tr = H.Tracker(ws)
        tor = ws.path("resume.torrent")
        ih, size, npieces = H.make_torrent(os.path.join(src, "resume"), tor, PIECE,
                                           tr.announce)
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True,
                          upload_limit=SEED_RATE)
        seeder.wait_ready(20)

        ip = ws.next_ip()
        out = ws.mkdir("leech")
        data_dir = ws.mkdir("btl-data")
        first = H.Headless(ws, "btl-run1", tor, ip, save_in=out, data_dir=data_dir,
                           seed_time=0)
        st = H.wait_until(lambda: (float(first.status().get("progress", 0)) >= 0.4
                                   and first.status()),
                          90, "run 1 to reach 40 %", interval=0.05, procs=[first.proc])
        seen = float(st["progress"])
        H.log("run 1 at progress %.3f: SIGTERM" % seen)
        H.check(seen < 0.95, "progress jumped to %.3f before the kill; the "
                "seeder limit did not hold" % seen)
        first.proc.signal()
        rc = first.proc.wait(20)
        H.check(rc == 0, "run 1 exited %s on SIGTERM, expected 0" % rc)
        final1 = first.status()
        H.log("run 1 final status: %s" % final1)
        p_kill = max(seen, float(final1.get("progress", 0)))
        H.check(p_kill < 1.0, "run 1 completed before the kill")
        files = [os.path.join(d, n) for d, _, ns in os.walk(data_dir) for n in ns]
        H.check(any(os.path.getsize(f) > 0 for f in files),
                "no resume data in --data_dir %s after SIGTERM (files: %s)"
                % (data_dir, files))
        H.log("resume files: %s" % [os.path.relpath(f, data_dir) for f in files])

        second = H.Headless(ws, "btl-run2", tor, ip, save_in=out, data_dir=data_dir,
                            seed_time=0, port=first.port)
        rc = second.proc.wait(120)
        H.check(rc == 0, "run 2 exited %s, expected 0 after completing" % rc)
        H.assert_same_data(os.path.join(src, "resume"), os.path.join(out, "resume"),
                           "resumed download")
        final2 = second.status()
        H.log("run 2 final status: %s" % final2)
        got = final2.get("downloaded")
        limit = (1.0 - p_kill) * size + SLACK
        H.log("run 2 downloaded %s bytes; limit (1 - %.3f) * %d + %d = %d"
              % (got, p_kill, size, SLACK, limit))
        H.check(isinstance(got, int) and got > 0, "run 2 downloaded %r" % got)
        H.check(got <= limit, "run 2 downloaded %d bytes > %d: verified pieces were "
                "downloaded again after the restart" % (got, limit))
        H.check(float(final2.get("progress", 0)) >= 0.9999, "run 2 final progress %r"
                % final2.get("progress"))


if __name__ == "__main__":
    H.run_main(main)
