"""Shared harness for btlaunchmany's integration tests and benchmarks.

Drives real peers on loopback: opentracker (whitelist), libtorrent (each
peer its own python subprocess, see `lt-peer` below), aria2c, and our
btdownloadheadless. Every process is started in its own process group and
registered with a Workspace, which kills the groups and removes its temp dir
on exit, on SIGTERM/SIGINT and on the hard timeout (SIGALRM).

Usage from a test:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import btl_harness as H
    with H.Workspace("engine-swarm", timeout=180) as ws:
        ...

Also a command: `btl_harness.py lt-peer --torrent T --save DIR --ip IP ...`
runs one libtorrent session (used by LtPeer; see lt_peer_main).
"""

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PY = "/usr/bin/python3"   # the interpreter that has python3-libtorrent
HERE = os.path.dirname(os.path.abspath(__file__))
KiB = 1024
MiB = 1024 * 1024

_live_workspaces = []


def thread_waits(pid):
    """One line: each thread's name, state, kernel wait channel and the top
    of its kernel stack (readable as root), to say why a process hangs."""
    out = []
    try:
        tids = sorted(os.listdir("/proc/%d/task" % pid), key=int)
    except OSError:
        return "(gone)"
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)

        def rd(name):
            try:
                with open(base + name) as f:
                    return f.read().strip()
            except OSError:
                return "?"
        state = rd("stat").rsplit(")", 1)[-1].split()[:1]
        stack = [ln.split()[-1].split("+")[0] for ln in rd("stack").splitlines()[:4] if ln.strip()]
        out.append("%s %s %s [%s]" % (rd("comm"), state[0] if state else "?", rd("wchan"), " < ".join(stack)))
    return "; ".join(out)


