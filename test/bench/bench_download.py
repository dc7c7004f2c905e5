#!/usr/bin/python3
"""Benchmark "single peer, 1 GiB, loopback".

Leechers, one at a time, each from the same libtorrent seeder (seed_mode,
127.0.0.2) through opentracker: our btdownloadheadless (if built),
libtorrent (python binding), aria2c.  Then seeders: our btdownloadheadless
vs the libtorrent seeder, each feeding a libtorrent leecher.  For each:
wall time, MB/s (10^6 bytes/s), CPU seconds (user+sys of the measured
process: leecher from wait4, seeder as /proc delta over the transfer), peak
RSS; median of BENCH_RUNS runs (default 3).  The leecher's data is deleted
between runs; the seed data (/tmp/btl-bench, reused between invocations) is
read once up front so every run starts from a warm page cache.

Env: BENCH_RUNS (3), BENCH_SIZE_MIB (1024), BTL_BIN (our binaries),
BENCH_DIR (/tmp/btl-bench).  Exit status non-zero only if a scenario could
not run; a missing btdownloadheadless prints n/a.
Run: /usr/bin/python3 test/bench/bench_download.py
"""

import hashlib
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import btl_harness as H  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SIZE = int(os.environ.get("BENCH_SIZE_MIB", "1024")) * H.MiB
PIECE = H.MiB
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/btl-bench")
RUN_TIMEOUT = 300


def versions():
    import libtorrent as lt
    v = {"libtorrent": lt.__version__.rsplit(".", 1)[0] if lt.__version__.count(".") > 2
         else lt.__version__}
    try:
        out = subprocess.run(["aria2c", "--version"], capture_output=True, text=True,
                             timeout=10).stdout.split("\n")[0]
        v["aria2c"] = out.split()[-1]
    except Exception:
        v["aria2c"] = "?"
    return v


