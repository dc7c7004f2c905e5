#!/usr/bin/python3
"""make soak: btlaunchmany left running under churn on loopback (not in make
check).  SOAK_MINUTES (default 30) of:

- SOAK_TORRENTS (default 200) small torrents made with btmakemetainfo (32 KiB
  pieces, every tenth a directory of three files), tracked by our bttrack;
- two seeds: one libtorrent session (127.0.0.2, lt_multi.py) and one
  btlaunchmany (127.0.0.3), each serving 70 % of the torrents (overlapping);
- the engine under test: btlaunchmany --display plain on 127.0.0.10 with a
  watch dir and Transmission's RPC; three quarters of the torrents are
  dropped in its watch dir, a quarter added with torrent-add;
- all along: a transient leecher (libtorrent's or our btdownloadheadless,
  turn about) joins on a random torrent every few seconds and leaves later;
  a torrent added over RPC is removed with its data (torrent-remove
  delete-local-data) and added again (downloaded anew); a .torrent leaves
  the watch dir and comes back (its data kept: checked, seeding);
- one garbage .torrent dropped in the watch dir: the one injected error row;
- at 25 % the engine is killed with SIGKILL and started again; a libtorrent
  leecher then fetches every torrent from it alone and leaves (the engine
  reads all its data once: its read cache is as full as it gets);
- at 50 % bttrack is killed (SIGKILL) and started again on the same port
  some seconds later.

Checks (exit 1 naming each one that failed): every torrent of the engine is
complete at the end and every file byte-identical to its source; RSS at the
end within 5 % of RSS after warm-up (35-45 % of the run, after the restart
and the sweep; medians of the samples); descriptors other than sockets and
data files exactly flat (+2), data files within --max_files_open (32, so the
pool is full early) plus the 4 leases disk threads may hold; sockets, event
loop handles and timers (/metrics btl_loop_handles, btl_loop_timers) at the
end no more than after warm-up plus a little slack for the peers connected
at that instant; no error row but the injected one,
and no "error:" line in the engine's log but about it; SIGTERM ends the
engine with status 0.  Prints a table of samples over time and a summary.
Ends by itself: the whole run is bounded by SOAK_MINUTES plus 6 minutes."""

import base64
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
N_TORRENTS = int(os.environ.get("SOAK_TORRENTS", "200"))
SEED = int(os.environ.get("SOAK_SEED", str(int(time.time()) % 100000)))
D = MINUTES * 60.0
SAMPLE_EVERY = max(5.0, D / 40)
CHURN_EVERY = max(3.0, D / 180)
RSS_GROWTH_LIMIT = 0.05
SUBJECT_IP, LT_SEED_IP, OUR_SEED_IP = "127.0.0.10", "127.0.0.2", "127.0.0.3"
INJECTED = "injected-garbage.torrent"
# A small file pool, full after the first downloads: the descriptors for
# data files reach their bound early, and the count must stay flat after.
MAX_FILES_OPEN = 32


# ---------------------------------------------------------------- the data

class Item:
    """One torrent: its source, .torrent, info-hash, and how the engine gets it."""

    def __init__(self, i, name, src, torrent, via):
        self.i, self.name, self.src, self.torrent, self.via = i, name, src, torrent, via
        tf = L.TorrentFile(torrent)
        self.info_hash = tf.info_hash
        self.size = tf.total
        self.digest = H.tree_digest(src)