class Fail(Exception):
    """A test assertion failed; the message says what was expected."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def log(*args):
    print("[%7.2f]" % (time.monotonic() - _t0), *args, flush=True)


_t0 = time.monotonic()

# Sanitizer builds (make check-asan) run several times slower: BTL_TIME_SCALE
# stretches every wait and hard timeout here; what tests assert is unchanged.
TIME_SCALE = max(1.0, float(os.environ.get("BTL_TIME_SCALE", "1") or 1))
# ...and hold freed memory in quarantine (up to 256 MB): BTL_MEM_SCALE
# stretches absolute memory bounds the same way.
MEM_SCALE = max(1.0, float(os.environ.get("BTL_MEM_SCALE", "1") or 1))


# ---------------------------------------------------------------- ports, IPs

def hostport(ip, port):
    """"ip:port", or "[v6]:port" for an IPv6 address."""
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def free_port(ip="127.0.0.1"):
    """A TCP port that was free on `ip` (and UDP too) a moment ago."""
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    for _ in range(50):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.bind((ip, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        u = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            u.bind((ip, port))
        except OSError:
            continue
        finally:
            u.close()
        return port
    raise RuntimeError("no free port on %s" % ip)


def wait_listening(ip, port, timeout=10.0, proc=None):
    timeout *= TIME_SCALE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Fail("%s exited (rc %s) before listening on %s:%d"
                       % (proc.name, proc.returncode, ip, port))
        try:
            with socket.create_connection((ip, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise Fail("nothing listening on %s:%d after %.0fs" % (ip, port, timeout))


def wait_until(pred, timeout, what, interval=0.1, procs=()):
    """Polls pred() until it returns a true value (returned). Fails after
    timeout, or as soon as one of `procs` exits unexpectedly."""
    timeout *= TIME_SCALE
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        for p in procs:
            if p.poll() is not None:
                raise Fail("%s exited (rc %s) while waiting for %s"
                           % (p.name, p.returncode, what))
        if time.monotonic() > deadline:
            raise Fail("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------- processes

class Proc:
    """A child in its own process group, output to a log file."""

    def __init__(self, name, argv, logpath, cwd=None, env=None):
        self.name = name
        self.argv = list(argv)
        self.logpath = logpath
        self.rusage = None
        self._log = open(logpath, "wb")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            self.argv, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=cwd, env=env, start_new_session=True)
        self.pid = self.popen.pid
        self.ended = None

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        if self.popen.returncode is None:
            # wait4 keeps the child's rusage (CPU, peak RSS) for benchmarks.
            try:
                pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.popen.poll()
            if pid == self.pid:
                self._reaped(status, ru)
        return self.popen.returncode

    def _reaped(self, status, ru):
        self.rusage = ru
        self.ended = time.monotonic()
        self.popen.returncode = os.waitstatus_to_exitcode(status)

    def wait(self, timeout):
        """Waits for exit; returns the exit code. Fails on timeout."""
        timeout *= TIME_SCALE
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise Fail("%s did not exit within %.0fs; where its threads wait: %s; log tail:\n%s"
                           % (self.name, timeout, thread_waits(self.pid), self.tail(8)))
            time.sleep(0.02)
        return self.returncode

    def signal(self, sig=signal.SIGTERM):
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill_group(self, grace=3.0):
        """SIGTERM to the whole group, SIGKILL after `grace` seconds."""
        if self.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + grace
            while self.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        # Children that outlived the leader are still in the group.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.poll() is None:
            try:
                self.wait(5)
            except Fail:
                pass
        self._log.close()

    def cpu_seconds(self):
        """user+sys of this process so far (live: /proc; ended: rusage)."""
        if self.rusage is not None:
            return self.rusage.ru_utime + self.rusage.ru_stime
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            tck = os.sysconf("SC_CLK_TCK")
            return (int(fields[11]) + int(fields[12])) / tck
        except (OSError, IndexError):
            return None

    def peak_rss_kib(self):
        if self.rusage is not None:
            return self.rusage.ru_maxrss
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def tail(self, n=30):
        try:
            with open(self.logpath, "rb") as f:
                data = f.read()
        except OSError:
            return "(no log)"
        lines = data.decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])


# ---------------------------------------------------------------- workspace

class Workspace:
    """Temp dir + registry of processes; cleans up however the test ends.

    timeout: hard limit in seconds for the whole `with` block (SIGALRM).
    On failure, prints the tail of every process log (keep_on_fail=True or
    BTL_KEEP=1 also keeps the temp dir for a post-mortem)."""

    def __init__(self, name, timeout=300, base=None, keep_on_fail=False):
        self.name = name
        self.timeout = timeout * TIME_SCALE if timeout else timeout
        self.dir = tempfile.mkdtemp(prefix="btl-%s-" % name, dir=base or "/tmp")
        self.procs = []
        self.keep_on_fail = keep_on_fail or os.environ.get("BTL_KEEP") == "1"
        self._old = {}
        self._ip_next = 2
        self._cleanups = []

    def path(self, *parts):
        p = os.path.join(self.dir, *parts)
        return p

    def mkdir(self, *parts):
        p = self.path(*parts)
        os.makedirs(p, exist_ok=True)
        return p

    def next_ip(self):
        """Distinct loopback addresses: 127.0.0.2, .3, ... (.1 is the tracker)."""
        ip = "127.0.0.%d" % self._ip_next
        self._ip_next += 1
        return ip

    def start(self, name, argv, cwd=None, env=None):
        logpath = self.path("%s.log" % name)
        log("start %s: %s" % (name, " ".join(argv)))
        p = Proc(name, argv, logpath, cwd=cwd, env=env)
        self.procs.append(p)
        return p

    def dump_logs(self, n=40):
        for p in self.procs:
            rc = p.poll()
            print("----- %s (pid %d, %s) log tail: %s" % (
                p.name, p.pid, "running" if rc is None else "rc %s" % rc,
                p.logpath), flush=True)
            print(p.tail(n), flush=True)
        print("----- end of logs", flush=True)

    def add_cleanup(self, fn):
        """fn() runs at cleanup once every process is killed, before the
        temp dir is removed (e.g. to unmount something inside it)."""
        self._cleanups.append(fn)

    def cleanup(self, failed=False):
        for p in reversed(self.procs):
            p.kill_group()
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as e:  # one failing cleanup must not skip the rest
                print("cleanup failed: %s" % e, flush=True)
        if failed and self.keep_on_fail:
            print("kept workspace %s" % self.dir, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _on_signal(self, signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    def _on_alarm(self, signum, frame):
        raise TimeoutError("hard timeout of %ds reached" % self.timeout)

    def __enter__(self):
        _live_workspaces.append(self)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self._old[s] = signal.signal(s, self._on_signal)
        self._old[signal.SIGALRM] = signal.signal(signal.SIGALRM, self._on_alarm)
        if self.timeout:
            signal.alarm(int(self.timeout))
        log("workspace %s (hard timeout %ss)" % (self.dir, self.timeout))
        return self

    def __exit__(self, et, ev, tb):
        signal.alarm(0)
        failed = et is not None
        if failed:
            print("FAILED: %s: %s" % (et.__name__, ev), flush=True)
            try:
                self.dump_logs()
            except Exception as e:  # never mask the real failure
                print("(could not dump logs: %s)" % e)
        self.cleanup(failed)
        for s, h in self._old.items():
            signal.signal(s, h)
        if self in _live_workspaces:
            _live_workspaces.remove(self)
        return False


def run_main(fn):
    """Runs a test's main(); exit status 0 on success, 1 with the reason."""
    try:
        fn()
    except (Fail, TimeoutError, KeyboardInterrupt, AssertionError) as e:
        print("FAIL: %s" % e, flush=True)
        sys.exit(1)
    print("PASS", flush=True)
    sys.exit(0)


