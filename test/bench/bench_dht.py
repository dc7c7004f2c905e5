#!/usr/bin/python3
"""Benchmark the DHT on loopback (a libtorrent router and 3 libtorrent DHT
nodes; nothing leaves the machine).

1. Scale: btlaunchmany with BENCH_DHT_TORRENTS (default 10,000) tiny
   trackerless torrents whose data is absent, so every one of them wants
   DHT announces.  After they are loaded, over BENCH_IDLE_S (default 20) s:
   its CPU (utime+stime / wall), DHT packets per second in and out
   (/metrics' btl_dht_packets_total: the status file is not rewritten for
   the counters alone) and the status file's writes in the window, beside
   the same run with --dht 0
   (the launcher's own cost).  The window falls in the first announce
   round (every torrent due at start, taking turns under the budget), the
   busiest time.  Target: the DHT's share under 1 % CPU (of one core),
   packets/s bounded by the query budget (100/s out plus answers).
2. A bare magnet (info-hash only: no tracker, no peer hint, no metadata)
   of a 4 MiB torrent that a libtorrent seed serves: time to the first peer
   (found only through the DHT) and to completion (metadata fetched from
   that peer, then the data), our btdownloadheadless beside a libtorrent
   leecher given the same magnet, same network, same seed, one after the
   other in the same run (BENCH_MAGNET_RUNS, default 3, runs of each; median).

Env: BENCH_DHT_TORRENTS, BENCH_IDLE_S, BENCH_MAGNET_RUNS, BENCH_DHT_ONLY=magnet
(only part 2).  Exit status non-zero only if a scenario could not run.
Run: /usr/bin/python3 test/bench/bench_dht.py
"""

import hashlib
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import btl_harness as H  # noqa: E402
from test_dht_libtorrent import LtNode, make  # noqa: E402
import idle_probe  # noqa: E402

N = int(os.environ.get("BENCH_DHT_TORRENTS", "10000"))
IDLE_S = float(os.environ.get("BENCH_IDLE_S", "20"))


def make_torrents(tdir, n):
    os.makedirs(tdir, exist_ok=True)
    rng = random.Random(77)
    for i in range(n):
        data = rng.randbytes(4096)
        info = {"name": "f%05d.bin" % i, "length": 4096, "piece length": 16384,
                "pieces": hashlib.sha1(data).digest()}
        with open(os.path.join(tdir, "t%05d.torrent" % i), "wb") as f:
            f.write(H.bencode({"info": info}))


def network(ws):
    router = LtNode(ws, "lt-router", ws.next_ip())
    nodes = [LtNode(ws, "lt-node%d" % i, ws.next_ip(), nodes=[router.addr]) for i in range(3)]
    H.wait_until(lambda: all(n.status().get("dht_nodes", 0) >= 1 for n in nodes), 30,
                 "the libtorrent DHT nodes to join")
    return router, nodes


def scale(ws, router, dht=True):
    root = ws.mkdir("scale-dht%d" % dht)
    tdir = os.path.join(root, "watch")
    make_torrents(tdir, N)
    status = os.path.join(root, "status.json")
    ip = ws.next_ip()
    port = H.free_port(ip)
    rpc_port = H.free_port("127.0.0.1")  # /metrics: the DHT's datagram counters
    argv = [os.path.join(H.btl_bin_dir(), "btlaunchmany"), tdir, "--display", "plain",
            "--status_json", status, "--data_dir", os.path.join(root, "state"),
            "--save_in", os.path.join(root, "data"), "--bind", ip, "--minport", str(port),
            "--maxport", str(port), "--rpc_port", str(rpc_port),
            "--dht", "1" if dht else "0", "--dht_bootstrap", "%s:%d" % router.addr] + H.NO_REACH
    p = ws.start("btlaunchmany", argv, env=dict(os.environ, HOME=root, XDG_CONFIG_HOME=root))
    t0 = time.monotonic()

    def loaded():
        d = H.read_json(status) or {}
        return len([r for r in d.get("torrents", []) if r.get("loaded")]) >= N

    H.wait_until(loaded, 180, "all %d torrents loaded" % N, procs=[p], interval=0.5)
    H.log("%d torrents loaded after %.1f s" % (N, time.monotonic() - t0))
    time.sleep(3)
    H.wait_until(lambda: idle_probe.dht_packets(rpc_port) is not None, 30, "/metrics to answer", procs=[p])
    in0, out0 = idle_probe.dht_packets(rpc_port)
    ticks, wall, writes = idle_probe.window(p.pid, IDLE_S, status)
    in1, out1 = idle_probe.dht_packets(rpc_port)
    res = {"cpu_pct": 100.0 * ticks / idle_probe.HZ / wall,
           "pps_in": (in1 - in0) / wall, "pps_out": (out1 - out0) / wall, "writes": writes,
           "dht_nodes": (H.read_json(status) or {}).get("totals", {}).get("dht_nodes")}
    p.signal()
    p.wait(60)
    return res


