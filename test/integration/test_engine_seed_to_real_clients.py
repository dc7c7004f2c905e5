#!/usr/bin/python3
"""Our btdownloadheadless seeds: the data is already in --save_in, so it
verifies it and seeds (no --seed_time).  A libtorrent leecher (127.0.0.3)
and an aria2c leecher (127.0.0.4) must both finish with byte-identical data.
At the end SIGTERM: exit 0 after announcing `stopped` (the tracker's scrape
count of seeds drops by one)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = H.MiB
SIZE = 40 * H.MiB + 123_457          # short last piece


def main():
    H.require_headless()
    with H.Workspace("engine-seed", timeout=240) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "payload.bin")
        H.write_random_file(data, SIZE, 21)
        tr = H.Tracker(ws)
        tor = ws.path("payload.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])
        digest = H.tree_digest(data)

        me = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src)
        st = me.wait_state(("seeding",), 60)
        H.log("our seeder is seeding: %s" % st)
        H.check(float(st.get("progress", 0)) >= 0.9999,
                "seeding with progress %r" % st.get("progress"))
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 20,
                     "our seeder's announce to reach the tracker", interval=0.2,
                     procs=[me.proc])

        t0 = time.monotonic()
        lt_dir = ws.mkdir("lt-leech")
        leech = H.LtPeer(ws, "lt-leech", tor, lt_dir, ws.next_ip(), exit_when_done=True)
        a_dir = ws.mkdir("aria")
        aria = H.Aria2(ws, "aria2c", tor, a_dir, ws.next_ip())
        rc_lt = leech.proc.wait(120)
        rc_a = aria.proc.wait(max(5, 120 - (time.monotonic() - t0)))
        H.log("leechers done after %.1fs (libtorrent rc %s, aria2c rc %s)"
              % (time.monotonic() - t0, rc_lt, rc_a))
        H.check(rc_lt == 0, "libtorrent leecher exited %s" % rc_lt)
        H.check(rc_a == 0, "aria2c exited %s" % rc_a)
        H.assert_same_data(data, os.path.join(lt_dir, "payload.bin"), "libtorrent leecher")
        H.assert_same_data(data, os.path.join(a_dir, "payload.bin"), "aria2c leecher")
        H.check(me.proc.poll() is None, "our seeder exited on its own (rc %s)"
                % me.proc.returncode)

        time.sleep(1.0)    # let the leechers' own `stopped` announces land
        before = tr.scrape(ih)
        rc = me.stop(20)
        H.check(rc == 0, "btdownloadheadless exited %s on SIGTERM, expected 0" % rc)
        # `stopped` is sent before exit; allow opentracker a moment anyway.
        want = before.get("complete", 0) - 1
        t_end = time.monotonic() + 3
        while True:
            after = tr.scrape(ih)
            if after.get("complete", 0) <= want or time.monotonic() > t_end:
                break
            time.sleep(0.1)
        H.log("scrape before SIGTERM %s, after %s" % (before, after))
        H.check(after.get("complete", 0) == before.get("complete", 0) - 1,
                "tracker still counts our seeder after SIGTERM: no `stopped` "
                "announce (scrape before %s, after %s)" % (before, after))
        st = me.status()
        H.log("final status: %s" % st)
        H.check(st.get("uploaded", 0) >= size,
                "our seeder's final uploaded %r < one copy (%d)" % (st.get("uploaded"), size))
        H.check(str(st.get("info_hash", "")).lower() == ih, "status info_hash mismatch")
        H.check(H.tree_digest(data) == digest, "our seeder changed its data")


if __name__ == "__main__":
    H.run_main(main)