def run_side_by_side(cases):
    """{name: fn} run at once, each in a thread (independent parts of a test
    that mostly wait on the network); returns {name: result}, or raises the
    first failure in the calling thread.  The parts must not call
    ws.next_ip() themselves: hand each its addresses beforehand."""
    import threading
    results, errors = {}, []

    def run(name, fn):
        try:
            results[name] = fn()
        except BaseException as e:  # re-raised in the calling thread
            errors.append(e)
    threads = [threading.Thread(target=run, args=kv, daemon=True) for kv in cases.items()]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    if errors:
        raise errors[0]
    return results


# ---------------------------------------------------------------- mounts

def mount_tmpfs(ws, path, size, read_only=False):
    """Mounts a tmpfs of `size` ("40m") at path (created if needed); it is
    unmounted at the workspace's cleanup, however the test ends.  Fails (never
    skips) if the mount is refused: tests using it run as root."""
    os.makedirs(path, exist_ok=True)
    opts = "size=%s,mode=0755%s" % (size, ",ro" if read_only else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path],
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise Fail("cannot mount a %s tmpfs at %s (run as root): %s"
                   % (size, path, (r.stderr or r.stdout).strip()))

    def unmount():
        if subprocess.run(["umount", path], capture_output=True, timeout=20).returncode != 0:
            subprocess.run(["umount", "-l", path], capture_output=True, timeout=20)
    ws.add_cleanup(unmount)
    log("mounted a %s tmpfs%s at %s" % (size, " (read-only)" if read_only else "", path))
    return path


# ---------------------------------------------------------------- data

