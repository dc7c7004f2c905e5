#!/usr/bin/python3
"""Benchmark "magnet link to data, loopback".

One libtorrent seed (seed_mode, 127.0.0.2) announced to opentracker; each
leecher, one at a time, gets only a magnet link (xt + tr) and must fetch the
metadata from the seed, then the data: our btdownloadheadless, libtorrent
(python binding) and aria2c.  For each: seconds from start to the first
data byte (ours: the status JSON's payload counter, rewritten every 100 ms;
libtorrent: its payload counter polled every 10 ms; aria2c: bytes in its
files), and to completion (exit for ours and
aria2c, seeding for libtorrent); median of BENCH_RUNS runs (default 3).
Not part of make check (make bench runs it).

Env: BENCH_RUNS (3), BENCH_SIZE_MIB (64), BTL_BIN.
Run: /usr/bin/python3 test/bench/bench_magnet.py
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import btl_harness as H  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SIZE = int(os.environ.get("BENCH_SIZE_MIB", "64")) * H.MiB
PIECE = 256 * H.KiB
TIMEOUT = 120

LT_LEECH = r'''
import sys, time, libtorrent as lt
sys.path.insert(0, sys.argv[4])
import btl_harness as H
magnet, save, ip = sys.argv[1], sys.argv[2], sys.argv[3]
port = H.free_port(ip)
ses = lt.session(H.lt_settings(lt, ip, port))
atp = lt.parse_magnet_uri(magnet)
atp.save_path = save
h = ses.add_torrent(atp)
t0 = time.monotonic()
first = None
while time.monotonic() - t0 < 120:
    s = h.status()
    if first is None and s.total_payload_download > 0:
        first = time.monotonic() - t0
        print("FIRST %.3f" % first, flush=True)
    if s.is_seeding:
        print("DONE %.3f" % (time.monotonic() - t0), flush=True)
        break
    time.sleep(0.01)
'''


def file_bytes(d):
    n = 0
    for root, _, files in os.walk(d):
        for f in files:
            if not f.endswith(".aria2"):
                n += os.path.getsize(os.path.join(root, f))
    return n


def watch(proc, first_fn, done_fn, t0):
    """Polls until done; returns (first byte s, done s)."""
    first = None
    while time.monotonic() - t0 < TIMEOUT:
        if first is None and first_fn():
            first = time.monotonic() - t0
        if done_fn():
            return first, time.monotonic() - t0
        time.sleep(0.01)
    raise H.Fail("timed out")


def run_ours(ws, magnet, ip, run):
    out = ws.mkdir("ours-%d" % run)
    t0 = time.monotonic()
    me = H.Headless(ws, "ours-%d" % run, magnet, ip, save_in=out, seed_time=0, display_interval=0.1)
    # The payload counter of the status JSON (rewritten every 100 ms): the
    # files are created at full size before any byte arrives.
    first, done = watch(me.proc, lambda: me.status().get("downloaded", 0) > 0,
                        lambda: me.proc.poll() is not None, t0)
    H.check(me.proc.returncode == 0, "btdownloadheadless exited %s" % me.proc.returncode)
    shutil.rmtree(out)
    return first, done


def run_lt(ws, magnet, ip, run):
    out = ws.mkdir("lt-%d" % run)
    p = subprocess.run([H.PY, "-c", LT_LEECH, magnet, out, ip, os.path.join(H.HERE)],
                       capture_output=True, text=True, timeout=TIMEOUT + 10)
    vals = dict(line.split() for line in p.stdout.splitlines() if line.split()[:1] in (["FIRST"], ["DONE"]))
    H.check("DONE" in vals, "libtorrent did not finish: %s %s" % (p.stdout, p.stderr[-500:]))
    shutil.rmtree(out)
    return float(vals.get("FIRST", "nan")), float(vals["DONE"])


def run_aria(ws, magnet, ip, run):
    out = ws.mkdir("aria-%d" % run)
    t0 = time.monotonic()
    a = H.Aria2(ws, "aria-%d" % run, magnet, out, ip, extra=["--bt-save-metadata=false"])
    first, done = watch(a.proc, lambda: file_bytes(out) > 0, lambda: a.proc.poll() is not None, t0)
    H.check(a.proc.returncode == 0, "aria2c exited %s" % a.proc.returncode)
    shutil.rmtree(out)
    return first, done


def main():
    H.require_headless()
    with H.Workspace("bench-magnet", timeout=RUNS * 3 * TIMEOUT + 120) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "data.bin"), SIZE, 77)
        tr = H.Tracker(ws)
        tor = ws.path("data.torrent")
        ih, size, npieces = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, tr.announce)
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready(20)
        magnet = "magnet:?xt=urn:btih:%s&dn=data.bin&tr=%s" % (ih, urllib.parse.quote(tr.announce, safe=""))
        results = {"btdownloadheadless": [], "libtorrent": [], "aria2c": []}
        for run in range(RUNS):
            for name, fn in (("btdownloadheadless", run_ours), ("libtorrent", run_lt), ("aria2c", run_aria)):
                results[name].append(fn(ws, magnet, ws.next_ip(), run))
        load = open("/proc/loadavg").read().split()[:3]
        print("magnet -> data, %d MiB, %d KiB pieces, loopback, %d run(s), load %s" %
              (SIZE // H.MiB, PIECE // H.KiB, RUNS, " ".join(load)))
        print("%-20s %14s %14s" % ("client", "first byte s", "complete s"))
        for name, rs in results.items():
            print("%-20s %14.3f %14.3f" % (name, statistics.median(r[0] for r in rs),
                                           statistics.median(r[1] for r in rs)))
        seeder.stop()


if __name__ == "__main__":
    H.run_main(main)