def make_items(ws, bin_dir, announce, rng):
    orig, tors = ws.mkdir("orig"), ws.mkdir("torrents")
    items = []
    for i in range(N_TORRENTS):
        if i % 10 == 9:
            name = "dir-%03d" % i
            H.make_tree(os.path.join(orig, name), [("a.bin", rng.randint(1, 200 * H.KiB)),
                                                   ("sub/b.bin", rng.randint(1, 200 * H.KiB)),
                                                   ("sub/c.txt", rng.randint(1, 3000))], seed=i)
        else:
            name = "file-%03d.bin" % i
            H.write_random_file(os.path.join(orig, name), rng.randint(16 * H.KiB, 512 * H.KiB), seed=i)
        tor = os.path.join(tors, "%s.torrent" % name)
        r = subprocess.run([os.path.join(bin_dir, "btmakemetainfo"), announce, os.path.join(orig, name),
                            "--target", tor, "--piece_size_pow2", "15", "--threads", "1"],
                           capture_output=True, text=True, timeout=60)
        H.check(r.returncode == 0, "btmakemetainfo failed for %s: %s" % (name, r.stderr.strip()))
        items.append(Item(i, name, os.path.join(orig, name), tor, "rpc" if i % 4 == 3 else "watch"))
    return orig, items


# ---------------------------------------------------------------- RPC

