#!/usr/bin/python3
"""PEX in (BEP 11): our btdownloadheadless learns of a seed only through a
libtorrent peer's ut_pex and downloads from it.

The torrent's tracker is dead.  Seed B (libtorrent without extensions, so it
learns of nobody) only listens.  Peer A (libtorrent, rate-limited to 2 kB/s
down so it has almost nothing to give) dials B and us; its PEX names B to
us.  We must finish, and B must have uploaded (nearly) the whole torrent:
to us, since A can take only a few kB."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
TOTAL = 6 * H.MiB + 12_345


def main():
    H.require_headless()
    with H.Workspace("pex-from-lt", timeout=120) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "data.bin"), TOTAL, 21)
        tor = ws.path("data.torrent")
        dead = "http://127.0.0.1:%d/announce" % H.free_port()
        ih, size, _ = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, dead)

        b = H.LtPeer(ws, "lt-seed-b", tor, src, ws.next_ip(), seed=True, plugins=False)
        H.wait_listening(b.ip, b.port, 20, b.proc)
        out = ws.mkdir("us")
        me = H.Headless(ws, "btl", tor, ws.next_ip(), save_in=out, seed_time=0, extra=["--verbose"])
        H.wait_listening(me.ip, me.port, 20, me.proc)
        a = H.LtPeer(ws, "lt-a", tor, ws.mkdir("a"), ws.next_ip(), download_limit=2000,
                     connect=[(b.ip, b.port)], connect_later=[(me.ip, me.port)])
        # libtorrent sends ut_pex once a minute: if its first message to us
        # went out before it had B, B comes in the next one, 60 s later.
        rc = me.proc.wait(80)
        H.log("btdownloadheadless exited %s; B %s; A %s" % (rc, b.status(), a.status()))
        H.check(rc == 0, "btdownloadheadless --seed_time 0 exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(out, "data.bin"),
                           "the download")
        H.check(b.uploaded(0.9 * size) >= 0.9 * size,
                "seed B uploaded %s of %d bytes: we did not download from it"
                % (b.status().get("uploaded"), size))
        H.check(a.status().get("downloaded", 0) < 0.5 * size,
                "peer A downloaded %s bytes: the test needs it to have little"
                % a.status().get("downloaded"))


if __name__ == "__main__":
    H.run_main(main)
