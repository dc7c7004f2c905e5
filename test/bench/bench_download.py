#!/usr/bin/python3
"""Benchmark "single peer, loopback": every leecher against every seeder.

Seeders, one at a time, each seeding the same file through opentracker on
127.0.0.1:
  lt-default    libtorrent (python binding), seed_mode, default settings
  lt-tuned      the same with lt.high_performance_seed()
  aria2c        aria2c --bt-seed-unverified
  transmission  transmission-daemon 3.00 (verifies the data first)
  ours          btdownloadheadless (verifies the data first), default
                --encryption prefer: RC4 with every peer that offers it
  ours-allow    the same with --encryption allow (plain text when offered)
Against each seeder, leechers one at a time: our btdownloadheadless,
libtorrent (python binding), aria2c.  For each pair: wall time, MB/s
(10^6 bytes/s), CPU seconds (user+sys of the leecher, from wait4 on the
/usr/bin/time that runs it, which counts its reaped child), peak RSS of the
leecher, and the seeder's CPU over the transfer (/proc delta); median of
BENCH_RUNS runs (BENCH_TR_RUNS from transmission).  Ratios are to the best
anchor leecher (libtorrent or aria2c, whichever is lower) for the same
seeder; the issue-19 targets are wall <= 0.8x, CPU <= 0.6x, peak RSS < 64 MiB.

Memory on this VM: freed guest memory is reported to the host (virtio
balloon free page reporting, order 9), and touching it again faults on the
host.  Writing 256 MiB to a new file costs 0.05 s or 0.35 s of system time
depending on whether the page cache gets recycled or reported pages (a
pwrite micro-test, bimodal, whatever the order or chunk size); that is
~1.3 CPU-s per GiB of noise on every leecher.  So each leecher's file is
deleted just before the next leecher starts, and the leechers take turns
in rotated order within each round of runs.

The leecher's data is deleted between runs; the seed data (BENCH_DIR,
reused between invocations) is read once up front so every run starts from a
warm page cache.  The default size is 128 MiB so that the whole `make bench`
stays under 15 minutes on a 2-core machine (18 pairs x 3 runs; at 256 MiB
this script alone took 8.8 minutes at load average ~20); BENCH_SIZE=1G is
the full run of the issue.

Env: BENCH_RUNS (3), BENCH_TR_RUNS (1: runs from the transmission seeder,
which sends at 6-10 MB/s to every leecher), BENCH_SIZE (128M; K/M/G
suffixes; BENCH_SIZE_MIB is still read), BENCH_SEEDERS / BENCH_LEECHERS
(comma-separated subsets of the names above / ours,libtorrent,aria2c),
BENCH_OURS_EXTRA (options for every btdownloadheadless), BTL_BIN (our binaries), BENCH_DIR
(/tmp/btl-bench).  Exit status non-zero only if a scenario could not run;
a missing btdownloadheadless prints n/a.
Before the matrix, build/bench/download_floor measures the floor on this
machine (what any leecher must do per byte, in one thread: recv from
loopback TCP, pwrite, SHA-1; see test/bench/download_floor.cpp); its CPU
and MB/s for the same size are printed under the table, beside our
leecher's figures from our plain seeder (ours-allow) and the CPU target.

Run: /usr/bin/python3 test/bench/bench_download.py
"""

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_util as BU  # noqa: E402
from bench_util import H, parse_size, sha1_file  # noqa: E402


RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# transmission-daemon 3.00 uploads at 4-10 MB/s on this machine, whoever
# leeches (its own pacing): one run per leecher keeps make bench bounded.
TR_RUNS = int(os.environ.get("BENCH_TR_RUNS", "1"))
if os.environ.get("BENCH_SIZE"):
    SIZE = parse_size(os.environ["BENCH_SIZE"])
else:
    SIZE = int(os.environ.get("BENCH_SIZE_MIB", "128")) * H.MiB
PIECE = H.MiB
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/btl-bench")
RUN_TIMEOUT = 300
SEEDERS = ("lt-default", "lt-tuned", "aria2c", "transmission", "ours", "ours-allow")
LEECHERS = ("ours", "libtorrent", "aria2c")
ANCHORS = ("libtorrent", "aria2c")
TARGET_WALL, TARGET_CPU, TARGET_RSS_MIB = 0.8, 0.6, 64
# Extra options for every btdownloadheadless (seeder and leecher), e.g.
# "--encryption allow" to compare with the default's RC4 between our peers.
OURS_EXTRA = os.environ.get("BENCH_OURS_EXTRA", "").split()


