#!/usr/bin/python3
"""Benchmark: the attached curses view on a large idle engine.

transmission-daemon (RPC on loopback) loads BENCH_ATTACH_N (default 2000)
paused torrents from its watch directory; `btlaunchmany --attach URL` runs
in tmux (160x40).  Measured: the time from starting the view to its footer
showing all N torrents (one full torrent-get), then the view's CPU and the
daemon's CPU over BENCH_IDLE_S (default 20) seconds of idling (from a
minute after the last torrent was added: Transmission counts younger ones
as recently active) with a 1 s display interval (each interval: torrent-get "recently-active", which
lists nothing, and session-stats).  Target: the view under 1 % of a core.
With BENCH_ATTACH_ENGINE=btlaunchmany the engine's CPU is sampled
BENCH_SAMPLES times (default 3) over BENCH_SAMPLE_S seconds each (default
20), after BENCH_SETTLE_S (default 120) so the first announce round is
over; the median is printed with every sample, the engine's open
descriptors, and with BENCH_ATTACH_DHT=1 the DHT on, bootstrapped from a
libtorrent DHT node on loopback (lt_dht_node.py), with the DHT datagrams
the engine sent per second (from /metrics: the status file is not rewritten
for the DHT's counters alone) and the status file's writes in each sample.
Port mapping and LSD are always off.
Exit status non-zero only if the scenario could not run.
Run: /usr/bin/python3 test/bench/bench_attach_idle.py"""

import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import btl_harness as H  # noqa: E402
from tmux_util import Tmux  # noqa: E402
import idle_probe  # noqa: E402

N = int(os.environ.get("BENCH_ATTACH_N", "2000"))
# transmission (default) or btlaunchmany: our engine in plain mode, its
# torrents announcing to bttrack on loopback (no peers: idle downloads).
ENGINE = os.environ.get("BENCH_ATTACH_ENGINE", "transmission")
IDLE_S = float(os.environ.get("BENCH_IDLE_S", "20"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "3"))
SAMPLE_S = float(os.environ.get("BENCH_SAMPLE_S", "20"))
SETTLE_S = float(os.environ.get("BENCH_SETTLE_S", "120"))
DHT = os.environ.get("BENCH_ATTACH_DHT", "0") == "1"