def write_random_file(path, size, seed):
    """Deterministic pseudo-random bytes (seeded), written in 4 MiB chunks."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 4 * MiB)
            f.write(rng.randbytes(n))
            left -= n


def make_tree(root, files, seed=1):
    """files: list of (relative path, size). Returns the total size."""
    total = 0
    for i, (rel, size) in enumerate(files):
        write_random_file(os.path.join(root, rel), size, seed * 1000 + i)
        total += size
    return total


def uneven_layout(total, piece, n_files=7, seed=5):
    """(rel path, size) list summing to `total`, with sizes that are not
    multiples of the piece size (so pieces span files), nested dirs, one
    file smaller than a block and one of exactly one byte."""
    rng = random.Random(seed)
    files = [("readme.txt", 1), ("sub/tiny.bin", 3 * KiB + 7)]
    rest = total - sum(s for _, s in files)
    weights = [rng.uniform(0.3, 1.7) for _ in range(n_files)]
    sizes = [int(rest * w / sum(weights)) for w in weights]
    sizes[-1] += rest - sum(sizes)
    for i, s in enumerate(sizes):
        if s % piece == 0:        # keep every boundary off the piece grid
            sizes[i] -= 13
            sizes[(i + 1) % len(sizes)] += 13
    for i, s in enumerate(sizes):
        d = "sub/deeper" if i % 3 == 2 else ("sub" if i % 3 == 1 else "")
        files.append((os.path.join(d, "part%02d.dat" % i), s))
    return files


def tree_digest(path):
    """{relative path: (size, sha1)} of a file or of every file in a tree."""
    out = {}
    if os.path.isfile(path):
        items = [(os.path.basename(path), path)]
    else:
        items = []
        for d, _, names in os.walk(path):
            for n in names:
                full = os.path.join(d, n)
                items.append((os.path.relpath(full, path), full))
    for rel, full in items:
        h = hashlib.sha1()
        with open(full, "rb") as f:
            while True:
                b = f.read(4 * MiB)
                if not b:
                    break
                h.update(b)
        out[rel] = (os.path.getsize(full), h.hexdigest())
    return out


def assert_same_data(expected, actual, what):
    """Byte-for-byte comparison (by SHA-1 of every file) of two files/trees.
    Extra files in `actual` (e.g. client temp files) are an error."""
    check(os.path.exists(actual), "%s: %s does not exist" % (what, actual))
    a, b = tree_digest(expected), tree_digest(actual)
    if a != b:
        missing = sorted(set(a) - set(b))
        extra = sorted(set(b) - set(a))
        differ = sorted(k for k in set(a) & set(b) if a[k] != b[k])
        raise Fail("%s: data differs from the original: missing %s, extra %s, "
                   "differ %s" % (what, missing[:5], extra[:5],
                                  [(k, a[k][0], b[k][0]) for k in differ[:5]]))
    log("%s: %d file(s) byte-identical" % (what, len(a)))


# ---------------------------------------------------------------- torrents

def make_torrent(content_path, out_path, piece_size, announce):
    """A v1-only torrent (no pad files) of a file or directory, made with
    libtorrent; announce None makes a trackerless one (DHT only). Returns
    (info_hash hex, total size, num pieces)."""
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, content_path)
    check(fs.num_files() > 0, "no files under %s" % content_path)
    ct = lt.create_torrent(fs, piece_size, flags=lt.create_torrent.v1_only)
    if announce:
        ct.add_tracker(announce)
    ct.set_creator("btl_harness")
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(content_path)))
    data = lt.bencode(ct.generate())
    with open(out_path, "wb") as f:
        f.write(data)
    ti = lt.torrent_info(out_path)
    for i in range(ti.files().num_files()):
        check(not (ti.files().file_flags(i) & lt.file_storage.flag_pad_file),
              "libtorrent added a pad file to %s" % out_path)
    return str(ti.info_hash()), ti.total_size(), ti.num_pieces()


def torrent_info_hash(torrent_path):
    import libtorrent as lt
    return str(lt.torrent_info(torrent_path).info_hash())


# ---------------------------------------------------------------- tracker

class Tracker:
    """opentracker on 127.0.0.1 (Debian's build is whitelist-only and reads
    the whitelist at start): pick the port first (announce URL for the
    torrents), then start() with the info-hashes."""

    def __init__(self, ws, ip="127.0.0.1"):
        self.ws = ws
        self.ip = ip
        self.port = free_port(ip)
        self.announce = "http://%s:%d/announce" % (ip, self.port)
        self.proc = None

    def start(self, info_hashes):
        # opentracker chroots into -d (default: cwd) and drops to `nobody`
        # before it reads the whitelist: give it a world-readable dir of its
        # own and a path relative to it.
        tdir = self.ws.mkdir("tracker-%d" % self.port)
        os.chmod(tdir, 0o755)
        self.whitelist = os.path.join(tdir, "whitelist")
        with open(self.whitelist, "w") as f:
            for h in info_hashes:
                f.write(h + "\n")
        os.chmod(self.whitelist, 0o644)
        self.proc = self.ws.start("opentracker", [
            "opentracker", "-i", self.ip, "-p", str(self.port),
            "-P", str(self.port), "-d", tdir, "-w", "whitelist"], cwd=tdir)
        wait_listening(self.ip, self.port, 10, self.proc)
        return self

    def scrape(self, info_hash_hex):
        """{'complete', 'incomplete', 'downloaded'} for one torrent."""
        ih = urllib.parse.quote_from_bytes(bytes.fromhex(info_hash_hex))
        url = "http://%s:%d/scrape?info_hash=%s" % (self.ip, self.port, ih)
        with urllib.request.urlopen(url, timeout=5) as r:
            body = r.read()
        d = bdecode(body)
        files = d.get(b"files", {})
        st = files.get(bytes.fromhex(info_hash_hex), {})
        return {k.decode(): v for k, v in st.items()}

    def stop(self):
        self.proc.kill_group()


def bdecode(b):
    """Minimal bencode decoder for tracker replies (trusted, test-only)."""
    def dec(i):
        c = b[i:i + 1]
        if c == b"i":
            j = b.index(b"e", i)
            return int(b[i + 1:j]), j + 1
        if c == b"l":
            i, out = i + 1, []
            while b[i:i + 1] != b"e":
                v, i = dec(i)
                out.append(v)
            return out, i + 1
        if c == b"d":
            i, out = i + 1, {}
            while b[i:i + 1] != b"e":
                k, i = dec(i)
                v, i = dec(i)
                out[k] = v
            return out, i + 1
        j = b.index(b":", i)
        n = int(b[i:j])
        return b[j + 1:j + 1 + n], j + 1 + n
    v, end = dec(0)
    assert end == len(b), "trailing bytes after the bencoded value"
    return v


def bencode(v):
    """Bencode with sorted dict keys (str keys and values are UTF-8)."""
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        out = b"d"
        for k in sorted(v, key=lambda k: k.encode() if isinstance(k, str) else k):
            out += bencode(k) + bencode(v[k])
        return out + b"e"
    raise TypeError(type(v))


# ---------------------------------------------------------------- status files

def read_json(path):
    """The JSON object in `path`, or None if missing/half-written."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json_atomic(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


