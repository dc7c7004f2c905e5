#!/usr/bin/python3
"""The DHT against a second implementation: aria2c, given only a libtorrent
DHT node as its --dht-entry-point, finds our seed of a trackerless torrent
through the DHT and completes.  Router 127.0.0.2 (libtorrent), us .3,
aria2c .4.  aria2c's DHT state goes to the workspace (--dht-file-path)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
from test_dht_libtorrent import LtNode, make  # noqa: E402


def main():
    H.require_headless()
    with H.Workspace("dht-aria2", timeout=120) as ws:
        src, tor, ih = make(ws, "a.bin", 2 * H.MiB + 5, 7)
        router = LtNode(ws, "lt-router", ws.next_ip())
        H.wait_until(lambda: router.status().get("listen_port"), 15, "the libtorrent router to start",
                     procs=[router.proc])
        ours = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src, dht=True,
                          extra=["--dht_bootstrap", "%s:%d" % router.addr])
        ours.wait_state(("seeding",), 30)
        ip = ws.next_ip()
        out = ws.mkdir("aria2")
        port, dport = H.free_port(ip), H.free_port(ip)
        argv = ["aria2c", "--seed-time=0", "--enable-dht=true", "--enable-dht6=false",
                "--dht-listen-port=%d" % dport, "--dht-entry-point=%s:%d" % router.addr,
                "--dht-file-path=%s" % ws.path("aria2-dht.dat"), "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--disable-ipv6=true", "--interface=%s" % ip,
                "--listen-port=%d" % port, "--file-allocation=none", "--allow-overwrite=true",
                "--console-log-level=warn", "--summary-interval=1", "--no-conf=true",
                "--bt-stop-timeout=60", "-d", out, tor]
        t0 = time.monotonic()
        aria = ws.start("aria2c", argv)
        rc = aria.wait(70)
        H.log("aria2c exited %s after %.1f s" % (rc, time.monotonic() - t0))
        H.check(rc == 0, "aria2c (DHT only) exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src, "a.bin"), os.path.join(out, "a.bin"), "aria2c via the DHT")
        ours.stop()


if __name__ == "__main__":
    H.run_main(main)
