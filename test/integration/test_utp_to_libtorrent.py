#!/usr/bin/python3
"""uTP only, we seed: a libtorrent leecher with TCP switched off both ways
dials our btdownloadheadless seed over uTP on our listen port and must get
the whole torrent byte-identical.  Seed 127.0.0.2 (us), leecher 127.0.0.3."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
TOTAL = 16 * H.MiB + 54_321


def main():
    H.require_headless()
    with H.Workspace("utp-to-lt", timeout=90) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "blob"), TOTAL, seed=31)
        tor = ws.path("blob.torrent")
        # No tracker runs: the leecher is told where we are, and nobody dials it.
        ih, size, _ = H.make_torrent(os.path.join(src, "blob"), tor, PIECE,
                                     "http://127.0.0.1:%d/announce" % H.free_port())
        # Capped so the transfer lasts several seconds: uncapped, the leecher
        # could finish 16 MiB between two polls of its status and drop us
        # (a seed meets a seed), so the uTP connection was never seen.
        me = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src, extra=["--max_upload_rate", "3000"])
        me.wait_state(("seeding",), 30)

        out = ws.mkdir("leech")
        leech = H.LtPeer(ws, "lt-leech", tor, out, ws.next_ip(), utp_only=True,
                         connect=[(me.ip, me.port)])
        t0 = time.monotonic()
        saw_utp = []
        def done():
            st = leech.status()
            if st.get("utp_peers", 0) > 0:
                saw_utp.append(1)
            return st.get("seeding")
        H.wait_until(done, 60, "the uTP-only libtorrent leecher to finish", procs=[leech.proc, me.proc])
        H.log("libtorrent leecher done after %.1fs" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "blob"), os.path.join(out, "blob"), "uTP-only libtorrent leecher")
        H.check(saw_utp, "the libtorrent leecher never listed a uTP peer")
        # the status file is rewritten every second
        H.wait_until(lambda: me.status().get("uploaded", 0) >= size, 5,
                     "our seed to report %d bytes uploaded (status %s)" % (size, me.status_path), procs=[me.proc])


if __name__ == "__main__":
    H.run_main(main)