def subset(env, allowed):
    want = [k for k in os.environ.get(env, "").split(",") if k]
    bad = [k for k in want if k not in allowed]
    if bad:
        raise H.Fail("%s: unknown %s (known: %s)" % (env, ",".join(bad), ",".join(allowed)))
    return tuple(k for k in allowed if not want or k in want)


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
    BU.ensure_data(data, SIZE, 1234)
    hashes, wsha = BU.cached_hashes(data, PIECE, os.path.join(BENCH_DIR, name))
    # Warm the page cache so every run reads the seed data from memory.
    BU.warm_page_cache(data)
    return data_dir, data, hashes, wsha


def make_torrent_fast(data, piece_hashes, out, announce):
    """The torrent from cached piece hashes (no 1 GiB re-hash per invocation)."""
    return BU.make_torrent_from_hashes(data, PIECE, piece_hashes, out, announce)


# ---------------------------------------------------------------- seeders

def tr_remote(rpc, *args):
    r = subprocess.run(["transmission-remote", "127.0.0.1:%d" % rpc] + list(args),
                       capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr


def start_transmission(ws, tor, data_dir):
    """transmission-daemon seeding tor from data_dir (peer port and RPC on
    127.0.0.1: its announces leave from there, so the tracker hands out
    127.0.0.1:port); returns its Proc once it has verified and seeds."""
    peer_port, rpc = H.free_port("127.0.0.1"), H.free_port("127.0.0.1")
    conf = ws.mkdir("tr-conf")
    settings = {
        "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
        "peer-port": peer_port, "peer-port-random-on-start": False,
        "rpc-enabled": True, "rpc-bind-address": "127.0.0.1", "rpc-port": rpc,
        "rpc-authentication-required": False, "rpc-whitelist-enabled": True,
        "rpc-whitelist": "127.0.0.1", "rpc-host-whitelist-enabled": False,
        "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
        "utp-enabled": False, "port-forwarding-enabled": False, "encryption": 0,
        "blocklist-enabled": False, "download-dir": data_dir,
        "incomplete-dir-enabled": False, "watch-dir-enabled": False,
        "start-added-torrents": True, "speed-limit-up-enabled": False,
        "speed-limit-down-enabled": False, "alt-speed-enabled": False,
        "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
        "message-level": 1,
    }
    with open(os.path.join(conf, "settings.json"), "w") as f:
        json.dump(settings, f)
    proc = ws.start("tr-seed", ["transmission-daemon", "-f", "-g", conf, "-w", data_dir,
                                "-P", str(peer_port), "-i", "127.0.0.1", "-p", str(rpc),
                                "-r", "127.0.0.1", "-T", "-O", "-Y", "-M", "--no-utp",
                                "-et"])
    H.wait_listening("127.0.0.1", rpc, 15, proc)
    out = tr_remote(rpc, "-a", tor)
    H.check("success" in out, "transmission-remote -a: %s" % out.strip())

    def seeding():
        lst = tr_remote(rpc, "-l")
        return "100%" in lst and ("Seeding" in lst or "Idle" in lst)
    H.wait_until(seeding, 120, "transmission to verify and seed", interval=0.5, procs=[proc])
    return proc


def start_aria2_seed(ws, tor, data_dir):
    ip = "127.0.0.4"
    argv = ["aria2c", "--seed-ratio=0.0", "--bt-seed-unverified=true",
            "--check-integrity=false", "--enable-dht=false", "--enable-dht6=false",
            "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--disable-ipv6=true", "--interface=%s" % ip,
            "--listen-port=%d" % H.free_port(ip), "--bt-tracker-connect-timeout=5",
            "--bt-tracker-timeout=10", "--bt-stop-timeout=120", "--follow-torrent=false",
            "--file-allocation=none", "--auto-save-interval=0",
            "--console-log-level=warn", "--summary-interval=0",
            "--show-console-readout=false", "--no-conf=true", "-d", data_dir, tor]
    return ws.start("aria2-seed", argv)


def start_seeder(ws, kind, tor, data_dir):
    """Starts the seeder `kind`; returns (proc, stop function)."""
    if kind in ("lt-default", "lt-tuned"):
        p = H.LtPeer(ws, kind, tor, data_dir, "127.0.0.2", seed=True,
                     high_performance=(kind == "lt-tuned"))
        p.wait_ready(30)
        return p.proc, lambda: p.stop(20)
    if kind == "aria2c":
        p = start_aria2_seed(ws, tor, data_dir)
        return p, lambda: p.kill_group(10)
    if kind == "transmission":
        p = start_transmission(ws, tor, data_dir)
        return p, lambda: p.kill_group(10)
    # ours-allow: --encryption allow, so a peer that offers both gets plain
    # text; under the default (prefer) our seeder picks RC4 for every peer
    # that offers it (our leecher and aria2c do; libtorrent dials plain).
    extra = OURS_EXTRA + (["--encryption", "allow"] if kind == "ours-allow" else [])
    ours = H.Headless(ws, kind, tor, "127.0.0.3", save_in=data_dir,
                      data_dir=ws.mkdir(kind + ".data"), extra=extra)
    t0 = time.monotonic()
    ours.wait_state(("seeding",), 120)
    H.log("our seeder verified %d MiB in %.2fs" % (SIZE // H.MiB, time.monotonic() - t0))
    return ours.proc, lambda: ours.stop(20)


# ---------------------------------------------------------------- leechers

class Bench:
    def __init__(self, ws, tor, ih, tracker, data_name, whole_sha):
        self.ws = ws
        self.tor = tor
        self.ih = ih
        self.tracker = tracker
        self.data_name = data_name
        self.whole_sha = whole_sha
        self.ip_next = 10
        self.previous = None  # the last leecher's file, removed before the next run

    def ip(self):
        self.ip_next += 1
        return "127.0.0.%d" % self.ip_next

    def one_run(self, seeder, kind, run, seeder_proc):
        """One leecher download; returns dict(wall, cpu, rss_kib, seed_cpu)."""
        os.sync()
        # The previous leecher's file goes just before this one starts: its
        # page cache is freed right then, so every run gets memory in the
        # same state (see "Memory on this VM" in the module doc).
        self.drop_previous()
        name = "%s-from-%s-%d" % (kind, seeder, run)
        out = self.ws.mkdir(name)
        ip = self.ip()
        seed_cpu0 = seeder_proc.cpu_seconds()
        # A child forked from this Python process inherits its peak RSS
        # (the kernel keeps the high-water mark across exec), so wait4's
        # ru_maxrss would report ours at least.  /usr/bin/time forks the
        # leecher from a small process and writes the leecher's own peak.
        rss_file = self.ws.path(name + ".maxrss")
        start = self.ws.start
        self.ws.start = lambda n, argv, **kw: start(
            n, ["/usr/bin/time", "-f", "%M", "-o", rss_file] + list(argv), **kw)
        t0 = time.monotonic()
        try:
            if kind == "ours":
                p = H.Headless(self.ws, name, self.tor, ip, save_in=out, seed_time=0,
                               data_dir=self.ws.mkdir(name + ".data"), extra=OURS_EXTRA).proc
            elif kind == "libtorrent":
                p = H.LtPeer(self.ws, name, self.tor, out, ip, exit_when_done=True).proc
            else:
                p = H.Aria2(self.ws, name, self.tor, out, ip).proc
        finally:
            self.ws.start = start
        rc = p.wait(RUN_TIMEOUT)
        wall = p.ended - t0
        seed_cpu = seeder_proc.cpu_seconds() - seed_cpu0
        H.check(rc == 0, "%s exited %s" % (name, rc))
        got = os.path.join(out, self.data_name)
        H.check(os.path.exists(got) and os.path.getsize(got) == SIZE,
                "%s: incomplete file %s" % (name, got))
        H.check(sha1_file(got) == self.whole_sha, "%s: data differs" % name)
        with open(rss_file) as f:
            rss_kib = int(f.read().split()[-1])
        r = {"wall": wall, "cpu": p.rusage.ru_utime + p.rusage.ru_stime,
             "rss_kib": rss_kib, "seed_cpu": seed_cpu}
        H.log("%s: %.2fs %.0f MB/s cpu %.2fs rss %.0f MiB, seeder cpu %.2fs"
              % (name, wall, SIZE / wall / 1e6, r["cpu"], r["rss_kib"] / 1024, seed_cpu))
        self.previous = got
        p.kill_group()
        return r

    def drop_previous(self):
        if self.previous and os.path.exists(self.previous):
            os.remove(self.previous)
        self.previous = None

    def rounds(self, seeder, kinds, seeder_proc, results, failed):
        """RUNS rounds; each round runs every leecher once, the order
        rotated by one per round, so no leecher always runs first after a
        seeder starts (or right after a given other leecher)."""
        n = TR_RUNS if seeder == "transmission" else RUNS
        for run in range(n):
            for k in kinds[run % len(kinds):] + kinds[:run % len(kinds)]:
                if k in failed:
                    continue
                try:
                    results.setdefault(k, []).append(self.one_run(seeder, k, run, seeder_proc))
                except H.Fail as e:
                    H.log("seeder %s, leecher %s failed: %s" % (seeder, k, e))
                    self.ws.dump_logs(15)
                    failed.add(k)
                    results.pop(k, None)
        self.drop_previous()


def med(rs, key):
    return statistics.median(r[key] for r in rs)


HDR = "%-13s %-20s %7s %6s %6s %7s %6s %6s %6s  %s"


def print_tables(results, v, seeders, leechers):
    labels = {"ours": "btdownloadheadless",
              "libtorrent": "libtorrent %s" % v["libtorrent"],
              "aria2c": "aria2c %s" % v["aria2c"]}
    print()
    print("bench_download: %d MiB single file, %d KiB pieces, loopback, opentracker, "
          "median of %d run(s) (%d from transmission), %d cores, load average %s"
          % (SIZE // H.MiB, PIECE // 1024, RUNS, TR_RUNS, os.cpu_count(),
             " ".join("%.2f" % x for x in os.getloadavg())))
    print("Ratios: to the best anchor leecher (libtorrent, aria2c) from the same seeder; "
          "targets for ours: wall <= %.1fx, cpu <= %.1fx, RSS < %d MiB"
          % (TARGET_WALL, TARGET_CPU, TARGET_RSS_MIB))
    print(HDR % ("seeder", "leecher", "wall s", "MB/s", "cpu s", "RSS MiB", "wall/b",
                 "cpu/b", "seed s", "targets"))
    summary = []
    for s in seeders:
        row = results.get(s, {})
        anchors = [k for k in ANCHORS if row.get(k)]
        bw = min((med(row[k], "wall") for k in anchors), default=None)
        bc = min((med(row[k], "cpu") for k in anchors), default=None)
        for k in leechers:
            rs = row.get(k)
            if not rs:
                print(HDR % (s, labels[k], "n/a", "", "", "", "", "", "", ""))
                continue
            wall, cpu = med(rs, "wall"), med(rs, "cpu")
            rss = med(rs, "rss_kib") / 1024
            rw = wall / bw if bw else float("nan")
            rc = cpu / bc if bc else float("nan")
            verdict = ""
            if k == "ours" and bw:
                miss = []
                if rw > TARGET_WALL:
                    miss.append("wall")
                if rc > TARGET_CPU:
                    miss.append("cpu")
                if rss >= TARGET_RSS_MIB:
                    miss.append("rss")
                verdict = "met" if not miss else "MISSED " + ",".join(miss)
                summary.append((s, verdict))
            print("%-13s %-20s %7.2f %6.0f %6.2f %7.0f %5.2fx %5.2fx %6.2f  %s"
                  % (s, labels[k], wall, SIZE / wall / 1e6, cpu, rss, rw, rc,
                     med(rs, "seed_cpu"), verdict))
    if summary:
        print("ours vs best anchor: %s" % "; ".join("%s %s" % x for x in summary))
    cpu_all = [r["cpu"] for s in seeders for r in (results.get(s, {}).get("ours") or [])]
    if cpu_all:
        print("ours, CPU per run (every seeder): min %.2f s, max %.2f s"
              % (min(cpu_all), max(cpu_all)))


def floor_path():
    return os.path.join(os.path.dirname(H.btl_bin_dir()), "bench", "download_floor")


def measure_floor(ws):
    """{stage: (cpu s for SIZE, MB/s)} from download_floor, or None."""
    exe = floor_path()
    if not os.access(exe, os.X_OK):
        return None
    mib = SIZE // H.MiB
    r = subprocess.run([exe, "--size", str(mib), "--runs", str(max(RUNS, 3)),
                        "--piece", str(PIECE // 1024), "--file", ws.path("floor.bin")],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise H.Fail("download_floor: %s" % (r.stderr.strip() or r.returncode))
    out = {}
    for line in r.stdout.splitlines():
        # "floor recv+pwrite+sha1  CPU 0.288 s per 256 MiB, 295 MB/s"
        f = line.split()
        if len(f) >= 9 and f[0] == "floor" and f[2] == "CPU":
            out[f[1]] = (float(f[3]) * SIZE / (256 * H.MiB), float(f[8]))
    H.log("floor: %s" % r.stdout.strip().replace("\n", "; "))
    return out


def print_floor(floor, results):
    if not floor:
        print("floor: n/a (%s not built)" % floor_path())
        return
    print("floor, one thread, %d MiB (recv from loopback TCP, pwrite, SHA-1 per piece; "
          "download_floor, median of %d):" % (SIZE // H.MiB, max(RUNS, 3)))
    for k in ("recv", "recv+pwrite", "recv+pwrite+sha1"):
        if k in floor:
            print("  %-17s cpu %.3f s  %5.0f MB/s" % (k, floor[k][0], floor[k][1]))
    full = floor.get("recv+pwrite+sha1")
    row = results.get("ours-allow", {})
    if full:
        for s in SEEDERS:
            rs = results.get(s, {})
            anchors = [med(rs[k], "cpu") for k in ANCHORS if rs.get(k)]
            if anchors and rs.get("ours"):
                print("  from %-12s ours cpu %.2f s = %.2fx floor; cpu target (%.1fx best anchor) %.3f s = %.2fx floor"
                      % (s, med(rs["ours"], "cpu"), med(rs["ours"], "cpu") / full[0], TARGET_CPU,
                         TARGET_CPU * min(anchors), TARGET_CPU * min(anchors) / full[0]))
    if full and row.get("ours"):
        w = med(row["ours"], "wall")
        print("  ours-allow -> ours: %.0f MB/s = %.2fx the floor's %.0f MB/s"
              % (SIZE / w / 1e6, SIZE / w / 1e6 / full[1], full[1]))


def main():
    have_ours = os.access(H.headless_path(), os.X_OK)
    seeders = subset("BENCH_SEEDERS", SEEDERS)
    leechers = subset("BENCH_LEECHERS", LEECHERS)
    v = versions()
    data_dir, data, piece_hashes, whole_sha = prepare_data()
    data_name = os.path.basename(data)
    results = {}
    failed = []
    with H.Workspace("bench-download", timeout=3600) as ws:
        floor = measure_floor(ws)
        tr = H.Tracker(ws)
        tor = ws.path("bench.torrent")
        ih = make_torrent_fast(data, piece_hashes, tor, tr.announce)
        tr.start([ih])
        b = Bench(ws, tor, ih, tr, data_name, whole_sha)
        for s in seeders:
            if s == "ours" and not have_ours:
                continue
            results[s] = {}
            # Seeds the tracker still lists (a `stopped` that did not arrive)
            # are not this one: wait for the count to rise.
            c0 = tr.scrape(ih).get("complete", 0)
            try:
                proc, stop = start_seeder(ws, s, tor, data_dir)
                H.wait_until(lambda: tr.scrape(ih).get("complete", 0) > c0, 60,
                             "seeder %s's announce" % s, interval=0.2, procs=[proc])
            except H.Fail as e:
                H.log("seeder %s could not start: %s" % (s, e))
                ws.dump_logs(15)
                failed.append("seeder " + s)
                continue
            kinds = [k for k in leechers if have_ours or k != "ours"]
            bad = set()
            b.rounds(s, kinds, proc, results[s], bad)
            failed += ["%s<-%s" % (k, s) for k in kinds if k in bad]
            try:
                stop()
            except H.Fail as e:
                H.log("seeder %s did not stop: %s" % (s, e))
    print_tables(results, v, seeders, leechers)
    print_floor(floor, results)
    if not have_ours:
        print("\n(btdownloadheadless not found in %s: n/a)" % H.btl_bin_dir())
    if failed:
        print("\nFAILED scenarios: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    BU.run_main("bench_download", main)
