#!/usr/bin/python3
"""Benchmark "swarm efficiency": one seed and N leechers started together.

Every peer has its own loopback address (seed 127.0.0.2, leechers .3 ...)
and every upload is capped at U = BENCH_SWARM_RATE_KB kB/s (our kB is 1000
bytes; libtorrent gets the same figure in bytes/s); the tracker is
opentracker on 127.0.0.1.  Leechers keep seeding after they finish (they
are part of the swarm's upload capacity) until the last one is done.

The lower bound on the time until every leecher has the file (Kumar & Ross
2006) with seed upload u_s and leecher uploads u_i:
    T_min = max(F / u_s, N * F / (u_s + sum u_i))
Reported per configuration: when the last leecher finished (from the start
of the leecher processes), its ratio to T_min, copies of the file the seed
uploaded (its payload upload / F) and the leechers' mean payload upload.
Targets: ours <= 1.25 x T_min with the seed <= 1.5 copies; with
--super_seeder on the seed <= 1.1 copies.

Configurations: our seed + our leechers with PEX and the DHT off (every
peer comes from the tracker); the same with PEX and the DHT on (the seed's
DHT node is the only bootstrap node: --dht_bootstrap names its UDP port on
127.0.0.2, so nothing leaves loopback; LSD stays off, it would multicast);
the same with --super_seeder; our seed + libtorrent leechers; a libtorrent
seed + libtorrent leechers (the reference).  By default every one but the
first (`make bench` within its 15 minutes: each adds about 20 s; PEX and
the DHT are on by default in our programs, so that is the one measured);
BENCH_SWARM_ONLY=all runs all five.  Median over BENCH_SWARM_RUNS runs
(default 1: one run of each takes about 25 s).  Every run's line also gives
each leecher's finish time and the load average.

Env: BENCH_SWARM_RUNS (1), BENCH_SWARM_N (8), BENCH_SWARM_SIZE_MIB (64),
BENCH_SWARM_RATE_KB (4000), BENCH_SWARM_PIECE_KIB (256), BENCH_SWARM_ONLY
(comma-separated configuration keys: ours, ours-pd, super, ours-lt, lt;
or all; default ours-pd,super,ours-lt,lt),
BENCH_SWARM_LOGS (a directory to copy every process log to), BTL_BIN.
Exit status non-zero only if a scenario could not run.
Run: /usr/bin/python3 test/bench/bench_swarm.py
"""

import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_util as BU  # noqa: E402
from bench_util import H  # noqa: E402

RUNS = int(os.environ.get("BENCH_SWARM_RUNS", "1"))
N = int(os.environ.get("BENCH_SWARM_N", "8"))
SIZE = int(os.environ.get("BENCH_SWARM_SIZE_MIB", "64")) * H.MiB
# 4,000 kB/s: T_min 16.8 s for 64 MiB (at 2,000 the four configurations took
# over 3 minutes of `make bench`); the piece count and the bound's shape stay.
RATE_KB = int(os.environ.get("BENCH_SWARM_RATE_KB", "4000"))
U = RATE_KB * 1000          # bytes/s: --max_upload_rate counts kB as 1000 bytes
PIECE = int(os.environ.get("BENCH_SWARM_PIECE_KIB", "256")) * 1024
T_MIN = max(SIZE / U, N * SIZE / (U + N * U))
RUN_LIMIT = max(120.0, 6 * T_MIN)   # a run that takes longer has failed

CONFIGS = [
    ("ours", "our seed, our leechers"),
    ("ours-pd", "ours, PEX and DHT on"),
    ("super", "our super-seed, our leechers"),
    ("ours-lt", "our seed, libtorrent leechers"),
    ("lt", "libtorrent seed+leechers"),
]


DEFAULT_ONLY = "ours-pd,super,ours-lt,lt"


