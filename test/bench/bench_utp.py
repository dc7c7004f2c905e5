#!/usr/bin/python3
"""Benchmark "uTP on loopback" (not part of make check).

One file (BENCH_SIZE_MIB, default 128 MiB, 1 MiB pieces, the file of
bench_download.py) through
opentracker, one leecher at a time, each to completion:
  ours <- ours     over uTP (both btdownloadheadless; the leecher dials uTP
                   first: BTL_UTP_FIRST=1)
  ours <- lt       over uTP (libtorrent seed with TCP off)
  lt   <- lt       over uTP (both libtorrent, TCP off)
  ours <- ours     over TCP (--utp 0 on both), for comparison
For each: wall time, MB/s (10^6 bytes/s), leecher CPU (user+sys) and CPU
seconds per GB moved; BENCH_RUNS runs each (default 1), median shown.
Run: /usr/bin/python3 test/bench/bench_utp.py
"""

import os
import statistics
import sys
import time

os.environ.setdefault("BENCH_SIZE_MIB", "128")  # libtorrent <- libtorrent over uTP runs ~8 MB/s
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import btl_harness as H  # noqa: E402
import bench_download as BD  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "1"))
SIZE = BD.SIZE


def run_leecher(ws, kind, tor, name, ip, out, utp_first):
    if kind == "ours":
        wrapper = ("env", "BTL_UTP_FIRST=1") if utp_first else ()
        extra = () if utp_first else ("--utp", "0")
        return H.Headless(ws, name, tor, ip, save_in=out, seed_time=0, extra=extra,
                          data_dir=ws.mkdir(name + ".data"), wrapper=wrapper).proc
    return H.LtPeer(ws, name, tor, out, ip, exit_when_done=True, utp_only=True).proc


def scenario(ws, tr, ih, label, tor, data_dir, data_name, whole_sha, seed_kind, leech_kind, utp, n):
    seed_ip, ip = "127.0.0.%d" % (20 + 2 * n), "127.0.0.%d" % (21 + 2 * n)
    if seed_kind == "ours":
        extra = () if utp else ("--utp", "0")
        wrapper = ("env", "BTL_UTP_FIRST=1") if utp else ()
        seed = H.Headless(ws, "seed-%d" % n, tor, seed_ip, save_in=data_dir, extra=extra,
                          data_dir=ws.mkdir("seed-%d.data" % n), wrapper=wrapper)
        seed.wait_state(("seeding",), 120)
    else:
        seed = H.LtPeer(ws, "seed-%d" % n, tor, data_dir, seed_ip, seed=True, utp_only=True)
        seed.wait_ready(30)
    # the tracker knows this seed before the leecher asks
    H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 30, "the seed's announce", interval=0.2,
                 procs=[seed.proc])
    rows = []
    for run in range(RUNS):
        out = ws.mkdir("out-%d-%d" % (n, run))
        t0 = time.monotonic()
        p = run_leecher(ws, leech_kind, tor, "leech-%d-%d" % (n, run), ip, out, utp)
        rc = p.wait(BD.RUN_TIMEOUT)
        wall = p.ended - t0
        H.check(rc == 0, "%s: leecher exited %s" % (label, rc))
        got = os.path.join(out, data_name)
        H.check(BD.sha1_file(got) == whole_sha, "%s: data differs" % label)
        cpu = p.rusage.ru_utime + p.rusage.ru_stime
        rows.append({"wall": wall, "cpu": cpu})
        H.log("%s run %d: %.2fs %.1f MB/s cpu %.2fs" % (label, run, wall, SIZE / wall / 1e6, cpu))
        os.remove(got)
        p.kill_group()
    seed.stop(20)
    return rows


def main():
    data_dir, data, piece_hashes, whole_sha = BD.prepare_data()
    data_name = os.path.basename(data)
    plan = [("ours <- ours  (uTP)", "ours", "ours", True),
            ("ours <- lt    (uTP)", "lt", "ours", True),
            ("lt   <- lt    (uTP)", "lt", "lt", True),
            ("ours <- ours  (TCP)", "ours", "ours", False)]
    results = []
    with H.Workspace("bench-utp", timeout=3600) as ws:
        tr = H.Tracker(ws)
        tor = ws.path("bench.torrent")
        ih = BD.make_torrent_fast(data, piece_hashes, tor, tr.announce)
        tr.start([ih])
        for n, (label, sk, lk, utp) in enumerate(plan):
            try:
                results.append((label, scenario(ws, tr, ih, label, tor, data_dir, data_name, whole_sha, sk, lk, utp, n)))
            except H.Fail as e:
                H.log("%s failed: %s" % (label, e))
                ws.dump_logs(15)
                results.append((label, None))
    print("\nuTP on loopback, %d MiB, %d run(s) each, load %s" % (SIZE // H.MiB, RUNS, os.getloadavg()))
    print("%-22s %8s %8s %8s %10s" % ("leecher <- seed", "wall s", "MB/s", "cpu s", "cpu s/GB"))
    for label, rows in results:
        if not rows:
            print("%-22s %8s" % (label, "failed"))
            continue
        wall = statistics.median(r["wall"] for r in rows)
        cpu = statistics.median(r["cpu"] for r in rows)
        print("%-22s %8.2f %8.1f %8.2f %10.2f" % (label, wall, SIZE / wall / 1e6, cpu, cpu / (SIZE / 1e9)))
    return 0 if all(r for _, r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
