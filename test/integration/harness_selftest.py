#!/usr/bin/python3
"""Checks btl_harness.py itself, without our binaries (not part of `make
check`): opentracker + libtorrent seeder -> libtorrent leecher and aria2c
leecher (multi-file, uneven sizes), then the rate-limit trick (a limited
seeder really is slow), scrape counts, and cleanup (no process or temp dir
left behind).  Run: /usr/bin/python3 test/integration/harness_selftest.py"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402


def main():
    pids = []
    with H.Workspace("selftest", timeout=120) as ws:
        wsdir = ws.dir
        piece = 256 * H.KiB
        src = ws.mkdir("seed")
        layout = H.uneven_layout(24 * H.MiB, piece)
        H.make_tree(os.path.join(src, "multi"), layout, seed=3)
        tor = ws.path("multi.torrent")
        tr = H.Tracker(ws)
        ih, size, npieces = H.make_torrent(os.path.join(src, "multi"), tor,
                                           piece, tr.announce)
        H.log("torrent %s: %d bytes, %d pieces, %d files"
              % (ih, size, npieces, len(layout)))
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready(15)
        H.check(tr.scrape(ih).get("complete") == 1, "scrape: 1 seed expected")

        t0 = time.monotonic()
        lt_dir = ws.mkdir("lt-leech")
        leech = H.LtPeer(ws, "lt-leech", tor, lt_dir, ws.next_ip(),
                         exit_when_done=True)
        a_dir = ws.mkdir("aria")
        aria = H.Aria2(ws, "aria2c", tor, a_dir, ws.next_ip())
        H.check(leech.proc.wait(60) == 0, "libtorrent leecher failed")
        H.check(aria.proc.wait(60) == 0, "aria2c failed")
        H.log("both leechers done in %.1fs" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "multi"),
                           os.path.join(lt_dir, "multi"), "libtorrent leecher")
        H.assert_same_data(os.path.join(src, "multi"),
                           os.path.join(a_dir, "multi"), "aria2c leecher")
        H.check(seeder.uploaded(size) >= size,
                "seeder uploaded less than one copy")

        # Rate limit on loopback: 8 MiB at 2 MB/s must take >= ~3.5 s.
        single = ws.path("seed2", "one.bin")
        H.write_random_file(single, 8 * H.MiB, 9)
        tor2 = ws.path("one.torrent")
        tr.stop()
        tr2 = H.Tracker(ws)
        ih2, size2, _ = H.make_torrent(single, tor2, H.MiB, tr2.announce)
        tr2.start([ih2])
        slow = H.LtPeer(ws, "lt-slow-seed", tor2, ws.path("seed2"), ws.next_ip(),
                        seed=True, upload_limit=2_000_000)
        slow.wait_ready(15)
        t0 = time.monotonic()
        l2 = H.LtPeer(ws, "lt-leech2", tor2, ws.mkdir("l2"), ws.next_ip())
        l2.wait_seeding(30)
        dt = time.monotonic() - t0
        H.log("rate-limited download of 8 MiB took %.1fs" % dt)
        H.check(dt >= 3.0, "upload limit not applied (%.1fs)" % dt)
        H.check(l2.stop() == 0, "lt leecher did not exit 0 on SIGTERM")
        time.sleep(0.5)
        sc = tr2.scrape(ih2)
        H.log("scrape after leecher stop: %s" % sc)
        H.check(sc.get("complete") == 1, "stopped peer still counted: %s" % sc)
        H.assert_same_data(single, ws.path("l2", "one.bin"), "rate-limited leecher")
        pids = [p.pid for p in ws.procs]

    # Cleanup: temp dir gone, no process group alive.
    H.check(not os.path.exists(wsdir), "workspace not removed")
    for pid in pids:
        try:
            os.killpg(pid, 0)
            raise H.Fail("process group %d still alive" % pid)
        except ProcessLookupError:
            pass
    H.log("cleanup ok")

    # A hard timeout must fire, kill the children and remove the dir.
    try:
        with H.Workspace("selftest-timeout", timeout=2) as ws:
            wsdir = ws.dir
            p = ws.start("sleeper", ["sleep", "60"])
            time.sleep(10)
        raise H.Fail("hard timeout did not fire")
    except TimeoutError:
        pass
    H.check(not os.path.exists(wsdir), "workspace not removed after timeout")
    try:
        os.killpg(p.pid, 0)
        raise H.Fail("sleeper survived the timeout")
    except ProcessLookupError:
        pass
    H.log("hard timeout ok")


if __name__ == "__main__":
    H.run_main(main)