# ---------------------------------------------------------------- libtorrent

class LtPeer:
    """A libtorrent session in its own python process (see lt_peer_main).

    status() -> dict with state, progress, downloaded, uploaded (payload
    bytes this session), peers, seeds, finished, seeding, announces."""

    def __init__(self, ws, name, torrent, save_dir, ip, seed=False,
                 upload_limit=0, download_limit=0, exit_when_done=False,
                 connect=(), port=None, high_performance=False, max_requests=0,
                 magnet=None, plugins=True, connect_later=(), encryption=None, utp=False, utp_only=False):
        self.ws = ws
        self.name = name
        self.ip = ip
        self.port = port or free_port(ip)
        self.status_path = ws.path("%s.status.json" % name)
        # magnet: a magnet URI instead of the .torrent (libtorrent fetches
        # the metadata from peers); plugins=False: no ut_pex/ut_metadata.
        argv = [PY, os.path.join(HERE, "btl_harness.py"), "lt-peer",
                "--torrent", magnet or torrent, "--save", save_dir, "--ip", ip,
                "--port", str(self.port), "--status", self.status_path]
        if seed:
            argv.append("--seed-mode")
        if upload_limit:
            argv += ["--upload-limit", str(int(upload_limit))]
        if download_limit:
            argv += ["--download-limit", str(int(download_limit))]
        if exit_when_done:
            argv.append("--exit-when-done")
        if high_performance:
            argv.append("--high-performance")
        if max_requests:
            argv += ["--max-requests", str(int(max_requests))]
        if not plugins:
            argv.append("--no-plugins")
        if encryption:
            argv += ["--encryption", encryption]
        if utp:
            argv.append("--utp")
        if utp_only:
            argv.append("--utp-only")
        for c in connect:
            argv += ["--connect", "%s:%d" % c]
        for c in connect_later:  # dialled once the first peer is connected
            argv += ["--connect-later", "%s:%d" % c]
        self.proc = ws.start(name, argv)

    def status(self):
        return read_json(self.status_path) or {}

    def uploaded(self, at_least, timeout=5):
        """Payload bytes uploaded, once at least `at_least` or after
        `timeout`: libtorrent adds a connection's bytes to the torrent's
        count on its one-second tick, so right after a fast download the
        count read can lag by up to a second."""
        deadline = time.monotonic() + timeout * TIME_SCALE
        while True:
            n = self.status().get("uploaded", 0)
            if n >= at_least or time.monotonic() > deadline:
                return n
            time.sleep(0.1)

    def wait_ready(self, timeout=20):
        """Listening and at least one tracker reply (so others can find it)."""
        wait_until(lambda: self.status().get("announces", 0) >= 1, timeout,
                   "%s to announce" % self.name, procs=[self.proc])

    def wait_seeding(self, timeout):
        wait_until(lambda: self.status().get("seeding"), timeout,
                   "%s to finish (status %s)" % (self.name, self.status_path),
                   procs=[self.proc])

    def stop(self, timeout=15):
        """SIGTERM: the peer sends `stopped` and exits 0."""
        self.proc.signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def lt_settings(lt, ip, port, upload_limit=0, download_limit=0):
    """The settings every libtorrent peer of the tests starts from: its own
    address, TCP only, no DHT/LSD/UPnP/NAT-PMP (INTEROP.md)."""
    return {
        "listen_interfaces": hostport(ip, port),
        "outgoing_interfaces": ip,
        "enable_dht": False, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "upload_rate_limit": upload_limit,
        "download_rate_limit": download_limit,
        "announce_to_all_trackers": True,
        "stop_tracker_timeout": 2,
        "alert_mask": lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification
        | lt.alert.category_t.tracker_notification,
    }