def one_run(key, run, data, data_dir):
    name = "bench-swarm-%s-%d" % (key, run)
    with H.Workspace(name, timeout=int(RUN_LIMIT) + 120) as ws:
        tr = H.Tracker(ws)
        tor = ws.path("swarm.torrent")
        ih, size, _ = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])
        seed_ours = key in ("ours", "ours-pd", "super", "ours-lt")
        leech_ours = key in ("ours", "ours-pd", "super")
        pd = key == "ours-pd"
        # PEX is on by default: every configuration but ours-pd says which.
        reach = ["--pex", "1" if pd else "0"]
        if seed_ours:
            extra = ["--max_upload_rate", str(RATE_KB)] + reach
            if key == "super":
                extra.append("--super_seeder")
            if pd:  # the seed's node is the DHT: it knows no other
                extra.append("--dht_bootstrap=")
            seed = H.Headless(ws, "seed", tor, ws.next_ip(), save_in=data_dir, extra=extra,
                              display_interval=0.2, dht=pd)
            seed.wait_state(("seeding",), 60)
        else:
            seed = H.LtPeer(ws, "seed", tor, data_dir, ws.next_ip(), seed=True,
                            upload_limit=U)
            seed.wait_ready(30)
        BU.wait_announced(tr, ih, 1, 20, "the seed's announce to reach the tracker",
                         procs=[seed.proc])
        t0 = time.monotonic()
        leechers = []
        for i in range(N):
            out = ws.mkdir("leech%d" % i)
            if leech_ours:
                extra = ["--max_upload_rate", str(RATE_KB)] + reach
                if pd:
                    extra += ["--dht_bootstrap", "%s:%d" % (seed.ip, seed.port)]
                p = H.Headless(ws, "leech%d" % i, tor, ws.next_ip(), save_in=out,
                               extra=extra, display_interval=0.2, dht=pd)
            else:
                p = H.LtPeer(ws, "leech%d" % i, tor, out, ws.next_ip(), upload_limit=U)
            leechers.append((p, out))
        done = {}
        while len(done) < N:
            now = time.monotonic() - t0
            for p, _ in leechers:
                if p.name in done:
                    continue
                st = p.status()
                finished = st.get("seeding") if not leech_ours else st.get("state") == "seeding"
                if finished:
                    done[p.name] = now
                H.check(p.proc.poll() is None, "%s exited (rc %s)" % (p.name, p.proc.returncode))
            H.check(now < RUN_LIMIT, "%s: leechers not done after %.0fs: %s" % (
                key, RUN_LIMIT, {p.name: round(p.status().get("progress", 0), 3)
                                 for p, _ in leechers if p.name not in done}))
            time.sleep(0.1)
        last = max(done.values())
        seed_up = seed.status().get("uploaded", 0)
        leech_up = [p.status().get("uploaded", 0) for p, _ in leechers]
        for p, out in leechers:
            H.assert_same_data(data, os.path.join(out, os.path.basename(data)), p.name)
        keep = os.environ.get("BENCH_SWARM_LOGS")
        if keep:  # copies every process log there (the workspace is deleted)
            os.makedirs(keep, exist_ok=True)
            for p in ws.procs:
                shutil.copy(p.logpath, os.path.join(keep, "%s-%d-%s.log" % (key, run, p.name)))
        r = {"last": last, "first": min(done.values()), "seed_copies": seed_up / size,
             "leech_up": statistics.mean(leech_up) / size, "load": os.getloadavg()[0]}
        H.log("%s run %d: first %.1fs last %.1fs (T_min %.1fs, %.2fx), seed %.2f copies, "
              "leechers uploaded %.2f copies on average; finished at %s s; load %.1f"
              % (key, run, r["first"], last, T_MIN, last / T_MIN, r["seed_copies"],
                 r["leech_up"], " ".join("%.1f" % t for t in sorted(done.values())), r["load"]))
        return r


def main():
    only = [k for k in os.environ.get("BENCH_SWARM_ONLY", DEFAULT_ONLY).split(",") if k]
    if only == ["all"]:
        only = []
    bad = [k for k in only if k not in dict(CONFIGS)]
    H.check(not bad, "BENCH_SWARM_ONLY: unknown %s (known: %s, all)"
            % (",".join(bad), ",".join(k for k, _ in CONFIGS)))
    have_ours = os.access(H.headless_path(), os.X_OK)
    base = "/tmp/btl-bench-swarm"
    data_dir = os.path.join(base, "data")
    data = os.path.join(data_dir, "swarm-%dm.bin" % (SIZE // H.MiB))
    if not (os.path.exists(data) and os.path.getsize(data) == SIZE):
        H.log("generating %s" % data)
        H.write_random_file(data, SIZE, 4242)
    results, failed = {}, []
    for key, _ in CONFIGS:
        if only and key not in only:
            continue
        if key != "lt" and not have_ours:
            results[key] = None
            continue
        try:
            results[key] = [one_run(key, i, data, data_dir) for i in range(RUNS)]
        except (H.Fail, TimeoutError) as e:
            H.log("scenario %s failed: %s" % (key, e))
            results[key] = None
            failed.append(key)

    print()
    print("bench_swarm: 1 seed + %d leechers, %d MiB file, %d KiB pieces, every upload "
          "%d kB/s (%.2f MB/s), opentracker, loopback, median of %d run(s), %d cores, "
          "load average %s"
          % (N, SIZE // H.MiB, PIECE // 1024, RATE_KB, U / 1e6, RUNS, os.cpu_count(),
             " ".join("%.2f" % x for x in os.getloadavg())))
    print("T_min = max(F/u_seed, N*F/(u_seed + sum u_leech)) = max(%.1f, %.1f) = %.1f s"
          % (SIZE / U, N * SIZE / (U + N * U), T_MIN))
    print("%-32s %9s %9s %9s %11s %12s" % ("configuration", "first s", "last s", "last/Tmin",
                                            "seed copies", "leech upload"))
    for key, label in CONFIGS:
        if only and key not in only:
            continue
        rs = results.get(key)
        if not rs:
            print("%-32s %9s %9s %9s %11s %12s" % (label, "n/a", "n/a", "n/a", "n/a", "n/a"))
            continue
        m = lambda k: BU.median(rs, k)  # noqa: E731
        print("%-32s %9.1f %9.1f %8.2fx %11.2f %11.2fF" % (
            label, m("first"), m("last"), m("last") / T_MIN, m("seed_copies"), m("leech_up")))
    print("(targets: ours last <= 1.25x T_min, seed <= 1.5 copies; super-seed <= 1.1 copies;"
          " leech upload in copies of the file)")
    if failed:
        print("\nFAILED scenarios: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    BU.run_main("bench_swarm", main)
