#!/usr/bin/python3
"""Issue 12, defect 3: the zero-length files of a multi-file torrent (an
empty __init__.py, a .gitkeep alone in its directory) are created like every
other file.  btdownloadheadless downloads such a tree from a libtorrent
seeder through opentracker with --seed_time 0: every file, empty ones and
their directories included, must exist afterwards and the tree must be
byte-identical.  Seeder 127.0.0.2, us 127.0.0.3."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
LAYOUT = [
    ("pkg/__init__.py", 0),
    ("pkg/core.py", 200 * H.KiB + 17),
    ("pkg/sub/__init__.py", 0),
    ("pkg/sub/data.bin", 1 * H.MiB + 5),
    ("empty_dir/.gitkeep", 0),          # a directory that holds only an empty file
    ("deep/a/b/c/.keep", 0),
    ("zzz_last_empty", 0),              # empty file at the very end of the stream
]


def main():
    H.require_headless()
    with H.Workspace("disk-empty-files", timeout=120) as ws:
        src = ws.mkdir("seed")
        root = os.path.join(src, "dataset")
        H.make_tree(root, LAYOUT, seed=3)
        for rel, size in LAYOUT:
            H.check(os.path.getsize(os.path.join(root, rel)) == size, "bad source tree at %s" % rel)
        tr = H.Tracker(ws)
        tor = ws.path("dataset.torrent")
        ih, size, npieces = H.make_torrent(root, tor, PIECE, tr.announce)
        meta = H.bdecode(open(tor, "rb").read())
        n_empty = sum(1 for f in meta[b"info"][b"files"] if f[b"length"] == 0)
        H.check(n_empty == 5, "the torrent lists %d empty files, expected 5" % n_empty)
        tr.start([ih])

        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready(20)

        out = ws.mkdir("leech")
        t0 = time.monotonic()
        me = H.Headless(ws, "btl-leech", tor, ws.next_ip(), save_in=out, seed_time=0)
        rc = me.proc.wait(60)
        H.log("btdownloadheadless exited rc %s after %.1fs" % (rc, time.monotonic() - t0))
        H.check(rc == 0, "btdownloadheadless --seed_time 0 exited %s, expected 0" % rc)
        for rel, size in LAYOUT:
            p = os.path.join(out, "dataset", rel)
            H.check(os.path.isfile(p), "%s was not created" % p)
            H.check(os.path.getsize(p) == size, "%s has %d bytes, expected %d" % (p, os.path.getsize(p), size))
        H.assert_same_data(root, os.path.join(out, "dataset"), "btdownloadheadless leecher")


if __name__ == "__main__":
    H.run_main(main)
