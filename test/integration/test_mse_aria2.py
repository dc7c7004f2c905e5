#!/usr/bin/python3
"""MSE/PE against aria2c with --bt-require-crypto=true
--bt-min-crypto-level=arc4: aria2c leeches from our seed under
--encryption require, and then seeds to our leecher under require."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * 1024
SIZE = 5 * H.MiB + 7_777
CRYPTO = ("--bt-require-crypto=true", "--bt-min-crypto-level=arc4")


def main():
    H.require_headless()
    with H.Workspace("mse-aria2", timeout=100) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "payload.bin")
        H.write_random_file(data, SIZE, 16)
        tr = H.Tracker(ws)
        tor = ws.path("payload.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])

        me = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src, extra=("--encryption", "require"))
        me.wait_state(("seeding",), 30)
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 20,
                     "our seed's announce", interval=0.2, procs=[me.proc])
        a_dir = ws.mkdir("aria")
        t0 = time.monotonic()
        aria = H.Aria2(ws, "aria2c", tor, a_dir, ws.next_ip(), extra=CRYPTO)
        rc = aria.proc.wait(40)
        H.log("aria2c (crypto required) leeched in %.1f s, rc %s" % (time.monotonic() - t0, rc))
        H.check(rc == 0, "aria2c exited %s" % rc)
        H.assert_same_data(data, os.path.join(a_dir, "payload.bin"), "aria2c leecher")
        H.check(me.stop() == 0, "our seed did not exit cleanly")

        # aria2c seeds (crypto required) to our leecher under require.
        seed_ip = ws.next_ip()
        port = H.free_port(seed_ip)
        aseed = ws.start("aria2c-seed", [
            "aria2c", "--seed-ratio=0", "--enable-dht=false", "--enable-dht6=false",
            "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true",
            "--interface=%s" % seed_ip, "--listen-port=%d" % port, "--check-integrity=true",
            "--bt-seed-unverified=false", "--follow-torrent=false", "--file-allocation=none",
            "--auto-save-interval=0", "--console-log-level=warn", "--summary-interval=0",
            "--show-console-readout=false", "--no-conf=true", "-d", a_dir] + list(CRYPTO) + [tor])
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 30,
                     "aria2c's seed announce", interval=0.2, procs=[aseed])
        l_dir = ws.mkdir("leech")
        t0 = time.monotonic()
        leech = H.Headless(ws, "btl-leech", tor, ws.next_ip(), save_in=l_dir, extra=("--encryption", "require"))
        leech.wait_state(("seeding",), 40)
        H.log("our leecher (require) got it from aria2c in %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(data, os.path.join(l_dir, "payload.bin"), "our leecher from aria2c")
        H.check(leech.stop() == 0, "our leecher did not exit cleanly")


if __name__ == "__main__":
    H.run_main(main)
