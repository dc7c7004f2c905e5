#!/usr/bin/python3
"""uTP traffic counts against the same rate limits as TCP: our seed with
--max_upload_rate 1000 (kB/s) feeds a uTP-only libtorrent leecher 6 MiB;
the transfer must take at least ~5 s (6.3 MB at 1000 kB/s, with the
bucket's first second of burst allowed) and still arrive whole.
Seed 127.0.0.2 (us), leecher 127.0.0.3."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
TOTAL = 6 * H.MiB
RATE_KB = 1000


def main():
    H.require_headless()
    with H.Workspace("utp-rate", timeout=90) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "blob"), TOTAL, seed=41)
        tor = ws.path("blob.torrent")
        # No tracker runs: the leecher is told where we are.
        H.make_torrent(os.path.join(src, "blob"), tor, PIECE, "http://127.0.0.1:%d/announce" % H.free_port())
        me = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src,
                        extra=("--max_upload_rate", str(RATE_KB)))
        me.wait_state(("seeding",), 30)
        out = ws.mkdir("leech")
        leech = H.LtPeer(ws, "lt-leech", tor, out, ws.next_ip(), utp_only=True, connect=[(me.ip, me.port)])
        first = []
        def progress():
            st = leech.status()
            if st.get("downloaded", 0) > 0 and not first:
                first.append(time.monotonic())
            return st.get("seeding")
        H.wait_until(progress, 60, "the uTP-only libtorrent leecher to finish", procs=[leech.proc, me.proc])
        took = time.monotonic() - first[0]
        rate = TOTAL / took / 1000
        H.log("6 MiB over uTP in %.1fs: %.0f kB/s against a cap of %d kB/s" % (took, rate, RATE_KB))
        H.assert_same_data(os.path.join(src, "blob"), os.path.join(out, "blob"), "rate-limited uTP leecher")
        H.check(took >= 4.5, "6 MiB took %.1fs: faster than the %d kB/s cap allows" % (took, RATE_KB))
        H.check(rate >= RATE_KB * 0.4, "only %.0f kB/s of a %d kB/s cap" % (rate, RATE_KB))


if __name__ == "__main__":
    H.run_main(main)
