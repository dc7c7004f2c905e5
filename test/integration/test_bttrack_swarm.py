#!/usr/bin/python3
"""Our tracker with a mixed swarm: bttrack is the only tracker; our
btdownloadheadless seeds, and a libtorrent leecher, an aria2c leecher and one
of our btdownloadheadless leechers find each other through it and all finish
byte-identical.  bttrack's scrape then counts the finished peers: complete
>= 3 (our seed, libtorrent and ours still seeding; aria2c has left) and
downloaded >= 3.  Seeder 127.0.0.2, leechers .3 .4 .5; bounded time."""

import os
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 128 * H.KiB
SIZE = 8 * H.MiB + 4321


def bttrack_path():
    p = os.path.join(H.btl_bin_dir(), "bttrack")
    H.check(os.access(p, os.X_OK), "bttrack not found in BTL_BIN (%s)" % H.btl_bin_dir())
    return p


def scrape(port, ih_hex):
    q = urllib.parse.quote_from_bytes(bytes.fromhex(ih_hex))
    with urllib.request.urlopen("http://127.0.0.1:%d/scrape?info_hash=%s" % (port, q), timeout=5) as r:
        d = H.bdecode(r.read())
    st = d.get(b"files", {}).get(bytes.fromhex(ih_hex), {})
    return {k.decode(): v for k, v in st.items()}


def main():
    H.require_headless()
    with H.Workspace("bttrack-swarm", timeout=200) as ws:
        port = H.free_port()
        tracker = ws.start("bttrack", [bttrack_path(), "--port", str(port), "--bind", "127.0.0.1",
                                       "--dfile", ws.path("bttrack.dfile")])
        H.wait_listening("127.0.0.1", port, 10, tracker)

        src = ws.mkdir("seed")
        data = os.path.join(src, "mixed.bin")
        H.write_random_file(data, SIZE, 91)
        tor = ws.path("mixed.torrent")
        ih, size, _ = H.make_torrent(data, tor, PIECE, "http://127.0.0.1:%d/announce" % port)

        seeder = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src)
        seeder.wait_state(("seeding",), 60)
        H.wait_until(lambda: scrape(port, ih).get("complete", 0) >= 1, 20,
                     "our seeder to reach bttrack", interval=0.2, procs=[seeder.proc, tracker])

        out_lt, out_aria, out_ours = ws.mkdir("lt"), ws.mkdir("aria"), ws.mkdir("ours")
        t0 = time.monotonic()
        lt = H.LtPeer(ws, "lt-leech", tor, out_lt, ws.next_ip())
        aria = H.Aria2(ws, "aria2-leech", tor, out_aria, ws.next_ip())
        ours = H.Headless(ws, "btl-leech", tor, ws.next_ip(), save_in=out_ours)

        lt.wait_seeding(90)
        ours.wait_state(("seeding",), 90)
        rc = aria.proc.wait(max(5, 90 - (time.monotonic() - t0)))
        H.log("all three leechers done after %.1fs" % (time.monotonic() - t0))
        H.check(rc == 0, "aria2c exited %s" % rc)
        H.assert_same_data(data, os.path.join(out_lt, "mixed.bin"), "libtorrent leecher")
        H.assert_same_data(data, os.path.join(out_aria, "mixed.bin"), "aria2c leecher")
        H.assert_same_data(data, os.path.join(out_ours, "mixed.bin"), "our leecher")

        # Every finished peer told bttrack (completed); aria2c has stopped.
        H.wait_until(lambda: scrape(port, ih).get("complete", 0) >= 3
                     and scrape(port, ih).get("downloaded", 0) >= 3, 20,
                     "bttrack's scrape to count the finished peers (now %s)" % scrape(port, ih),
                     interval=0.3, procs=[tracker])
        sc = scrape(port, ih)
        H.log("bttrack scrape: %s" % sc)
        H.check(sc.get("incomplete", 0) == 0, "nobody should still be downloading: %s" % sc)
        H.check(seeder.status().get("uploaded", 0) > 0, "our seeder uploaded nothing")

        for p in (ours, seeder):
            rc = p.stop(20)
            H.check(rc == 0, "%s exited %s on SIGTERM" % (p.name, rc))
        H.check(tracker.poll() is None, "bttrack died")


if __name__ == "__main__":
    H.run_main(main)