class Rpc:
    """Transmission RPC over HTTP with the session-id handshake."""

    def __init__(self, port):
        self.url = "http://127.0.0.1:%d/transmission/rpc" % port
        self.metrics_url = "http://127.0.0.1:%d/metrics" % port
        self.sid = ""

    def call(self, method, **args):
        body = json.dumps({"method": method, "arguments": args}).encode()
        for _ in range(3):
            req = urllib.request.Request(self.url, data=body, headers={"X-Transmission-Session-Id": self.sid,
                                                                        "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=15) as r:
                    doc = json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code == 409:
                    self.sid = e.headers.get("X-Transmission-Session-Id", "")
                    continue
                raise H.Fail("RPC %s: HTTP %d" % (method, e.code))
            H.check(doc.get("result") == "success", "RPC %s: %s" % (method, doc.get("result")))
            return doc.get("arguments", {})
        raise H.Fail("RPC %s: no session id accepted" % method)

    def metrics(self):
        """{series name: value} of the unlabelled series of /metrics."""
        out = {}
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=15) as r:
                for line in r.read().decode().splitlines():
                    if line and not line.startswith("#") and "{" not in line:
                        k, v = line.rsplit(" ", 1)
                        out[k] = float(v)
        except (OSError, ValueError):
            pass
        return out


# ---------------------------------------------------------------- processes

class Subject:
    """The engine under test; start() again after a kill -9 reuses everything."""

    def __init__(self, ws, bin_dir, watch, out, port, rpc_port):
        self.ws, self.runs = ws, 0
        self.status_path = ws.path("subject.status.json")
        self.out = out
        self.argv = [os.path.join(bin_dir, "btlaunchmany"), watch, "--display", "plain", "--save_in", out,
                     "--data_dir", ws.mkdir("subject.data"), "--bind", SUBJECT_IP, "--ip", SUBJECT_IP,
                     "--minport", str(port), "--maxport", str(port), "--display_interval", "1",
                     "--status_json", self.status_path, "--rpc_port", str(rpc_port), "--dht", "0",
                     "--max_files_open", str(MAX_FILES_OPEN)] + H.NO_REACH + H.NO_QUEUE
        self.port, self.rpc = port, Rpc(rpc_port)
        self.proc = None
        self.logs = []

    def start(self):
        self.runs += 1
        self.proc = self.ws.start("subject-%d" % self.runs, self.argv, env=dict(os.environ, LANG="C.UTF-8"))
        self.logs.append(self.proc.logpath)
        H.wait_listening("127.0.0.1", self.rpc_port(), 30, self.proc)

    def rpc_port(self):
        return int(self.argv[self.argv.index("--rpc_port") + 1])

    def rows(self):
        d = H.read_json(self.status_path) or {}
        return d.get("torrents", [])


def proc_figures(pid, data_root):
    """(RSS KiB, descriptors, sockets, data files open, CPU seconds) of a
    live process; data files are those under data_root."""
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = socks = data = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        fds += 1
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        socks += target.startswith("socket:")
        data += target.startswith(data_root + "/")
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
    return rss, fds, socks, data, cpu


class Churn:
    """Transient leechers (libtorrent's and ours, in turn) on random torrents:
    at most three at once, each leaving after a while."""

    def __init__(self, ws, items, rng):
        self.ws, self.items, self.rng = ws, items, rng
        self.live = []   # (proc-like, leave at)
        self.n = 0
        self.kinds = {"libtorrent": 0, "ours": 0}

    def step(self, now):
        for peer, leave in list(self.live):
            if now >= leave:
                peer.proc.kill_group(grace=5)
                self.live.remove((peer, leave))
        if len(self.live) >= 3:
            return
        self.n += 1
        it = self.rng.choice(self.items)
        ip = "127.0.1.%d" % (1 + self.n % 250)
        save = self.ws.mkdir("churn-%d" % self.n)
        if self.n % 2:
            peer = H.LtPeer(self.ws, "churn-%d-lt" % self.n, it.torrent, save, ip)
            self.kinds["libtorrent"] += 1
        else:
            peer = H.Headless(self.ws, "churn-%d-ours" % self.n, it.torrent, ip, save_in=save)
            self.kinds["ours"] += 1
        self.live.append((peer, now + self.rng.uniform(2, 6) * CHURN_EVERY))

    def stop(self):
        for peer, _ in self.live:
            peer.proc.kill_group(grace=5)
        self.live = []


# ---------------------------------------------------------------- add / remove

class AddRemove:
    """Torrents going out of the engine and coming back: over RPC (removed
    with their data, so they download again) and through the watch dir (the
    .torrent taken away and put back: checked and seeding again)."""

    def __init__(self, subject, watch, items, rng):
        self.s, self.watch, self.rng = subject, watch, rng
        self.rpc_items = [it for it in items if it.via == "rpc"]
        self.watch_items = [it for it in items if it.via == "watch"]
        self.out = {"rpc": None, "watch": None}
        self.counts = {"rpc add": 0, "rpc remove": 0, "watch add": 0, "watch remove": 0}

    def drop(self, it):
        dst = os.path.join(self.watch, os.path.basename(it.torrent))
        shutil.copy(it.torrent, dst + ".tmp")
        os.replace(dst + ".tmp", dst)
        self.counts["watch add"] += 1

    def rpc_add(self, it, by_path):
        if by_path:
            a = self.s.rpc.call("torrent-add", filename=it.torrent)
        else:
            with open(it.torrent, "rb") as f:
                a = self.s.rpc.call("torrent-add", metainfo=base64.b64encode(f.read()).decode())
        got = a.get("torrent-added") or a.get("torrent-duplicate") or {}
        H.check(got.get("hashString") == it.info_hash, "torrent-add of %s answered %s" % (it.name, a))
        self.counts["rpc add"] += 1

    def seeding(self, pool):
        st = {r.get("info_hash"): r.get("state") for r in self.s.rows()}
        return [it for it in pool if st.get(it.info_hash) == "seeding"]

    def step(self, kind):
        it = self.out[kind]
        if it is not None:           # bring it back
            if kind == "rpc":
                self.rpc_add(it, by_path=self.counts["rpc add"] % 2 == 0)
            else:
                self.drop(it)
            self.out[kind] = None
            return
        pool = self.seeding(self.rpc_items if kind == "rpc" else self.watch_items)
        if not pool:
            return
        it = self.rng.choice(pool)
        if kind == "rpc":
            self.s.rpc.call("torrent-remove", ids=[it.info_hash], **{"delete-local-data": True})
            self.counts["rpc remove"] += 1
        else:
            os.remove(os.path.join(self.watch, os.path.basename(it.torrent)))
            self.counts["watch remove"] += 1
        self.out[kind] = it

    def bring_back(self):
        for kind in ("rpc", "watch"):
            if self.out[kind] is not None:
                self.step(kind)


# ---------------------------------------------------------------- samples

COLUMNS = [("t", "%6.0f"), ("rows", "%5d"), ("seed", "%5d"), ("down", "%5d"), ("check", "%5d"), ("err", "%4d"),
           ("peers", "%5d"), ("RSS MiB", "%8.1f"), ("fds", "%5d"), ("socks", "%5d"), ("data", "%5d"), ("other", "%5d"), ("handles", "%7d"),
           ("timers", "%6d"), ("CPU %", "%6.1f"), ("churn", "%5d")]


def take_sample(t, subject, churn, last_cpu):
    rss, fds, socks, data, cpu = proc_figures(subject.proc.pid, subject.out)
    m = subject.rpc.metrics()
    rows = subject.rows()
    states = [r.get("state") for r in rows]
    bad = {}
    for r in rows:
        if (r.get("state") == "error" or r.get("error")) and r.get("file") != INJECTED:
            bad[r.get("file")] = r.get("error") or r.get("state")
    prev_t, prev_cpu = last_cpu
    s = {"t": t, "rows": len(rows), "seed": states.count("seeding"), "down": states.count("downloading"),
         "check": states.count("checking"), "err": sum(1 for r in rows if r.get("state") == "error" or r.get("error")),
         "peers": int(m.get("btl_peers", -1)), "RSS MiB": rss / 1024.0, "fds": fds, "socks": socks, "data": data,
         "other": fds - socks - data,
         "handles": int(m.get("btl_loop_handles", -1)), "timers": int(m.get("btl_loop_timers", -1)),
         "CPU %": 100.0 * (cpu - prev_cpu) / max(0.001, t - prev_t) if prev_cpu is not None else 0.0,
         "churn": len(churn.live), "bad": bad, "injected": any(r.get("file") == INJECTED for r in rows)}
    return s, (t, cpu)


def print_header():
    print("  ".join("%*s" % (len(f % 0), n) for n, f in COLUMNS) + "  event", flush=True)


def print_sample(s, event):
    print("  ".join(f % s[n] for n, f in COLUMNS) + "  " + event, flush=True)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


# ---------------------------------------------------------------- the run

def start_tracker(ws, bin_dir, port, runs):
    p = ws.start("bttrack-%d" % runs, [os.path.join(bin_dir, "bttrack"), "--bind", "127.0.0.1", "--port", str(port),
                                       "--dfile", ws.path("bttrack.dfile"), "--reannounce_interval", "10",
                                       "--save_dfile_interval", "5"])
    H.wait_listening("127.0.0.1", port, 10, p)
    return p


def start_seeds(ws, bin_dir, orig, items):
    n = len(items)
    lt_items, our_items = items[:int(n * 0.7)], items[int(n * 0.3):]
    lt_port = H.free_port(LT_SEED_IP)
    lt = ws.start("lt-seed", [H.PY, os.path.join(HERE, "lt_multi.py"), "--save", orig, "--ip", LT_SEED_IP,
                              "--port", str(lt_port), "--status", ws.path("lt-seed.json")]
                  + [it.torrent for it in lt_items])
    seed_watch = ws.mkdir("our-seed.watch")
    for it in our_items:
        shutil.copy(it.torrent, seed_watch)
    port = H.free_port(OUR_SEED_IP)
    ours = L.Launcher(ws, "our-seed", seed_watch, orig, ws.mkdir("our-seed.data"), OUR_SEED_IP, port, interval="1")
    H.wait_until(lambda: sum(1 for r in ours.rows().values() if r.get("state") == "seeding") == len(our_items), 120,
                 "our seed to check its %d torrents" % len(our_items), procs=[ours.proc], interval=0.5)
    H.wait_until(lambda: (H.read_json(ws.path("lt-seed.json")) or {}).get("seeding") == len(lt_items), 120,
                 "the libtorrent seed to load its %d torrents" % len(lt_items), procs=[lt], interval=0.5)
    return lt, ours


def start_sweeper(ws, items, subject):
    """After the restart: a libtorrent leecher downloads every torrent from
    the engine alone, so the engine reads all its data once and its read
    cache is as full as it gets before the warm-up ends."""
    ip = "127.0.0.4"
    return ws.start("sweeper", [H.PY, os.path.join(HERE, "lt_multi.py"), "--save", ws.mkdir("sweeper"),
                                "--ip", ip, "--port", str(H.free_port(ip)), "--status", ws.path("sweeper.json"),
                                "--only-peer", "%s:%d" % (SUBJECT_IP, subject.port)] + [it.torrent for it in items])


def sweep_done(ws, items, proc):
    H.check(proc.poll() is None, "the sweeping leecher exited (rc %s)" % proc.poll())
    return (H.read_json(ws.path("sweeper.json")) or {}).get("seeding") == len(items)


class Soak:
    def __init__(self, ws):
        self.ws = ws
        self.rng = random.Random(SEED)
        self.bin = H.btl_bin_dir()
        self.samples, self.events, self.failures = [], [], []
        self.bad_rows = {}
        self.injected_seen = False
        self.sweeper = None

    def setup(self):
        ws = self.ws
        self.tracker_port = H.free_port("127.0.0.1")
        self.tracker_runs = 1
        self.tracker = start_tracker(ws, self.bin, self.tracker_port, 1)
        t0 = time.monotonic()
        self.orig, self.items = make_items(ws, self.bin, "http://127.0.0.1:%d/announce" % self.tracker_port, self.rng)
        H.log("%d torrents made (%.1f MiB) in %.1f s" % (len(self.items), sum(i.size for i in self.items) / H.MiB,
                                                        time.monotonic() - t0))
        self.lt_seed, self.our_seed = start_seeds(ws, self.bin, self.orig, self.items)
        self.watch, self.out = ws.mkdir("watch"), ws.mkdir("out")
        self.subject = Subject(ws, self.bin, self.watch, self.out, H.free_port(SUBJECT_IP),
                               H.free_port("127.0.0.1"))
        self.subject.start()
        self.churn = Churn(ws, self.items, self.rng)
        self.addrm = AddRemove(self.subject, self.watch, self.items, self.rng)

    def event(self, t, what):
        self.events.append((t, what))
        H.log("t=%.0f s: %s" % (t, what))

    def sample(self, t, last_cpu, event=""):
        s, last_cpu = take_sample(t, self.subject, self.churn, last_cpu)
        self.samples.append(s)
        self.bad_rows.update(s["bad"])
        self.injected_seen |= s["injected"]
        print_sample(s, event)
        return last_cpu

    def run(self):
        """The timed part: adds, churn, the kill, the tracker restart."""
        sub, addrm = self.subject, self.addrm
        start = time.monotonic()
        pending_watch = [it for it in self.items if it.via == "watch"]
        pending_rpc = [it for it in self.items if it.via == "rpc"]
        with open(os.path.join(self.watch, INJECTED), "wb") as f:
            f.write(b"this is not a torrent\n")
        self.event(0, "dropped %s (the injected error row)" % INJECTED)
        killed = tracker_down = False
        tracker_back = None
        next_sample = next_churn = 0.0
        turn = 0
        last_cpu = (0.0, None)
        print_header()
        while True:
            t = time.monotonic() - start
            if t >= D:
                break
            ev = []
            if not killed and t >= 0.25 * D:
                sub.proc.signal(signal.SIGKILL)
                sub.proc.wait(10)
                sub.start()
                killed = True
                last_cpu = (t, None)
                ev.append("kill -9 of the engine, started again")
                self.event(t, ev[-1])
                self.sweeper = start_sweeper(self.ws, self.items, sub)
                ev.append("a libtorrent leecher of every torrent joins")
                self.event(t, ev[-1])
            if self.sweeper is not None and sweep_done(self.ws, self.items, self.sweeper):
                self.sweeper.kill_group()
                self.sweeper = None
                ev.append("the leecher of every torrent is done and leaves")
                self.event(t, ev[-1])
            if not tracker_down and t >= 0.5 * D:
                self.tracker.signal(signal.SIGKILL)
                self.tracker.wait(10)
                tracker_down, tracker_back = True, t + max(5.0, 0.03 * D)
                ev.append("bttrack killed")
                self.event(t, ev[-1])
            if tracker_back is not None and t >= tracker_back:
                self.tracker_runs += 1
                self.tracker = start_tracker(self.ws, self.bin, self.tracker_port, self.tracker_runs)
                tracker_back = None
                ev.append("bttrack started again")
                self.event(t, ev[-1])
            if t >= next_churn:
                next_churn = t + CHURN_EVERY
                if pending_watch or pending_rpc:
                    for it in pending_watch[:40]:
                        addrm.drop(it)
                    for it in pending_rpc[:10]:
                        addrm.rpc_add(it, by_path=it.i % 2 == 0)
                    pending_watch, pending_rpc = pending_watch[40:], pending_rpc[10:]
                else:
                    addrm.step(("rpc", "watch")[turn % 2])
                    turn += 1
                self.churn.step(t)
            if t >= next_sample:
                next_sample = t + SAMPLE_EVERY
                last_cpu = self.sample(t, last_cpu, "; ".join(ev))
            H.check(sub.proc.poll() is None, "the engine exited (rc %s)" % sub.proc.poll())
            time.sleep(0.2)
        self.churn.stop()
        self.addrm.bring_back()
        self.event(D, "churn stopped; every torrent back in the engine")

    def finish(self):
        """Everything complete and byte-identical; the engine stops cleanly."""
        sub = self.subject
        want = {it.info_hash for it in self.items}

        def all_seeding():
            st = {r.get("info_hash"): r.get("state") for r in sub.rows()}
            return all(st.get(h) == "seeding" for h in want)
        t0 = time.monotonic()
        try:
            H.wait_until(all_seeding, 240, "every torrent to be seeding", procs=[sub.proc], interval=0.5)
        except H.Fail as e:
            st = {r.get("info_hash"): r.get("state") for r in sub.rows()}
            late = ["%s: %s" % (it.name, st.get(it.info_hash)) for it in self.items if st.get(it.info_hash) != "seeding"]
            self.failures.append("not every torrent complete at the end: %s (%d not: %s)" % (e, len(late), late[:8]))
        self.event(D + time.monotonic() - t0, "all complete" if not self.failures else "NOT all complete")
        lost = []
        for it in self.items:
            try:
                got = H.tree_digest(os.path.join(self.out, it.name))
            except OSError:
                got = {}
            if got != it.digest:
                lost.append(it.name)
        self.lost = lost
        if lost:
            self.failures.append("%d torrent(s) not byte-identical to their source: %s" % (len(lost), lost[:10]))
        self.sample(D + time.monotonic() - t0, (0.0, None), "final")
        sub.proc.signal(signal.SIGTERM)
        rc = sub.proc.wait(60)
        self.rc = rc
        if rc != 0:
            self.failures.append("SIGTERM: the engine exited %s, not 0" % rc)

    def checks(self):
        """[(figure, after warm-up, at the end, bound, ok)]; failures noted."""
        body = [s for s in self.samples[:-1]]
        base = [s for s in body if 0.35 * D <= s["t"] < 0.45 * D]
        end = [s for s in body if s["t"] >= 0.9 * D] or body[-3:]
        H.check(base and end, "too few samples (%d) to compare" % len(body))
        rows = []

        def flat(name, slack_abs, slack_rel):
            b, e = median([s[name] for s in base]), median([s[name] for s in end])
            bound = b + max(slack_abs, slack_rel * b)
            rows.append((name, "%g" % b, "%g" % e, "<= %g" % bound, e <= bound))
        b, e = median([s["RSS MiB"] for s in base]), median([s["RSS MiB"] for s in end])
        growth = e / b - 1
        rows.append(("RSS MiB", "%.1f" % b, "%.1f (%+.1f %%)" % (e, 100 * growth),
                     "< +%d %%" % (100 * RSS_GROWTH_LIMIT), growth < RSS_GROWTH_LIMIT))
        flat("other", 2, 0.0)          # descriptors but sockets and data files: no leak at all
        # The pool's bound, plus the leases the disk threads may hold beyond
        # it (file_pool.hpp): libuv's 4 pool threads.
        peak = max(s["data"] for s in self.samples)
        rows.append(("data files open", "", "peak %d" % peak, "<= %d + 4" % MAX_FILES_OPEN, peak <= MAX_FILES_OPEN + 4))
        flat("socks", 12, 0.25)        # sockets follow the peers connected
        flat("handles", 12, 0.15)
        flat("timers", 4, 0.10)
        rows.append(("error rows", "injected one: %s" % ("seen" if self.injected_seen else "NOT seen"),
                     "others: %d" % len(self.bad_rows), "only the injected", self.injected_seen and not self.bad_rows))
        log_errors = []
        for p in self.subject.logs:
            with open(p, errors="replace") as f:
                log_errors += [ln.strip() for ln in f if " error: " in ln and INJECTED not in ln]
        rows.append(("log error lines", "", "%d" % len(log_errors), "0 but the injected", not log_errors))
        rows.append(("complete, byte-identical", "", "%d of %d" % (len(self.items) - len(self.lost), len(self.items)),
                     "all", not self.lost))
        rows.append(("exit on SIGTERM", "", "%s" % self.rc, "0", self.rc == 0))
        for name, b, e, bound, ok in rows:
            if not ok:
                self.failures.append("%s: after warm-up %s, at the end %s, bound %s" % (name, b, e, bound))
        if self.bad_rows:
            self.failures.append("error rows: %s" % list(self.bad_rows.items())[:5])
        if log_errors:
            self.failures.append("engine log errors: %s" % log_errors[:5])
        return rows


def print_summary(soak, rows, wall):
    print("\n==== soak summary: %.0f min (%d torrents, %d samples, seed %d), wall %.0f s, load %s" % (
        MINUTES, N_TORRENTS, len(soak.samples), SEED, wall, open("/proc/loadavg").read().split()[:3]), flush=True)
    print("samples over time:")
    print_header()
    for s in soak.samples:
        ev = "; ".join(w for t, w in soak.events if s["t"] - SAMPLE_EVERY < t <= s["t"])
        print_sample(s, ev)
    print("\nevents: " + "; ".join("%.0f s %s" % e for e in soak.events))
    print("churn: %s leechers joined and left; add/remove: %s" % (soak.churn.kinds, soak.addrm.counts))
    print("\n%-26s %-22s %-24s %-20s %s" % ("check", "after warm-up", "at the end", "bound", "result"))
    for name, b, e, bound, ok in rows:
        print("%-26s %-22s %-24s %-20s %s" % (name, b, e, bound, "ok" if ok else "FAILED"))
    print(flush=True)


def main():
    H.check(MINUTES > 0 and N_TORRENTS >= 20, "SOAK_MINUTES must be > 0 and SOAK_TORRENTS >= 20")
    for b in ("btlaunchmany", "btdownloadheadless", "btmakemetainfo", "bttrack"):
        H.check(os.access(os.path.join(H.btl_bin_dir(), b), os.X_OK), "%s not found in %s (make -j2 all)"
                % (b, H.btl_bin_dir()))
    t0 = time.monotonic()
    with H.Workspace("soak", timeout=D + 360) as ws:
        soak = Soak(ws)
        H.log("soak: %.1f min, %d torrents, samples every %.0f s, churn every %.0f s, seed %d"
              % (MINUTES, N_TORRENTS, SAMPLE_EVERY, CHURN_EVERY, SEED))
        soak.setup()
        soak.run()
        soak.finish()
        rows = soak.checks()
        print_summary(soak, rows, time.monotonic() - t0)
        if soak.failures:
            raise H.Fail("; ".join(soak.failures))


if __name__ == "__main__":
    H.run_main(main)
