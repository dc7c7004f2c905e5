#!/usr/bin/python3
"""Benchmark "many torrents in one watched directory".

BENCH_TORRENTS (default 1000) tiny single-file torrents (each a distinct
random file of BENCH_FILE_KIB KiB, one piece), announcing to our bttrack on
127.0.0.1, are dropped into a watched directory before btlaunchmany starts.
Two scenarios:

  seed      the data is present (save_in), so every torrent checks and seeds
  download  the data is absent, so every torrent announces and waits for peers

For each: the time from start until every torrent is a loaded row in
--status_json ("all shown"), peak RSS (VmHWM), idle CPU over BENCH_IDLE_S
(default 30) seconds once loaded and settled (utime+stime delta / wall),
and open file descriptors.  Targets: all shown <= 5 s, peak RSS < 200 MB,
idle CPU < 1 %.  rtorrent (if installed) runs the seed scenario on the same
directory headless for comparison; its "shown" is when its session
directory holds all N torrents.

Exit status non-zero only if our scenario could not run; a missed target is
reported in the table, not as a failure.
Run: /usr/bin/python3 test/bench/bench_launcher_scale.py
"""

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from btl_harness import bencode  # noqa: E402
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import btl_harness as H  # noqa: E402

N = int(os.environ.get("BENCH_TORRENTS", "1000"))
FILE_KIB = int(os.environ.get("BENCH_FILE_KIB", "4"))
IDLE_S = float(os.environ.get("BENCH_IDLE_S", "30"))
SCENARIOS = os.environ.get("BENCH_SCENARIOS", "seed,download").split(",")
LOAD_TIMEOUT = 120
TARGET_SHOWN_S = 5.0
TARGET_RSS_MB = 200.0
TARGET_IDLE_CPU = 1.0  # percent of one core
TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- torrents



def make_torrents(torrent_dir, data_dir, announce):
    """N single-file one-piece torrents; data written to data_dir if given."""
    os.makedirs(torrent_dir, exist_ok=True)
    if data_dir:
        os.makedirs(data_dir, exist_ok=True)
    rng = random.Random(4242)
    size = FILE_KIB * 1024
    piece = 16384
    while piece < size:
        piece *= 2
    hashes = []
    for i in range(N):
        name = "f%05d.bin" % i
        data = rng.randbytes(size)
        info = {"name": name, "length": size, "piece length": piece,
                "pieces": hashlib.sha1(data).digest()}
        meta = bencode({"announce": announce, "info": info})
        hashes.append(hashlib.sha1(bencode(info)).hexdigest())
        with open(os.path.join(torrent_dir, "t%05d.torrent" % i), "wb") as f:
            f.write(meta)
        if data_dir:
            with open(os.path.join(data_dir, name), "wb") as f:
                f.write(data)
    return hashes


# ---------------------------------------------------------------- /proc

def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def proc_hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def idle_cpu_pct(pid, seconds):
    c0, t0 = proc_cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = proc_cpu_s(pid), time.monotonic()
    return 100.0 * (c1 - c0) / (t1 - t0)


# ---------------------------------------------------------------- ours

def start_tracker(ws):
    port = H.free_port("127.0.0.1")
    bttrack = os.path.join(H.btl_bin_dir(), "bttrack")
    p = ws.start("bttrack", [bttrack, "--port", str(port), "--bind", "127.0.0.1",
                             "--dfile", ws.path("dstate"), "--max_connections", "100000"])
    H.wait_listening("127.0.0.1", port, 10, p)
    return "http://127.0.0.1:%d/announce" % port


