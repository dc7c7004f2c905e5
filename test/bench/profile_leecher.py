#!/usr/bin/python3
"""Profile our leecher against one seeder of bench_download.py.

Runs one download of the bench file (BENCH_SIZE, default 256M) by our
btdownloadheadless from SEEDER (lt-default, lt-tuned, aria2c, transmission,
ours) with the leecher under WRAPPER (a command prefix), e.g.
  perf stat -e task-clock,context-switches,instructions --
  strace -f -c -o /tmp/strace.txt
  valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out
and prints wall, CPU and the leecher's log tail.  Not part of `make bench`
(its name does not start with bench_): a tool for finding where the
leecher's CPU goes.
PROFILE_LEECHER=aria2c|libtorrent profiles that leecher instead.
Run: /usr/bin/python3 test/bench/profile_leecher.py SEEDER [WRAPPER...]
"""

import os
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_download as B  # noqa: E402
H = B.H
LEECHER = os.environ.get("PROFILE_LEECHER", "ours")  # or aria2c, libtorrent


def main():
    seeder = sys.argv[1] if len(sys.argv) > 1 else "ours"
    wrapper = sys.argv[2:]
    if len(wrapper) == 1:
        wrapper = shlex.split(wrapper[0])
    data_dir, data, piece_hashes, whole_sha = B.prepare_data()
    with H.Workspace("profile-leecher", timeout=1800) as ws:
        tr = H.Tracker(ws)
        tor = ws.path("bench.torrent")
        ih = B.make_torrent_fast(data, piece_hashes, tor, tr.announce)
        tr.start([ih])
        proc, stop = B.start_seeder(ws, seeder, tor, data_dir)
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 60, "seeder announce",
                     interval=0.2, procs=[proc])
        out = ws.mkdir("leech")
        seed_cpu0 = proc.cpu_seconds()
        t0 = time.monotonic()
        if LEECHER == "ours":
            me = H.Headless(ws, "ours-leech", tor, "127.0.0.40", save_in=out, seed_time=0,
                            wrapper=wrapper, extra=B.OURS_EXTRA + ["--verbose"]).proc
        else:  # an anchor under the same wrapper, to compare profiles
            start = ws.start
            ws.start = lambda n, argv, **kw: start(n, wrapper + list(argv), **kw)
            if LEECHER == "aria2c":
                me = H.Aria2(ws, "aria2c", tor, out, "127.0.0.40").proc
            else:
                me = H.LtPeer(ws, "libtorrent", tor, out, "127.0.0.40", exit_when_done=True).proc
            ws.start = start
        rc = me.wait(1500)
        wall = me.ended - t0
        ru = me.rusage
        got = os.path.join(out, os.path.basename(data))
        H.check(rc == 0 and B.sha1_file(got) == whole_sha, "download failed or differs")
        print("%s from seeder %s, %d MiB: wall %.2f s (%.0f MB/s), leecher cpu %.2f s "
              "(user %.2f sys %.2f), seeder cpu %.2f s, load %s"
              % (LEECHER, seeder, B.SIZE // H.MiB, wall, B.SIZE / wall / 1e6, ru.ru_utime + ru.ru_stime,
                 ru.ru_utime, ru.ru_stime, proc.cpu_seconds() - seed_cpu0,
                 " ".join("%.2f" % x for x in os.getloadavg())))
        print(me.tail(25))
        stop()


if __name__ == "__main__":
    H.run_main(main)
