#!/usr/bin/python3
"""Benchmark "memory that does not grow with the piece size".

Our btdownloadheadless downloads one file (1 GiB by default) on loopback
from 1 and from 4 libtorrent seeders (seed_mode, 127.0.0.2..5, through
opentracker), with 1 MiB and with 16 MiB pieces.  Reported per scenario:
wall time, MB/s, CPU seconds (user+sys from wait4) and peak RSS (ru_maxrss,
the kernel's VmHWM of the leecher).  Target: peak RSS < 64 MiB in every
scenario.  The downloaded file is compared with the seed data (SHA-1).

BENCH_MEM_BASE_BIN=DIR adds the same scenarios with the btdownloadheadless
in DIR (an older build) beside ours, to compare before/after.

Env: BENCH_MEM_RUNS (1), BENCH_MEM_SIZE_MIB (1024), BENCH_MEM_PIECES_KIB
("1024,16384"), BENCH_MEM_SEEDERS ("1,4"), BENCH_MEM_BASE_BIN, BTL_BIN,
BENCH_DIR (/tmp/btl-bench: the seed data, reused between invocations).
Exit status non-zero only if a scenario could not run.
Run: /usr/bin/python3 test/bench/bench_memory.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_util as BU  # noqa: E402
from bench_util import H  # noqa: E402

RUNS = int(os.environ.get("BENCH_MEM_RUNS", "1"))
SIZE = int(os.environ.get("BENCH_MEM_SIZE_MIB", "1024")) * H.MiB
PIECES = [int(x) * 1024 for x in os.environ.get("BENCH_MEM_PIECES_KIB", "1024,16384").split(",")]
SEEDERS = [int(x) for x in os.environ.get("BENCH_MEM_SEEDERS", "1,4").split(",")]
BASE_BIN = os.environ.get("BENCH_MEM_BASE_BIN", "")
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/btl-bench")
RUN_TIMEOUT = 300
RSS_TARGET_MIB = 64


def prepare_data():
    """The seed file (made once) and SHA-1 of the whole file."""
    name = "bench-mem-%dm.bin" % (SIZE // H.MiB)
    data_dir = os.path.join(BENCH_DIR, "mem-data")
    data = os.path.join(data_dir, name)
    BU.ensure_data(data, SIZE, 4321)
    return data_dir, data


def make_torrent(data, piece, out, announce):
    hashes, _ = BU.cached_hashes(data, piece, "%s.%dk" % (data, piece // 1024))
    return BU.make_torrent_from_hashes(data, piece, hashes, out, announce)


def one_run(ws, tor, data_name, want_sha, label, run, bin_dir):
    os.sync()
    name = "mem-%s-%d" % (label, run)
    out = ws.mkdir(name + ".out")
    old = os.environ.get("BTL_BIN")
    os.environ["BTL_BIN"] = bin_dir
    try:
        t0 = time.monotonic()
        p = H.Headless(ws, name, tor, "127.0.0.%d" % (20 + run % 200), save_in=out, seed_time=0,
                       data_dir=ws.mkdir(name + ".data")).proc
    finally:
        if old is None:
            del os.environ["BTL_BIN"]
        else:
            os.environ["BTL_BIN"] = old
    rc = p.wait(RUN_TIMEOUT)
    wall = p.ended - t0
    H.check(rc == 0, "%s exited %s" % (name, rc))
    got = os.path.join(out, data_name)
    H.check(os.path.exists(got) and os.path.getsize(got) == SIZE, "%s: incomplete file" % name)
    H.check(BU.sha1_file(got) == want_sha, "%s: data differs" % name)
    r = {"wall": wall, "cpu": p.rusage.ru_utime + p.rusage.ru_stime, "rss_kib": p.rusage.ru_maxrss}
    H.log("%s run %d: %.2fs %.0f MB/s cpu %.2fs peak rss %.1f MiB"
          % (label, run, wall, SIZE / wall / 1e6, r["cpu"], r["rss_kib"] / 1024))
    os.remove(got)
    p.kill_group()
    return r


def scenario(ws, data_dir, data, want_sha, piece, nseed, builds, results):
    tr = H.Tracker(ws)
    tor = ws.path("mem-%dk-%ds.torrent" % (piece // 1024, nseed))
    ih = make_torrent(data, piece, tor, tr.announce)
    tr.start([ih])
    seeds = []
    try:
        for i in range(nseed):
            s = H.LtPeer(ws, "lt-seed-%dk-%d-%d" % (piece // 1024, nseed, i), tor, data_dir,
                         "127.0.0.%d" % (2 + i), seed=True)
            seeds.append(s)
        for s in seeds:
            s.wait_ready(30)
        BU.wait_announced(tr, ih, nseed, 30, "the seeders' announces")
        for key, bin_dir in builds:
            label = "%s-%dk-%ds" % (key, piece // 1024, nseed)
            results[(key, piece, nseed)] = [
                one_run(ws, tor, os.path.basename(data), want_sha, label, i, bin_dir) for i in range(RUNS)]
    finally:
        for s in seeds:
            s.stop(20)


def main():
    if not os.access(H.headless_path(), os.X_OK):
        print("bench_memory: btdownloadheadless not found in %s" % H.btl_bin_dir())
        return 1
    builds = [("ours", H.btl_bin_dir())]
    if BASE_BIN:
        builds.insert(0, ("base", BASE_BIN))
    data_dir, data = prepare_data()
    want_sha = BU.sha1_file(data)  # also warms the page cache for the seeders
    results = {}
    failed = []
    with H.Workspace("bench-memory", timeout=3600) as ws:
        for piece in PIECES:
            for nseed in SEEDERS:
                try:
                    scenario(ws, data_dir, data, want_sha, piece, nseed, builds, results)
                except H.Fail as e:
                    H.log("scenario %d KiB pieces, %d seeders failed: %s" % (piece // 1024, nseed, e))
                    ws.dump_logs(15)
                    failed.append("%dk/%d" % (piece // 1024, nseed))
    print()
    print("bench_memory: %d MiB single file from libtorrent seeders (seed_mode), loopback, "
          "median of %d run(s), %d cores; target peak RSS < %d MiB"
          % (SIZE // H.MiB, RUNS, os.cpu_count(), RSS_TARGET_MIB))
    print("%-8s %10s %8s %8s %8s %8s %12s %7s" % ("build", "piece KiB", "seeders", "wall s", "MB/s",
                                               "cpu s", "peak RSS MiB", "target"))
    worst = 0.0
    for piece in PIECES:
        for nseed in SEEDERS:
            for key, _ in builds:
                rs = results.get((key, piece, nseed))
                if not rs:
                    print("%-8s %10d %8d %8s" % (key, piece // 1024, nseed, "n/a"))
                    continue
                rss = BU.median(rs, "rss_kib") / 1024
                if key == "ours":
                    worst = max(worst, max(r["rss_kib"] for r in rs) / 1024)
                print("%-8s %10d %8d %8.2f %8.0f %8.2f %12.1f %7s" % (
                    key, piece // 1024, nseed, BU.median(rs, "wall"), SIZE / BU.median(rs, "wall") / 1e6,
                    BU.median(rs, "cpu"), rss, "ok" if rss < RSS_TARGET_MIB else "MISSED"))
    print("worst peak RSS (ours, any run): %.1f MiB" % worst)
    if failed:
        print("FAILED scenarios: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    BU.run_main("bench_memory", main)