def prepare_data():
    """/tmp/btl-bench/data/bench-<size>.bin and its piece hashes, made once."""
    name = "bench-%dm.bin" % (SIZE // H.MiB)
    data_dir = os.path.join(BENCH_DIR, "data")
    data = os.path.join(data_dir, name)
    hashes = os.path.join(BENCH_DIR, name + ".pieces")
    whole = os.path.join(BENCH_DIR, name + ".sha1")
    if not (os.path.exists(data) and os.path.getsize(data) == SIZE
            and os.path.exists(hashes) and os.path.exists(whole)):
        os.makedirs(data_dir, exist_ok=True)
        H.log("generating %s (%d MiB)" % (data, SIZE // H.MiB))
        H.write_random_file(data, SIZE, 1234)
        ph = []
        wh = hashlib.sha1()
        with open(data, "rb") as f:
            while True:
                b = f.read(PIECE)
                if not b:
                    break
                ph.append(hashlib.sha1(b).digest())
                wh.update(b)
        with open(hashes, "wb") as f:
            f.write(b"".join(ph))
        with open(whole, "w") as f:
            f.write(wh.hexdigest())
    # Warm the page cache so every run reads the seed data from memory.
    with open(data, "rb") as f:
        while f.read(16 * H.MiB):
            pass
    with open(hashes, "rb") as f:
        ph = f.read()
    with open(whole) as f:
        wsha = f.read().strip()
    return data_dir, data, [ph[i:i + 20] for i in range(0, len(ph), 20)], wsha


def make_torrent_fast(data, piece_hashes, out, announce):
    """The torrent from cached piece hashes (no 1 GiB re-hash per invocation)."""
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, data)
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    H.check(ct.num_pieces() == len(piece_hashes), "piece hash cache is stale")
    for i, h in enumerate(piece_hashes):
        ct.set_hash(i, h)
    ct.add_tracker(announce)
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return str(lt.torrent_info(out).info_hash())


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while True:
            b = f.read(8 * H.MiB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


class Bench:
    def __init__(self, ws, tor, ih, tracker, data_name, whole_sha):
        self.ws = ws
        self.tor = tor
        self.ih = ih
        self.tracker = tracker
        self.data_name = data_name
        self.whole_sha = whole_sha
        self.ip_next = 10

    def ip(self):
        self.ip_next += 1
        return "127.0.0.%d" % self.ip_next

    def one_run(self, kind, run, seeder_proc):
        """One leecher download; returns dict(wall, cpu, rss_kib, seed_cpu)."""
        os.sync()
        out = self.ws.mkdir("%s-run%d" % (kind, run))
        name = "%s-%d" % (kind, run)
        ip = self.ip()
        seed_cpu0 = seeder_proc.cpu_seconds()
        t0 = time.monotonic()
        if kind == "ours":
            p = H.Headless(self.ws, name, self.tor, ip, save_in=out, seed_time=0,
                           data_dir=self.ws.mkdir(name + ".data")).proc
        elif kind == "libtorrent":
            p = H.LtPeer(self.ws, name, self.tor, out, ip, exit_when_done=True).proc
        elif kind == "aria2c":
            p = H.Aria2(self.ws, name, self.tor, out, ip).proc
        rc = p.wait(RUN_TIMEOUT)
        wall = p.ended - t0
        seed_cpu = seeder_proc.cpu_seconds() - seed_cpu0
        H.check(rc == 0, "%s exited %s" % (name, rc))
        got = os.path.join(out, self.data_name)
        H.check(os.path.exists(got) and os.path.getsize(got) == SIZE,
                "%s: incomplete file %s" % (name, got))
        H.check(sha1_file(got) == self.whole_sha, "%s: data differs" % name)
        r = {"wall": wall, "cpu": p.rusage.ru_utime + p.rusage.ru_stime,
             "rss_kib": p.rusage.ru_maxrss, "seed_cpu": seed_cpu}
        H.log("%s run %d: %.2fs %.0f MB/s cpu %.2fs rss %.0f MiB, seeder cpu %.2fs"
              % (kind, run, wall, SIZE / wall / 1e6, r["cpu"], r["rss_kib"] / 1024,
                 seed_cpu))
        if kind == "libtorrent":
            H.log("  %s" % " | ".join(l for l in p.tail(5).splitlines()
                                      if l.startswith(("DONE", "EXIT"))))
        os.remove(got)
        p.kill_group()
        return r

    def series(self, kind, seeder_proc):
        return [self.one_run(kind, i, seeder_proc) for i in range(RUNS)]


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def fmt_row(label, rs, best_wall, best_cpu, cpu_key="cpu", rss_key="rss_kib"):
    if rs is None:
        return "%-28s %8s %8s %8s %9s %9s %9s" % (label, "n/a", "n/a", "n/a", "n/a",
                                                   "n/a", "n/a")
    wall, cpu = med(rs, "wall"), med(rs, cpu_key)
    rss = med(rs, rss_key) / 1024 if rss_key else float("nan")
    return "%-28s %8.2f %8.0f %8.2f %9.0f %8.2fx %8.2fx" % (
        label, wall, SIZE / wall / 1e6, cpu, rss, wall / best_wall, cpu / best_cpu)


def main():
    have_ours = os.access(H.headless_path(), os.X_OK)
    v = versions()
    data_dir, data, piece_hashes, whole_sha = prepare_data()
    data_name = os.path.basename(data)
    results = {}
    seed_results = {}
    failed = []
    with H.Workspace("bench-download", timeout=3600) as ws:
        tr = H.Tracker(ws)
        tor = ws.path("bench.torrent")
        ih = make_torrent_fast(data, piece_hashes, tor, tr.announce)
        tr.start([ih])
        b = Bench(ws, tor, ih, tr, data_name, whole_sha)

        # Leechers from a libtorrent seeder.
        seeder = H.LtPeer(ws, "lt-seed", tor, data_dir, "127.0.0.2", seed=True)
        seeder.wait_ready(30)
        for kind in ("ours", "libtorrent", "aria2c"):
            if kind == "ours" and not have_ours:
                results[kind] = None
                continue
            try:
                results[kind] = b.series(kind, seeder.proc)
            except H.Fail as e:
                H.log("scenario leecher=%s failed: %s" % (kind, e))
                ws.dump_logs(15)
                results[kind] = None
                failed.append("leecher " + kind)
        seed_rss_lt = seeder.proc.peak_rss_kib()
        H.check(seeder.stop(20) == 0, "libtorrent seeder did not exit 0")
        seed_results["libtorrent"] = results.get("libtorrent")
        if seed_results["libtorrent"]:
            for r in seed_results["libtorrent"]:
                r["seed_rss_kib"] = seed_rss_lt

        # Our seeder feeding a libtorrent leecher.
        seed_results["ours"] = None
        if have_ours:
            try:
                ours = H.Headless(ws, "btl-seed", tor, "127.0.0.3", save_in=data_dir,
                                  data_dir=ws.mkdir("btl-seed.data"))
                t0 = time.monotonic()
                ours.wait_state(("seeding",), 120)
                H.log("our seeder verified %d MiB in %.2fs"
                      % (SIZE // H.MiB, time.monotonic() - t0))
                H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 30,
                             "our seeder's announce", interval=0.2, procs=[ours.proc])
                rs = b.series("libtorrent", ours.proc)
                rss = ours.proc.peak_rss_kib()
                for r in rs:
                    r["seed_rss_kib"] = rss
                seed_results["ours"] = rs
                H.check(ours.stop(20) == 0, "our seeder did not exit 0 on SIGTERM")
            except H.Fail as e:
                H.log("scenario seeder=ours failed: %s" % e)
                ws.dump_logs(15)
                failed.append("seeder ours")

    anchors = [k for k in ("libtorrent", "aria2c") if results.get(k)]
    print()
    print("bench_download: %d MiB single file, %d KiB pieces, loopback, opentracker, "
          "median of %d run(s), %d cores" % (SIZE // H.MiB, PIECE // 1024, RUNS,
                                            os.cpu_count()))
    if anchors:
        bw = min(med(results[k], "wall") for k in anchors)
        bc = min(med(results[k], "cpu") for k in anchors)
        print("\nLeechers (from a libtorrent %s seeder; ratios vs the best anchor):"
              % v["libtorrent"])
        print("%-28s %8s %8s %8s %9s %9s %9s" % ("leecher", "wall s", "MB/s", "cpu s",
                                                 "RSS MiB", "wall/best", "cpu/best"))
        labels = {"ours": "btdownloadheadless",
                  "libtorrent": "libtorrent %s (python)" % v["libtorrent"],
                  "aria2c": "aria2c %s" % v["aria2c"]}
        for k in ("ours", "libtorrent", "aria2c"):
            print(fmt_row(labels[k], results.get(k), bw, bc))
    if seed_results.get("libtorrent"):
        ref = seed_results["libtorrent"]
        bw, bc = med(ref, "wall"), med(ref, "seed_cpu")
        print("\nSeeders (feeding a libtorrent leecher; seeder CPU during the transfer; "
              "ratios vs libtorrent):")
        print("%-28s %8s %8s %8s %9s %9s %9s" % ("seeder", "wall s", "MB/s", "cpu s",
                                                 "RSS MiB", "wall/best", "cpu/best"))
        print(fmt_row("btdownloadheadless", seed_results.get("ours"), bw, bc,
                      "seed_cpu", "seed_rss_kib"))
        print(fmt_row("libtorrent %s (seed_mode)" % v["libtorrent"], ref, bw, bc,
                      "seed_cpu", "seed_rss_kib"))
    if not have_ours:
        print("\n(btdownloadheadless not found in %s: n/a)" % H.btl_bin_dir())
    if failed:
        print("\nFAILED scenarios: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (H.Fail, TimeoutError, KeyboardInterrupt) as e:
        print("bench_download: could not run: %s" % e)
        sys.exit(1)