def cpu_ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def pane_pid_child(t, session):
    """The view's pid: the child of the pane's shell."""
    shell = int(t.run("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0])
    kids = open("/proc/%d/task/%d/children" % (shell, shell)).read().split()
    return int(kids[0])


def main():
    launcher = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    with H.Workspace("bench-attach", timeout=600) as ws:
        # Thousands of small files: on this VM's ext4 (mounted with `discard`)
        # each unlink waits ~2-4 ms for its TRIM, minutes at clean-up; a tmpfs
        # over the workspace is gone at once.
        H.mount_tmpfs(ws, ws.dir, "2g")
        t = Tmux(ws, "bench-attach")
        try:
            run(ws, t, launcher)
        finally:
            t.close()


def write_torrents(watch, announce):
    rng = random.Random(7)
    for i in range(N):
        info = {b"name": b"t%05d.bin" % i, b"piece length": 16384, b"length": 16384,
                b"pieces": bytes(rng.getrandbits(8) for _ in range(20))}
        with open(os.path.join(watch, "t%05d.torrent" % i), "wb") as f:
            f.write(H.bencode({b"announce": announce, b"info": info}))


def start_ours(ws, launcher, watch):
    """Our engine, plain, with RPC on a free port; returns (proc, url)."""
    tport = H.free_port()
    bttrack = os.path.join(H.btl_bin_dir(), "bttrack")
    tr = ws.start("bttrack", [bttrack, "--port", str(tport), "--bind", "127.0.0.1", "--dfile", ws.path("dfile")])
    H.wait_listening("127.0.0.1", tport, 10, tr)
    write_torrents(watch, b"http://127.0.0.1:%d/announce" % tport)
    rpc_port, status = H.free_port(), ws.path("status.json")
    reach = H.NO_REACH + ["--dht", "0"]
    if DHT:
        # The DHT's only way out is a libtorrent node on loopback.
        node_port = H.free_port()
        node = ws.start("lt-dht", [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                                 "integration", "lt_dht_node.py"),
                                   "--ip", "127.0.0.1", "--port", str(node_port), "--status", ws.path("lt.json")])
        H.wait_until(lambda: H.read_json(ws.path("lt.json")) is not None, 30, "the DHT node to start", procs=[node])
        reach = H.NO_REACH + ["--dht", "1", "--dht_bootstrap", "127.0.0.1:%d" % node_port]
    proc = ws.start("btlaunchmany", [launcher, watch, "--save_in", ws.mkdir("out"), "--data_dir", ws.mkdir("state"),
                                     "--display", "plain", "--rpc_port", str(rpc_port), "--bind", "127.0.0.1",
                                     "--status_json", status, "--display_interval", "1"] + H.NO_QUEUE + reach)
    proc.status_path = status
    proc.rpc_port = rpc_port
    H.wait_until(lambda: len((H.read_json(status) or {}).get("torrents", [])) >= N, 300,
                 "btlaunchmany to show %d torrents" % N, interval=1, procs=[proc])
    return proc, "http://127.0.0.1:%d/transmission/rpc" % rpc_port


def run(ws, t, launcher):
    conf, data, watch = ws.mkdir("conf"), ws.mkdir("data"), ws.mkdir("watch")
    if ENGINE == "btlaunchmany":
        daemon, url = start_ours(ws, launcher, watch)
        return measure(ws, t, launcher, daemon, url, time.monotonic())
    write_torrents(watch, b"http://127.0.0.1:9/announce")
    peer_port, rpc_port = H.free_port(), H.free_port()
    settings = {"rpc-enabled": True, "rpc-bind-address": "127.0.0.1", "rpc-port": rpc_port,
                "rpc-whitelist": "127.0.0.1", "rpc-authentication-required": False,
                "rpc-host-whitelist-enabled": False, "dht-enabled": False, "lpd-enabled": False,
                "pex-enabled": False, "utp-enabled": False, "port-forwarding-enabled": False,
                "peer-port": peer_port, "bind-address-ipv4": "127.0.0.1", "download-dir": data,
                "watch-dir-enabled": True, "watch-dir": watch, "start-added-torrents": False}
    with open(os.path.join(conf, "settings.json"), "w") as f:
        json.dump(settings, f)
    daemon = ws.start("transmission", ["transmission-daemon", "-f", "-g", conf, "-p", str(rpc_port)])
    H.wait_listening("127.0.0.1", rpc_port, 15, daemon)

    def count():
        r = subprocess.run(["transmission-remote", "127.0.0.1:%d" % rpc_port, "-l"], capture_output=True,
                           text=True, timeout=60)
        return max(0, len(r.stdout.splitlines()) - 2)
    H.wait_until(lambda: count() >= N, 300, "transmission to load %d torrents" % N, interval=2, procs=[daemon])
    loaded = time.monotonic()

    return measure(ws, t, launcher, daemon, "http://127.0.0.1:%d/transmission/rpc" % rpc_port, loaded)


def recently_active(url):
    """Rows and bytes of the poll the view makes each interval."""
    import urllib.error
    import urllib.request
    body = json.dumps({"method": "torrent-get", "arguments": {"fields": ["id", "name", "status", "percentDone",
                       "rateDownload", "rateUpload"], "ids": "recently-active"}}).encode()
    sid = ""
    for _ in range(2):
        req = urllib.request.Request(url, data=body, headers={"X-Transmission-Session-Id": sid})
        try:
            raw = urllib.request.urlopen(req, timeout=30).read()
            return len(json.loads(raw)["arguments"]["torrents"]), len(raw)
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
            sid = e.headers["X-Transmission-Session-Id"]
    return -1, -1


def measure(ws, t, launcher, daemon, url, loaded):
    start = time.monotonic()
    t.new("view", [launcher, "--attach", url, "--display_interval", "1"], ws.path("rc"))
    t.wait("view", lambda s: " %d torrents" % N in s[-2], 60, "the footer to count %d torrents" % N)
    shown = time.monotonic() - start
    # Transmission counts a torrent added in the last 60 s as recently
    # active: idle means a minute after the last one came.
    time.sleep(max(3.0, 62 - (time.monotonic() - loaded)))
    view = pane_pid_child(t, "view")
    hz = os.sysconf("SC_CLK_TCK")
    v0, d0, w0 = cpu_ticks(view), cpu_ticks(daemon.pid), time.monotonic()
    time.sleep(IDLE_S)
    v1, d1, w1 = cpu_ticks(view), cpu_ticks(daemon.pid), time.monotonic()
    wall = w1 - w0
    view_cpu = 100.0 * (v1 - v0) / hz / wall
    daemon_cpu = 100.0 * (d1 - d0) / hz / wall
    samples = []
    if ENGINE == "btlaunchmany":
        samples = sample_engine(daemon, view, hz)
    load = open("/proc/loadavg").read().split()[0]
    n_active, n_bytes = recently_active(url)
    print("| attached view, %d idle torrents (%s) | value | target |" % (N, ENGINE))
    print("|---|---|---|")
    print("| start to all rows shown | %.2f s | |" % shown)
    print("| view CPU over %.0f s idle | %.2f %% | < 1 %% |" % (wall, view_cpu))
    print("| %s CPU, same window | %.2f %% | |" % (ENGINE, daemon_cpu))
    print("| one torrent-get recently-active after the window | %d rows, %d bytes | |" % (n_active, n_bytes))
    for row in samples:
        print(row)
    print("(load average %s at the end; one run)" % load)


def sample_engine(daemon, view, hz):
    """Past the settle time: SAMPLES windows of SAMPLE_S seconds; engine and
    view ticks per window, the median, descriptors, DHT datagrams sent."""
    while time.monotonic() - daemon.started < SETTLE_S:
        time.sleep(1)
    rows, eng, vw = [], [], []
    for i in range(SAMPLES):
        out0 = (idle_probe.dht_packets(daemon.rpc_port) or (0, 0))[1]
        v0 = cpu_ticks(view)
        ticks, wall, writes = idle_probe.window(daemon.pid, SAMPLE_S, daemon.status_path)
        v1 = cpu_ticks(view)
        out1 = (idle_probe.dht_packets(daemon.rpc_port) or (0, 0))[1]
        fds = len(os.listdir("/proc/%d/fd" % daemon.pid))
        dht = (out1 - out0) / wall
        eng.append(ticks)
        vw.append(v1 - v0)
        rows.append("sample %d: engine %d ticks/%.0f s (%.2f %%), view %d ticks, %d fds, DHT %.1f datagrams/s out, "
                    "%d status file writes, load %s" % (i + 1, ticks, wall, 100.0 * ticks / hz / wall, v1 - v0, fds,
                                                       dht, writes, open("/proc/loadavg").read().split()[0]))
    med = sorted(eng)[len(eng) // 2]
    rows.append("median of %d: engine %d ticks/%.0f s = %.2f %% of a core (target < 1 %%), view %d ticks%s" % (
        len(eng), med, SAMPLE_S, 100.0 * med / hz / SAMPLE_S, sorted(vw)[len(vw) // 2], ", DHT on" if DHT else ""))
    return rows


if __name__ == "__main__":
    H.run_main(main)
