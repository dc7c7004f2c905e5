#!/usr/bin/python3
"""Benchmark "many seeders": one leecher, 20 rate-capped seeders.

Seeders, all seeding the same file through opentracker on 127.0.0.1, each
on its own loopback address (127.0.0.2 ... 127.0.0.21):
  10 libtorrent sessions (seed_mode) held by ONE python process (the
     sessions run on libtorrent's own threads; one interpreter for all ten
     saves a core's worth of polling), each capped at RATE bytes/s with
     every address in libtorrent's global peer class (so the cap holds on
     loopback);
  10 btdownloadheadless seeders, each `--max_upload_rate RATE_KB`.
With the default 10,000 kB/s each, the swarm offers about 200 MB/s.

Leechers, one at a time, taking turns (the order rotated each round): our
btdownloadheadless and libtorrent's (python binding, default settings, the
same one bench_download.py uses).  For each: wall time (start to exit),
MB/s (10^6 bytes/s), CPU seconds (user+sys from wait4 on the /usr/bin/time
that runs it), peak RSS (/usr/bin/time -f %M: the leecher's own, not the
forking python's) and the seeders' CPU over the download (/proc deltas of
every seeder process) and the share of the payload our ten seeders sent
(their status files' `uploaded`, before and after); median of RUNS runs; ratios ours / libtorrent.
The downloaded file is compared with the seed data (SHA-1), then deleted
before the next leecher starts.

Encryption: our seeders run `--encryption allow` by default, so a leecher
that offers both gets plain text from every seeder (libtorrent's leecher
dials in plain text anyway): both leechers get the same bytes the same way.
With BENCH_MANY_OURS_SEED_EXTRA="" our seeders use the default (prefer):
then our leecher, which offers RC4, gets RC4 from those ten and pays for it.

Env: BENCH_MANY_SIZE (256M; K/M/G suffixes; 1G is the issue's figure),
BENCH_MANY_RUNS (3), BENCH_MANY_LT (10 libtorrent seeders), BENCH_MANY_OURS
(10 of ours), BENCH_MANY_RATE_KB (10000 per seeder; kB = 1000 bytes),
BENCH_MANY_PIECE_KIB (1024), BENCH_MANY_LEECHERS (ours,libtorrent),
BENCH_MANY_OURS_EXTRA (options for our leecher), BENCH_MANY_OURS_SEED_EXTRA
("--encryption allow": options for our seeders), BENCH_MANY_WRAPPER (a
command prefix for our leecher only, e.g. "perf record -g -o /tmp/p.data --",
to profile it in this swarm), BENCH_DIR (/tmp/btl-bench), BTL_BIN.
Exit status non-zero only if a scenario could not run.
Run: /usr/bin/python3 test/bench/bench_many_seeders.py
"""

import os
import shlex
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_util as BU  # noqa: E402
from bench_util import H  # noqa: E402

SIZE = BU.parse_size(os.environ.get("BENCH_MANY_SIZE", "256M"))
RUNS = int(os.environ.get("BENCH_MANY_RUNS", "3"))
N_LT = int(os.environ.get("BENCH_MANY_LT", "10"))
N_OURS = int(os.environ.get("BENCH_MANY_OURS", "10"))
RATE_KB = int(os.environ.get("BENCH_MANY_RATE_KB", "10000"))
RATE = RATE_KB * 1000
PIECE = int(os.environ.get("BENCH_MANY_PIECE_KIB", "1024")) * 1024
LEECHERS = [k for k in os.environ.get("BENCH_MANY_LEECHERS", "ours,libtorrent").split(",") if k]
OURS_EXTRA = shlex.split(os.environ.get("BENCH_MANY_OURS_EXTRA", ""))
SEED_EXTRA = shlex.split(os.environ.get("BENCH_MANY_OURS_SEED_EXTRA", "--encryption allow"))
WRAPPER = shlex.split(os.environ.get("BENCH_MANY_WRAPPER", ""))
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/btl-bench")
RUN_TIMEOUT = 300
FIRST_SEED_IP = 2     # 127.0.0.2 ...
FIRST_LEECH_IP = 60   # leechers 127.0.0.61 ..., a fresh address every run


