#!/usr/bin/python3
"""Benchmark "MSE/PE cost": CPU per GB with RC4 against plain text.

One seed -> one leecher on loopback through opentracker, BENCH_MSE_MIB
(128) MiB, for each of: ours in plain text (--encryption allow on both
sides), ours with RC4 (--encryption require on both), libtorrent in plain
text (encryption disabled) and libtorrent with RC4 forced.  Reported: wall
time of the leecher, MB/s, CPU seconds of seed + leecher (user+sys), and
CPU seconds per GB transferred; median of BENCH_RUNS (3) runs.
Run: /usr/bin/python3 test/bench/bench_mse.py
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import btl_harness as H  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SIZE = int(os.environ.get("BENCH_MSE_MIB", "128")) * H.MiB  # CPU s/GB is the figure
PIECE = H.MiB


def ours(ws, tor, src, mode, run):
    seed = H.Headless(ws, "seed-%s-%d" % (mode, run), tor, ws.next_ip(), save_in=src,
                      extra=("--encryption", mode))
    seed.wait_state(("seeding",), 120)
    c0 = seed.proc.cpu_seconds()
    dst = ws.mkdir("leech-%s-%d" % (mode, run))
    t0 = time.monotonic()
    leech = H.Headless(ws, "leech-%s-%d" % (mode, run), tor, ws.next_ip(), save_in=dst, seed_time=0,
                       extra=("--encryption", mode))
    H.check(leech.proc.wait(300) == 0, "our leecher failed")
    wall = time.monotonic() - t0
    cpu = leech.proc.cpu_seconds() + seed.proc.cpu_seconds() - c0
    seed.stop()
    H.check(os.path.getsize(os.path.join(dst, "payload.bin")) == SIZE, "short download")
    os.unlink(os.path.join(dst, "payload.bin"))
    return wall, cpu


def libtorrent(ws, tor, src, enc, run):
    seed = H.LtPeer(ws, "ltseed-%s-%d" % (enc, run), tor, src, ws.next_ip(), seed=True, encryption=enc)
    seed.wait_ready(60)
    c0 = seed.proc.cpu_seconds()
    dst = ws.mkdir("ltleech-%s-%d" % (enc, run))
    t0 = time.monotonic()
    leech = H.LtPeer(ws, "ltleech-%s-%d" % (enc, run), tor, dst, ws.next_ip(), encryption=enc,
                     exit_when_done=True)
    H.check(leech.proc.wait(300) == 0, "libtorrent leecher failed")
    wall = time.monotonic() - t0
    cpu = leech.proc.cpu_seconds() + seed.proc.cpu_seconds() - c0
    seed.stop()
    os.unlink(os.path.join(dst, "payload.bin"))
    return wall, cpu


def main():
    H.require_headless()
    with H.Workspace("bench-mse", timeout=3600) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "payload.bin")
        H.write_random_file(data, SIZE, 99)
        tr = H.Tracker(ws)
        tor = ws.path("payload.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])
        rows = [("ours, plain text", ours, "allow"), ("ours, RC4", ours, "require"),
                ("libtorrent, plain text", libtorrent, "disabled"), ("libtorrent, RC4", libtorrent, "forced")]
        results = {}
        for run in range(RUNS):
            for name, fn, mode in rows:
                w, c = fn(ws, tor, src, mode, run)
                H.log("%s run %d: %.2f s, %.2f CPU s" % (name, run, w, c))
                results.setdefault(name, []).append((w, c))
        gb = SIZE / 1e9
        print("MSE/PE, %d MiB seed -> leecher on loopback, median of %d runs, load %s"
              % (SIZE // H.MiB, RUNS, os.getloadavg()))
        print("%-24s %9s %9s %14s %12s" % ("pair", "wall s", "MB/s", "CPU s (both)", "CPU s/GB"))
        for name, _, _ in rows:
            w = statistics.median(x[0] for x in results[name])
            c = statistics.median(x[1] for x in results[name])
            print("%-24s %9.2f %9.1f %14.2f %12.2f" % (name, w, SIZE / w / 1e6, c, c / gb))


if __name__ == "__main__":
    H.run_main(main)