def lt_limit_loopback(lt, ses):
    """Loopback peers are in libtorrent's unlimited "local" class; put every
    address in the global class so rate limits apply."""
    f = lt.ip_filter()
    f.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
    f.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 << lt.session.global_peer_class_id)  # ::1 too
    ses.set_peer_class_filter(f)


def lt_peer_main(argv):
    import argparse
    import libtorrent as lt
    ap = argparse.ArgumentParser(prog="btl_harness.py lt-peer")
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--save", required=True)
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--seed-mode", action="store_true")
    ap.add_argument("--upload-limit", type=int, default=0, help="bytes/s")
    ap.add_argument("--download-limit", type=int, default=0, help="bytes/s")
    ap.add_argument("--exit-when-done", action="store_true")
    ap.add_argument("--high-performance", action="store_true")
    ap.add_argument("--connect", action="append", default=[], help="IP:PORT")
    ap.add_argument("--utp", action="store_true", help="uTP on as well as TCP")
    ap.add_argument("--utp-only", action="store_true", help="uTP on, TCP off both ways")
    ap.add_argument("--max-requests", type=int, default=0,
                    help="max_out_request_queue: blocks requested ahead per peer")
    ap.add_argument("--connect-later", action="append", default=[], help="IP:PORT")
    ap.add_argument("--no-plugins", action="store_true",
                    help="no default extensions (ut_pex, ut_metadata, smart ban)")
    ap.add_argument("--encryption", choices=("forced", "disabled"),
                    help="MSE/PE both ways: forced = RC4 only, disabled = plain text only")
    a = ap.parse_args(argv)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    sp = lt.high_performance_seed() if a.high_performance else {}
    sp.update(lt_settings(lt, a.ip, a.port, a.upload_limit, a.download_limit))
    if a.max_requests:
        sp["max_out_request_queue"] = a.max_requests
    if a.encryption == "forced":
        sp["out_enc_policy"] = sp["in_enc_policy"] = int(lt.enc_policy.forced)
        sp["allowed_enc_level"] = int(lt.enc_level.rc4)
    elif a.encryption == "disabled":
        sp["out_enc_policy"] = sp["in_enc_policy"] = int(lt.enc_policy.disabled)
    if a.utp or a.utp_only:
        sp["enable_outgoing_utp"] = sp["enable_incoming_utp"] = True
    if a.utp_only:
        sp["enable_outgoing_tcp"] = sp["enable_incoming_tcp"] = False
    ses = lt.session(sp, 0) if a.no_plugins else lt.session(sp)
    if a.upload_limit or a.download_limit:
        lt_limit_loopback(lt, ses)
    if a.torrent.startswith("magnet:"):
        atp = lt.parse_magnet_uri(a.torrent)
    else:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(a.torrent)
    atp.save_path = a.save
    if a.seed_mode:
        atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)
    for c in a.connect:
        ip, port = c.rsplit(":", 1)
        h.connect_peer((ip, int(port)))

    announces = 0
    errors = []
    t0 = time.monotonic()
    done_at = None
    last_write = 0
    later = list(a.connect_later)
    while not stop:
        if later and h.status().num_peers >= 1:
            for c in later:
                ip, port = c.rsplit(":", 1)
                h.connect_peer((ip, int(port)))
            later = []
        for al in ses.pop_alerts():
            if isinstance(al, lt.tracker_reply_alert):
                announces += 1
            elif isinstance(al, (lt.tracker_error_alert, lt.torrent_error_alert,
                                 lt.file_error_alert)):
                errors.append(al.message())
                print("alert:", al.message(), flush=True)
        s = h.status()
        seeding = s.is_seeding or s.state == lt.torrent_status.seeding
        if seeding and done_at is None:
            done_at = time.monotonic() - t0
            print("DONE %.3f s downloaded %d" % (done_at, s.total_payload_download),
                  flush=True)
        now = time.monotonic()
        if now - last_write >= 0.1 or seeding:
            pinfo = h.get_peer_info()
            # peer_info flag utp_socket is bit 17 (libtorrent 2.0)
            st = {"utp_peers": sum(1 for p in pinfo if int(p.flags) & (1 << 17)),
                  "tcp_peers": sum(1 for p in pinfo if not int(p.flags) & (1 << 17)),"state": str(s.state), "progress": s.progress,
                  "downloaded": s.total_payload_download,
                  "uploaded": s.total_payload_upload,
                  "down_rate": s.download_payload_rate,
                  "up_rate": s.upload_payload_rate,
                  "peers": s.num_peers, "seeds": s.num_seeds,
                  "failed_bytes": s.total_failed_bytes,
                  "finished": s.is_finished, "seeding": bool(seeding),
                  "done_after": done_at, "announces": announces,
                  "errors": errors[-5:], "listen_port": ses.listen_port()}
            write_json_atomic(a.status, st)
            last_write = now
        if seeding and a.exit_when_done:
            break
        ses.wait_for_alert(50)
    # Deleting the session announces `stopped` (bounded by stop_tracker_timeout).
    t_stop = time.monotonic()
    ses.pause()
    del h
    del ses
    print("EXIT after %.3f s (teardown %.3f s)" % (time.monotonic() - t0,
                                                   time.monotonic() - t_stop), flush=True)
    return 0