# ---------------------------------------------------------------- data

def prepare_data():
    """The seed file (made once under BENCH_DIR), its piece hashes and the
    SHA-1 of the whole file; the file is read once to warm the page cache."""
    name = "bench-many-%dm.bin" % (SIZE // H.MiB)
    data_dir = os.path.join(BENCH_DIR, "many-data")
    data = os.path.join(data_dir, name)
    BU.ensure_data(data, SIZE, 2019)
    hashes, whole = BU.cached_hashes(data, PIECE, os.path.join(BENCH_DIR, "%s.%dk" % (name, PIECE // 1024)))
    BU.warm_page_cache(data)
    return data_dir, data, hashes, whole


def make_torrent(data, hashes, out, announce):
    return BU.make_torrent_from_hashes(data, PIECE, hashes, out, announce)


# ---------------------------------------------------------------- libtorrent seeders

def lt_seeds_main(argv):
    """`bench_many_seeders.py lt-seeds TORRENT SAVE STATUS RATE IP:PORT...`:
    one libtorrent session per address, all seeding TORRENT from SAVE
    (seed_mode), each upload capped at RATE bytes/s.  STATUS gets a JSON
    list (one entry per session: announces, uploaded, peers) twice a
    second; SIGTERM stops every session (they announce `stopped`)."""
    import libtorrent as lt
    torrent, save, status, rate = argv[0], argv[1], argv[2], int(argv[3])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ti = lt.torrent_info(torrent)
    seeds = []
    for ep in argv[4:]:
        ip, port = ep.rsplit(":", 1)
        ses = lt.session(H.lt_settings(lt, ip, int(port), upload_limit=rate))
        H.lt_limit_loopback(lt, ses)
        atp = lt.add_torrent_params()
        atp.ti = ti
        atp.save_path = save
        atp.flags |= lt.torrent_flags.seed_mode
        seeds.append({"ses": ses, "h": ses.add_torrent(atp), "announces": 0, "ip": ip})
    while not stop:
        for s in seeds:
            for al in s["ses"].pop_alerts():
                if isinstance(al, lt.tracker_reply_alert):
                    s["announces"] += 1
                elif isinstance(al, (lt.tracker_error_alert, lt.torrent_error_alert,
                                     lt.file_error_alert)):
                    print("%s alert: %s" % (s["ip"], al.message()), flush=True)
        out = []
        for s in seeds:
            st = s["h"].status()
            out.append({"ip": s["ip"], "announces": s["announces"],
                        "uploaded": st.total_payload_upload, "peers": st.num_peers,
                        "seeding": bool(st.is_seeding)})
        H.write_json_atomic(status, out)
        time.sleep(0.5)
    for s in seeds:
        s["ses"].pause()
    while seeds:  # deleting a session announces `stopped` (stop_tracker_timeout)
        s = seeds.pop()
        del s["h"]
        del s["ses"]
    return 0


class LtSeeds:
    def __init__(self, ws, tor, data_dir, ips):
        self.status_path = ws.path("lt-seeds.status.json")
        eps = ["%s:%d" % (ip, H.free_port(ip)) for ip in ips]
        self.proc = ws.start("lt-seeds", [H.PY, os.path.abspath(__file__), "lt-seeds", tor,
                                          data_dir, self.status_path, str(RATE)] + eps)
        self.n = len(ips)

    def status(self):
        return H.read_json(self.status_path) or []

    def wait_ready(self, timeout):
        H.wait_until(lambda: len(self.status()) == self.n and
                     all(s["announces"] >= 1 for s in self.status()), timeout,
                     "%d libtorrent seeders to announce" % self.n, interval=0.2,
                     procs=[self.proc])

    def stop(self):
        self.proc.signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        finally:
            self.proc.kill_group()


# ---------------------------------------------------------------- one download

def one_run(ws, kind, run, tor, data_name, whole, seed_procs, uploaded):
    os.sync()
    name = "%s-%d" % (kind, run)
    out = ws.mkdir(name)
    ip = "127.0.0.%d" % (FIRST_LEECH_IP + 1 + run * len(LEECHERS) + LEECHERS.index(kind))
    rss_file = ws.path(name + ".maxrss")
    seed_cpu0 = sum(p.cpu_seconds() or 0 for p in seed_procs)
    up0 = uploaded()
    start = ws.start
    # /usr/bin/time forks the leecher from a small process, so %M is the
    # leecher's own peak (a child of this python would inherit its VmHWM).
    ws.start = lambda n, argv, **kw: start(
        n, ["/usr/bin/time", "-f", "%M", "-o", rss_file] + list(argv), **kw)
    t0 = time.monotonic()
    try:
        if kind == "ours":
            p = H.Headless(ws, name, tor, ip, save_in=out, seed_time=0, wrapper=WRAPPER,
                           extra=OURS_EXTRA).proc
        else:
            p = H.LtPeer(ws, name, tor, out, ip, exit_when_done=True).proc
    finally:
        ws.start = start
    rc = p.wait(RUN_TIMEOUT)
    wall = p.ended - t0
    seed_cpu = sum(p.cpu_seconds() or 0 for p in seed_procs) - seed_cpu0
    time.sleep(0.6)  # the seeders' status files catch up (written every 0.5 s)
    up1 = uploaded()
    from_ours = up1[0] - up0[0]
    from_lt = up1[1] - up0[1]
    H.check(rc == 0, "%s exited %s: %s" % (name, rc, p.tail(10)))
    got = os.path.join(out, data_name)
    H.check(os.path.exists(got) and os.path.getsize(got) == SIZE, "%s: incomplete file" % name)
    H.check(BU.sha1_file(got) == whole, "%s: data differs" % name)
    with open(rss_file) as f:
        rss_kib = int(f.read().split()[-1])
    os.remove(got)
    p.kill_group()
    r = {"wall": wall, "cpu": p.rusage.ru_utime + p.rusage.ru_stime, "rss_kib": rss_kib,
         "seed_cpu": seed_cpu, "load": os.getloadavg()[0],
         "from_ours": 100.0 * from_ours / max(1, from_ours + from_lt)}
    H.log("%s: %.2fs %.0f MB/s cpu %.2fs rss %.0f MiB, seeders' cpu %.2fs, %.0f%% from our seeders, "
          "load %.1f" % (name, wall, SIZE / wall / 1e6, r["cpu"], rss_kib / 1024, seed_cpu,
                         r["from_ours"], r["load"]))
    return r


def start_seeders(ws, tor, data_dir):
    """Our seeders (they verify the data first) and the libtorrent process;
    returns (their procs, stop function)."""
    ours = []
    ip = FIRST_SEED_IP
    for i in range(N_OURS):
        ours.append(H.Headless(ws, "seed-ours-%d" % i, tor, "127.0.0.%d" % ip, save_in=data_dir,
                               extra=["--max_upload_rate", str(RATE_KB)] + SEED_EXTRA,
                               display_interval=0.5))
        ip += 1
    lts = LtSeeds(ws, tor, data_dir, ["127.0.0.%d" % (ip + i) for i in range(N_LT)]) if N_LT else None
    for s in ours:
        s.wait_state(("seeding",), 120)
    if lts:
        lts.wait_ready(60)
    procs = [s.proc for s in ours] + ([lts.proc] if lts else [])

    def uploaded():
        """Payload bytes uploaded so far: (our seeders, libtorrent's)."""
        return (sum(s.status().get("uploaded", 0) for s in ours),
                sum(x.get("uploaded", 0) for x in lts.status()) if lts else 0)

    def stop():
        for s in ours:
            s.proc.signal(signal.SIGTERM)
        if lts:
            lts.stop()
        for s in ours:
            s.proc.kill_group(15)
    return procs, stop, uploaded


def main():
    if "ours" in LEECHERS or N_OURS:
        H.require_headless()
    bad = [k for k in LEECHERS if k not in ("ours", "libtorrent")]
    H.check(not bad, "BENCH_MANY_LEECHERS: unknown %s" % bad)
    t_start = time.monotonic()
    data_dir, data, hashes, whole = prepare_data()
    results = {k: [] for k in LEECHERS}
    failed = []
    with H.Workspace("bench-many", timeout=1800 + RUNS * 2 * RUN_TIMEOUT) as ws:
        tr = H.Tracker(ws)
        tor = ws.path("many.torrent")
        ih = make_torrent(data, hashes, tor, tr.announce)
        tr.start([ih])
        t_seed = time.monotonic()
        procs, stop, uploaded = start_seeders(ws, tor, data_dir)
        BU.wait_announced(tr, ih, N_OURS + N_LT, 30, "every seeder's announce")
        H.log("%d seeders up in %.1fs" % (N_OURS + N_LT, time.monotonic() - t_seed))
        try:
            for run in range(RUNS):
                order = LEECHERS[run % len(LEECHERS):] + LEECHERS[:run % len(LEECHERS)]
                for k in order:
                    if k in failed:
                        continue
                    try:
                        results[k].append(one_run(ws, k, run, tor, os.path.basename(data),
                                                  whole, procs, uploaded))
                    except H.Fail as e:
                        H.log("leecher %s failed: %s" % (k, e))
                        ws.dump_logs(10)
                        failed.append(k)
        finally:
            stop()
    print_table(results, time.monotonic() - t_start)
    if failed:
        print("\nFAILED scenarios: %s" % ", ".join(failed))
        return 1
    return 0


def print_table(results, took):
    import libtorrent as lt
    labels = {"ours": "btdownloadheadless", "libtorrent": "libtorrent %s" % lt.__version__}
    print()
    print("bench_many_seeders: %d MiB, %d KiB pieces, %d seeders (%d libtorrent + %d ours, "
          "each capped at %d kB/s: %.0f MB/s offered), loopback, opentracker, median of %d "
          "run(s), %d cores, load average %s"
          % (SIZE // H.MiB, PIECE // 1024, N_LT + N_OURS, N_LT, N_OURS, RATE_KB,
             (N_LT + N_OURS) * RATE / 1e6, RUNS, os.cpu_count(),
             " ".join("%.2f" % x for x in os.getloadavg())))
    if SEED_EXTRA:
        print("our seeders: %s" % " ".join(SEED_EXTRA))
    print("%-20s %7s %6s %6s %8s %9s %9s %12s" % ("leecher", "wall s", "MB/s", "cpu s", "RSS MiB",
                                                  "seeders s", "from ours", "load at run"))
    for k in LEECHERS:
        rs = results.get(k)
        if not rs:
            print("%-20s %7s" % (labels[k], "n/a"))
            continue
        print("%-20s %7.2f %6.0f %6.2f %8.1f %9.2f %8.0f%% %12.1f" % (
            labels[k], BU.median(rs, "wall"), SIZE / BU.median(rs, "wall") / 1e6, BU.median(rs, "cpu"),
            BU.median(rs, "rss_kib") / 1024, BU.median(rs, "seed_cpu"), BU.median(rs, "from_ours"),
            BU.median(rs, "load")))
    o, b = results.get("ours"), results.get("libtorrent")
    if o and b:
        print("ours / libtorrent: wall %.2fx, cpu %.2fx, peak RSS %.2fx"
              % (BU.median(o, "wall") / BU.median(b, "wall"), BU.median(o, "cpu") / BU.median(b, "cpu"),
                 BU.median(o, "rss_kib") / BU.median(b, "rss_kib")))
    print("(the script took %.0f s)" % took)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "lt-seeds":
        sys.exit(lt_seeds_main(sys.argv[2:]))
    BU.run_main("bench_many_seeders", main)