def first_peer(ws, router):
    src, tor, ih = make(ws, "x.bin", 4 * H.MiB, 5)
    magnet = "magnet:?xt=urn:btih:" + ih
    seed = LtNode(ws, "lt-seed", ws.next_ip(), nodes=[router.addr], torrents=[tor], save=src, seed=True)
    H.wait_until(lambda: seed.status().get("dht_nodes", 0) >= 1, 20, "the seed to join")
    time.sleep(4)  # its first announce
    out = {"ours": [], "libtorrent": []}
    for run in range(int(os.environ.get("BENCH_MAGNET_RUNS", "3"))):
        ip = ws.next_ip()
        t0 = time.monotonic()
        me = H.Headless(ws, "btl-leech%d" % run, magnet, ip, save_in=ws.mkdir("ours%d" % run),
                        seed_time=0, dht=True, display_interval=0.1,
                        extra=["--dht_bootstrap", "%s:%d" % router.addr])
        first = None
        # First peer: the first sample with a peer or any data (a 4 MiB
        # download can begin and end between two status writes).
        while me.proc.poll() is None and time.monotonic() - t0 < 60:
            st = me.status()
            if first is None and (st.get("peers", 0) > 0 or st.get("have_bytes", 0) > 0):
                first = time.monotonic() - t0
            time.sleep(0.02)
        if first is None and me.proc.returncode == 0:
            first = time.monotonic() - t0
        out["ours"].append((first, time.monotonic() - t0 if me.proc.returncode == 0 else None))
        me.proc.kill_group()
        t0 = time.monotonic()
        lt_leech = LtNode(ws, "lt-leech%d" % run, ws.next_ip(), nodes=[router.addr],
                          torrents=[magnet], save=ws.mkdir("lt%d" % run))
        first = done = None
        while time.monotonic() - t0 < 60 and done is None:
            t = (lt_leech.status().get("torrents") or [{}])[0]
            if t.get("seeding"):
                done = time.monotonic() - t0
            if first is None and (t.get("peers", 0) > 0 or t.get("progress", 0) > 0 or done):
                first = time.monotonic() - t0
            time.sleep(0.02)
        out["libtorrent"].append((first, done))
        H.log("magnet run %d: ours %s, libtorrent %s" % (run, out["ours"][-1], (first, done)))
        lt_leech.proc.kill_group()
    return out


def fmt_times(runs):
    """median first-peer and complete times of the runs ('-' if any failed)."""
    def med(xs):
        return "-" if any(x is None for x in xs) else "%.2f s" % sorted(xs)[len(xs) // 2]
    return med([f for f, _ in runs]), med([d for _, d in runs])


def main():
    H.require_headless()
    with H.Workspace("bench-dht", timeout=900) as ws:
        # Thousands of small files: on this VM's ext4 (mounted with `discard`)
        # each unlink waits ~2-4 ms for its TRIM, minutes at clean-up; a tmpfs
        # over the workspace is gone at once.
        H.mount_tmpfs(ws, ws.dir, "2g")
        router, _ = network(ws)
        fp = first_peer(ws, router)
        magnet_only = os.environ.get("BENCH_DHT_ONLY") == "magnet"
        if not magnet_only:
            sc = scale(ws, router)
            base = scale(ws, router, dht=False)
        load = os.getloadavg()
        print("\nDHT benchmark (load average %.2f %.2f %.2f)" % load)
        print("bare magnet, DHT only, 4 MiB from a libtorrent seed (%d run(s), median)"
              % len(fp["ours"]))
        print("%-34s %12s %12s" % ("start -> (python startup incl.)", "first peer", "complete"))
        for who, runs in fp.items():
            print("%-34s %12s %12s" % ((who,) + fmt_times(runs)))
        if magnet_only:
            return
        print("%d trackerless torrents, %.0f s: CPU %.2f %% (target < 1 %%), DHT packets/s in %.1f out %.1f, "
              "%s nodes, %d status file writes" % (N, IDLE_S, sc["cpu_pct"], sc["pps_in"], sc["pps_out"],
                                                    sc["dht_nodes"], sc["writes"]))
        print("the same torrents with --dht 0: CPU %.2f %%, %d status file writes; the DHT's share: %.2f %% of one core"
              % (base["cpu_pct"], base["writes"], sc["cpu_pct"] - base["cpu_pct"]))


if __name__ == "__main__":
    H.run_main(main)