# ---------------------------------------------------------------- aria2c

class Aria2:
    """aria2c leecher that exits when the download is complete."""

    def __init__(self, ws, name, torrent, save_dir, ip, port=None, extra=()):
        self.name = name
        self.ip = ip
        self.port = port or free_port(ip)
        os.makedirs(save_dir, exist_ok=True)
        argv = ["aria2c", "--seed-time=0", "--enable-dht=false",
                "--enable-dht6=false", "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--disable-ipv6=true",
                "--interface=%s" % ip, "--listen-port=%d" % self.port,
                "--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=10",
                "--bt-stop-timeout=120", "--follow-torrent=false",
                "--file-allocation=none", "--allow-overwrite=true",
                "--auto-save-interval=0", "--console-log-level=warn",
                "--summary-interval=1", "--show-console-readout=false",
                "--no-conf=true", "-d", save_dir] + list(extra) + [torrent]
        self.proc = ws.start(name, argv)


# ---------------------------------------------------------------- ours

def btl_bin_dir():
    d = os.environ.get("BTL_BIN")
    if not d:
        d = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "bin")
    return d


# Our programs map ports on the gateway (UPnP, NAT-PMP) and multicast on the
# LAN (LSD) by default: every test and bench outside a network namespace of
# its own turns that off, so nothing leaves loopback.
NO_REACH = ["--upnp", "0", "--natpmp", "0", "--lsd", "0"]
# btlaunchmany only: no download queue (the default runs 5 at once), for the
# tests and benches that load many torrents and test something else.
NO_QUEUE = ["--max_active_downloads", "0"]


