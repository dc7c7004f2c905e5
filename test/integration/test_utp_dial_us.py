#!/usr/bin/python3
"""libtorrent with both transports dials our seed: it tries uTP first, and
since we answer uTP on the listen port, the connection it keeps is a uTP
one, made at once (no ~4 s wait for a uTP attempt to fail before TCP).
Seed 127.0.0.2 (us), leecher 127.0.0.3."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
TOTAL = 8 * H.MiB + 999


def main():
    H.require_headless()
    with H.Workspace("utp-dial-us", timeout=90) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "blob"), TOTAL, seed=37)
        tor = ws.path("blob.torrent")
        # No tracker runs: the leecher is told where we are, and nobody dials it.
        ih, size, _ = H.make_torrent(os.path.join(src, "blob"), tor, PIECE,
                                     "http://127.0.0.1:%d/announce" % H.free_port())
        # Capped so the transfer lasts several seconds: uncapped, the leecher
        # finished in 0.6 s and dropped us between two polls of its status.
        me = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src, extra=["--max_upload_rate", "1500"])
        me.wait_state(("seeding",), 30)

        out = ws.mkdir("leech")
        t0 = time.monotonic()
        leech = H.LtPeer(ws, "lt-leech", tor, out, ws.next_ip(), utp=True, connect=[(me.ip, me.port)])
        first = []
        def connected():
            st = leech.status()
            if st.get("utp_peers", 0) > 0 and not first:
                first.append(time.monotonic() - t0)
            return bool(first)
        H.wait_until(connected, 30, "libtorrent to hold a uTP connection to us", procs=[leech.proc, me.proc])
        H.log("uTP connection seen %.2fs after libtorrent started" % first[0])
        leech.wait_seeding(60)
        H.assert_same_data(os.path.join(src, "blob"), os.path.join(out, "blob"), "libtorrent leecher")
        st = leech.status()
        H.log("leecher status: %s" % st)
        # The libtorrent process itself takes about a second to start.
        H.check(first[0] < 4.0, "the uTP connection took %.2fs (libtorrent's TCP fallback is ~4 s)" % first[0])


if __name__ == "__main__":
    H.run_main(main)