def read_status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_ours(ws, scenario, announce):
    root = ws.mkdir(scenario)
    tdir = os.path.join(root, "watch")
    save = os.path.join(root, "data")
    os.makedirs(save, exist_ok=True)
    t_gen = time.monotonic()
    make_torrents(tdir, save if scenario == "seed" else None, announce)
    H.log("%s: %d torrents generated in %.2fs" % (scenario, N, time.monotonic() - t_gen))
    status = os.path.join(root, "status.json")
    port = H.free_port("127.0.0.1")
    argv = [os.path.join(H.btl_bin_dir(), "btlaunchmany"), tdir, "--display", "plain",
            "--status_json", status, "--data_dir", os.path.join(root, "state"),
            "--save_in", save, "--bind", "127.0.0.1",
            "--minport", str(port), "--maxport", str(port)]
    t0 = time.monotonic()
    p = ws.start("btlaunchmany-" + scenario, argv, env=dict(os.environ, HOME=root,
                                                           XDG_CONFIG_HOME=root))
    shown = None
    settled = None
    deadline = t0 + LOAD_TIMEOUT
    want_state = "seeding" if scenario == "seed" else None
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise H.Fail("btlaunchmany exited early (rc %s):\n%s" % (p.returncode, p.tail()))
        doc = read_status(status)
        if doc:
            rows = doc.get("torrents", [])
            loaded = [r for r in rows if r.get("loaded")]
            if shown is None and len(loaded) >= N:
                shown = time.monotonic() - t0
            if shown is not None:
                states = [r.get("state") for r in loaded]
                if want_state:
                    ok = all(s == want_state for s in states)
                else:
                    ok = all(s not in ("checking",) for s in states)
                if ok:
                    settled = time.monotonic() - t0
                    break
        time.sleep(0.05)
    if shown is None:
        raise H.Fail("%s: not all %d torrents shown within %ds" % (scenario, N, LOAD_TIMEOUT))
    if settled is None:
        H.log("%s: torrents did not all settle (%s) within %ds" % (scenario, want_state, LOAD_TIMEOUT))
    H.log("%s: all shown after %.2fs, settled after %s" % (
        scenario, shown, "%.2fs" % settled if settled else "never"))
    time.sleep(2)  # let the last announces and resume saves finish
    cpu = idle_cpu_pct(p.pid, IDLE_S)
    res = {"shown": shown, "settled": settled, "rss": proc_hwm_mb(p.pid),
           "cpu": cpu, "fds": proc_fds(p.pid)}
    t_stop = time.monotonic()
    p.signal()
    try:
        p.wait(60)
        res["stop"] = time.monotonic() - t_stop
        res["rc"] = p.returncode
    except H.Fail:
        res["stop"] = None
        res["rc"] = None
    H.log("%s: %s" % (scenario, res))
    return res


# ---------------------------------------------------------------- rtorrent

def run_rtorrent(ws, announce):
    """rtorrent headless on the seed scenario; a result dict or a reason."""
    exe = shutil.which("rtorrent")
    if not exe:
        return "not installed"
    root = ws.mkdir("rtorrent")
    tdir = os.path.join(root, "watch")
    save = os.path.join(root, "data")
    sess = os.path.join(root, "session")
    for d in (save, sess):
        os.makedirs(d, exist_ok=True)
    make_torrents(tdir, save, announce)
    port = H.free_port("127.0.0.1")
    rc = os.path.join(root, "rtorrent.rc")
    with open(rc, "w") as f:
        f.write("\n".join([
            "directory.default.set = %s" % save,
            "session.path.set = %s" % sess,
            "network.port_range.set = %d-%d" % (port, port),
            "network.port_random.set = no",
            "network.bind_address.set = 127.0.0.1",
            "network.local_address.set = 127.0.0.1",
            "dht.mode.set = disable",
            "protocol.pex.set = no",
            "trackers.use_udp.set = no",
            "system.daemon.set = true",
            "network.max_open_files.set = 256",
            "schedule2 = watch_directory,1,1,\"load.start=%s/*.torrent\"" % tdir,
            ""]))
    t0 = time.monotonic()
    p = ws.start("rtorrent", [exe, "-n", "-o", "import=" + rc], env=dict(os.environ, HOME=root, TERM="dumb"))
    shown = None
    deadline = t0 + LOAD_TIMEOUT
    while time.monotonic() < deadline:
        if p.poll() is not None:
            return "exited early (rc %s): %s" % (p.returncode, p.tail(3).replace("\n", " | "))
        n = sum(1 for x in os.listdir(sess) if x.endswith(".torrent"))
        if n >= N:
            shown = time.monotonic() - t0
            break
        time.sleep(0.05)
    if shown is None:
        p.kill_group()
        return "did not load all %d torrents within %ds" % (N, LOAD_TIMEOUT)
    time.sleep(2)
    cpu = idle_cpu_pct(p.pid, IDLE_S)
    res = {"shown": shown, "settled": None, "rss": proc_hwm_mb(p.pid), "cpu": cpu,
           "fds": proc_fds(p.pid), "stop": None, "rc": None}
    t_stop = time.monotonic()
    p.signal()
    try:
        p.wait(60)
        res["stop"] = time.monotonic() - t_stop
    except H.Fail:
        p.kill_group()
    H.log("rtorrent: %s" % res)
    return res