def headless_path():
    return os.path.join(btl_bin_dir(), "btdownloadheadless")


def require_headless():
    p = headless_path()
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise Fail("btdownloadheadless not found in BTL_BIN (%s)" % btl_bin_dir())
    return p


class Headless:
    """Our btdownloadheadless, observed through --status_json."""

    def __init__(self, ws, name, torrent, ip, save_in=None, saveas=None,
                 data_dir=None, seed_time=None, port=None, extra=(),
                 display_interval=1, wrapper=(), dht=False):
        self.name = name
        self.ip = ip
        self.port = port or free_port(ip)
        self.status_path = ws.path("%s.status.json" % name)
        self.data_dir = data_dir or ws.mkdir("%s.data" % name)
        argv = [require_headless(), torrent, "--bind", ip, "--ip", ip,
                "--minport", str(self.port), "--maxport", str(self.port),
                "--data_dir", self.data_dir,
                "--display_interval", str(display_interval),
                "--status_json", self.status_path]
        argv += NO_REACH
        # The DHT stays off unless a test asks for it (and then points
        # --dht_bootstrap at loopback): the default joins the public DHT.
        if not dht:
            argv += ["--dht", "0"]
        if save_in:
            argv += ["--save_in", save_in]
        if saveas:
            argv += ["--saveas", saveas]
        if seed_time is not None:
            argv += ["--seed_time", str(seed_time)]
        argv += list(extra)
        # wrapper: a command to run it under, e.g. ("prlimit", "--fsize=N", "--").
        self.proc = ws.start(name, list(wrapper) + argv)

    def status(self):
        """The first torrent's entry of the status JSON, or {}."""
        d = read_json(self.status_path)
        if not d or not d.get("torrents"):
            return {}
        return d["torrents"][0]

    def wait_state(self, states, timeout):
        return wait_until(lambda: self.status().get("state") in states and self.status(),
                          timeout, "%s to reach state %s (status %s)"
                          % (self.name, states, self.status_path),
                          procs=[self.proc])

    def stop(self, timeout=15):
        self.proc.signal(signal.SIGTERM)
        return self.proc.wait(timeout)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "lt-peer":
        sys.exit(lt_peer_main(sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
