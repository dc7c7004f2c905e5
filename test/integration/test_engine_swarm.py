#!/usr/bin/python3
"""A swarm of ours: one btdownloadheadless seeder limited to 1000 kB/s up
and three btdownloadheadless leechers started together on a 16 MiB file.
The seeder alone would need ~50 s for three copies, so leechers must trade:
all finish byte-identical, and each leecher's final status_json shows
uploaded > 0.  Seeder 127.0.0.2, leechers .3 .4 .5."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB
SIZE = 16 * H.MiB
SEED_RATE_KB = 1000
N_LEECHERS = 3
LEECH_SEED_TIME = 5      # help the others a little after completing


def main():
    H.require_headless()
    with H.Workspace("engine-swarm", timeout=240) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "swarm.bin")
        H.write_random_file(data, SIZE, 31)
        tr = H.Tracker(ws)
        tor = ws.path("swarm.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])

        seeder = H.Headless(ws, "btl-seed", tor, ws.next_ip(), save_in=src,
                            extra=["--max_upload_rate", str(SEED_RATE_KB)])
        seeder.wait_state(("seeding",), 60)
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 20,
                     "the seeder's announce to reach the tracker", interval=0.2,
                     procs=[seeder.proc])

        t0 = time.monotonic()
        leechers = []
        for i in range(N_LEECHERS):
            out = ws.mkdir("leech%d" % i)
            leechers.append((H.Headless(ws, "btl-leech%d" % i, tor, ws.next_ip(),
                                        save_in=out, seed_time=LEECH_SEED_TIME), out))
        done = {}
        deadline = time.monotonic() + 150
        while len(done) < N_LEECHERS:
            for me, _ in leechers:
                if me.name not in done and me.proc.poll() is not None:
                    done[me.name] = time.monotonic() - t0
                    H.log("%s exited rc %s after %.1fs" % (me.name, me.proc.returncode,
                                                            done[me.name]))
            H.check(time.monotonic() < deadline, "leechers not done after 150s: %s" % {
                me.name: me.status().get("progress") for me, _ in leechers})
            H.check(seeder.proc.poll() is None, "seeder exited (rc %s)"
                    % seeder.proc.returncode)
            time.sleep(0.2)

        seed_st = seeder.status()
        for me, out in leechers:
            H.check(me.proc.returncode == 0, "%s exited %s" % (me.name, me.proc.returncode))
            H.assert_same_data(data, os.path.join(out, "swarm.bin"), me.name)
        ups = {}
        for me, _ in leechers:
            st = me.status()
            ups[me.name] = st.get("uploaded", 0)
            H.log("%s final: downloaded %s uploaded %s" % (me.name, st.get("downloaded"),
                                                           st.get("uploaded")))
        H.log("seeder uploaded %.2f copies; last leecher done after %.1fs "
              "(seeder-only bound for %d copies: %.1fs)"
              % (seed_st.get("uploaded", 0) / size, max(done.values()), N_LEECHERS,
                 N_LEECHERS * size / (SEED_RATE_KB * 1000)))
        for name, up in ups.items():
            H.check(up and up > 0, "%s uploaded %r: leechers did not trade" % (name, up))
        rc = seeder.stop(20)
        H.check(rc == 0, "seeder exited %s on SIGTERM, expected 0" % rc)


if __name__ == "__main__":
    H.run_main(main)
