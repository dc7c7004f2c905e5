#!/usr/bin/python3
"""PEX out (BEP 11): a libtorrent peer learns of a third peer through our
ut_pex and downloads from it.

The torrent's tracker is dead.  Seed C (libtorrent without extensions: it
takes no PEX) dials us; its extended handshake gives its listen port.  We
download from it slowly (--max_download_rate), so it stays connected.
Leecher D (libtorrent with ut_pex) dials only us; we upload at most 1 kB/s,
so D can finish only if our PEX named C to it and it downloaded from C."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 128 * H.KiB
TOTAL = 3 * H.MiB + 4321


def main():
    H.require_headless()
    with H.Workspace("pex-to-lt", timeout=90) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "data.bin"), TOTAL, 22)
        tor = ws.path("data.torrent")
        dead = "http://127.0.0.1:%d/announce" % H.free_port()
        ih, size, _ = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, dead)

        me = H.Headless(ws, "btl", tor, ws.next_ip(), save_in=ws.mkdir("us"),
                        extra=["--verbose", "--max_download_rate", "150", "--max_upload_rate", "1"])
        H.wait_listening(me.ip, me.port, 20, me.proc)
        c = H.LtPeer(ws, "lt-seed-c", tor, src, ws.next_ip(), seed=True, plugins=False,
                     connect=[(me.ip, me.port)])
        H.wait_until(lambda: me.status().get("peers", 0) >= 1, 20, "seed C to connect to us",
                     procs=[me.proc, c.proc])
        dst = ws.mkdir("d")
        d = H.LtPeer(ws, "lt-d", tor, dst, ws.next_ip(), connect=[(me.ip, me.port)])
        d.wait_seeding(40)
        H.log("D %s; C %s; us %s" % (d.status(), c.status(), me.status()))
        H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(dst, "data.bin"),
                           "libtorrent D's download")
        cst = c.status()
        our_part = me.status().get("uploaded", 0)
        H.check(our_part < 0.5 * size, "we uploaded %d bytes to D: the limit did not hold" % our_part)
        H.check(cst.get("uploaded", 0) >= size * 0.5 + me.status().get("downloaded", 0) * 0.9,
                "seed C uploaded only %s bytes: D did not download from it" % cst.get("uploaded"))
        me.stop()


if __name__ == "__main__":
    H.run_main(main)