# ---------------------------------------------------------------- report

def fmt(v, f="%.2f"):
    return "n/a" if v is None else f % v


def table(results, rt):
    print()
    print("btlaunchmany with %d torrents (%d KiB each), idle window %.0fs" % (N, FILE_KIB, IDLE_S))
    hdr = "%-9s %-22s %10s %10s %5s %12s" % ("scenario", "metric", "ours", "target", "met", "rtorrent")
    print(hdr)
    print("-" * len(hdr))
    for sc, r in results.items():
        rtr = rt if (sc == "seed" and isinstance(rt, dict)) else None
        rows = [
            ("all shown (s)", r["shown"], "<= %.0f" % TARGET_SHOWN_S, r["shown"] <= TARGET_SHOWN_S, "shown"),
            ("settled (s)", r["settled"], "", None, "settled"),
            ("peak RSS (MB)", r["rss"], "< %.0f" % TARGET_RSS_MB, r["rss"] < TARGET_RSS_MB, "rss"),
            ("idle CPU (%)", r["cpu"], "< %.0f" % TARGET_IDLE_CPU, r["cpu"] < TARGET_IDLE_CPU, "cpu"),
            ("open fds", r["fds"], "", None, "fds"),
            ("shutdown (s)", r.get("stop"), "", None, "stop"),
        ]
        for name, v, target, met, key in rows:
            f = "%d" if key == "fds" else "%.2f"
            print("%-9s %-22s %10s %10s %5s %12s" % (
                sc, name, fmt(v, f), target, "" if met is None else ("yes" if met else "NO"),
                fmt(rtr.get(key), f) if rtr else ""))
    if not isinstance(rt, dict):
        print("rtorrent: n/a (%s)" % rt)
    missed = [sc for sc, r in results.items()
              if not (r["shown"] <= TARGET_SHOWN_S and r["rss"] < TARGET_RSS_MB and r["cpu"] < TARGET_IDLE_CPU)]
    print("targets: %s" % ("all met" if not missed else "missed in " + ", ".join(missed)))


def main():
    results = {}
    rt = "not run"
    with H.Workspace("bench-scale", timeout=900) as ws:
        announce = start_tracker(ws)
        for sc in SCENARIOS:
            results[sc] = run_ours(ws, sc, announce)
        if os.environ.get("BENCH_RTORRENT", "1") == "1":
            try:
                rt = run_rtorrent(ws, announce)
            except (OSError, H.Fail) as e:
                rt = "error: %s" % e
        else:
            rt = "skipped (BENCH_RTORRENT=0)"
    table(results, rt)


if __name__ == "__main__":
    try:
        main()
    except (H.Fail, TimeoutError, KeyboardInterrupt, OSError) as e:
        print("bench_launcher_scale: could not run: %s" % e, flush=True)
        sys.exit(1)
