#!/usr/bin/python3
"""uTP over IPv6: a libtorrent seed on [::1] with TCP off (uTP only) is
found through bttrack's peers6; our leecher with no --bind dials it over
uTP on the IPv6 half of its shared UDP socket and finishes byte-identical.
Bounded well under 60 s."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 2 * H.MiB + 4242


def main():
    H.require_headless()
    with H.Workspace("ipv6-utp", timeout=90) as ws:
        bttrack = os.path.join(H.btl_bin_dir(), "bttrack")
        port = H.free_port("::1")
        tracker = ws.start("bttrack", [bttrack, "--port", str(port), "--dfile", ws.path("bttrack.dfile")])
        H.wait_listening("::1", port, 10, tracker)
        src = ws.mkdir("seed")
        data = os.path.join(src, "utp6.bin")
        H.write_random_file(data, SIZE, 63)
        tor = ws.path("utp6.torrent")
        H.make_torrent(data, tor, PIECE, "http://[::1]:%d/announce" % port)
        seed = H.LtPeer(ws, "lt-utp-seed6", tor, src, "::1", seed=True, utp_only=True)
        seed.wait_ready(30)

        out = ws.mkdir("leech")
        lport = H.free_port("::1")
        t0 = time.monotonic()
        leech = ws.start("btl-leech6", [
            H.require_headless(), tor, "--minport", str(lport), "--maxport", str(lport),
            "--data_dir", ws.mkdir("leech.data"), "--save_in", out, "--seed_time", "0",
            "--display_interval", "1", "--status_json", ws.path("leech.status.json"),
            "--dht", "0"] + H.NO_REACH)
        H.wait_until(lambda: seed.status().get("utp_peers", 0) >= 1 or leech.poll() is not None, 30,
                     "our leecher to reach the uTP-only seed", procs=[seed.proc])
        rc = leech.wait(40)
        H.log("our leecher done after %.1fs" % (time.monotonic() - t0))
        H.check(rc == 0, "our leecher exited %s:\n%s" % (rc, leech.tail(20)))
        H.assert_same_data(data, os.path.join(out, "utp6.bin"), "leecher over uTP on ::1")
        st = seed.status()
        H.check(st.get("uploaded", 0) >= SIZE, "the uTP-only seed uploaded %s" % st.get("uploaded"))
        seed.stop()


if __name__ == "__main__":
    H.run_main(main)
