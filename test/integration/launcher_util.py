"""Helpers for the btlaunchmany hardening tests (test_launcher_hostile,
test_launcher_kill9, test_launcher_locks, test_launcher_signals): running
btlaunchmany in plain mode, a tiny recording HTTP tracker, reading resume
files and checking the pieces they claim against the data on disk, and
snapshots of a directory tree."""

import base64
import fcntl
import hashlib
import json
import os
import socket
import struct
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import btl_harness as H


def launcher_path():
    p = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    H.check(os.path.isfile(p) and os.access(p, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
    return p


class Launcher:
    """btlaunchmany --display plain, observed through --status_json."""

    def __init__(self, ws, name, watch, save_in, data_dir, ip, port, extra=(), env=None, cwd=None,
                 status_path=None, interval="0.2"):
        self.name = name
        self.ip, self.port, self.data_dir = ip, port, data_dir
        self.status_path = status_path or ws.path("%s.status.json" % name)
        # --dht 0: nothing leaves the machine (the default joins the public DHT).
        self.argv = [launcher_path(), "--dht", "0", watch, "--display", "plain", "--save_in", save_in,
                     "--data_dir", data_dir, "--bind", ip, "--ip", ip, "--minport", str(port),
                     "--maxport", str(port), "--display_interval", interval,
                     "--status_json", self.status_path, "--rpc_port", "0"] + H.NO_REACH + H.NO_QUEUE + list(extra)
        e = dict(os.environ, LANG="C.UTF-8")
        e.update(env or {})
        self.proc = ws.start(name, self.argv, env=e, cwd=cwd)

    def doc(self):
        return H.read_json(self.status_path) or {}

    def rows(self):
        return {r["file"]: r for r in self.doc().get("torrents", [])}

    def wait(self, pred, timeout, what, interval=0.1):
        return H.wait_until(lambda: pred(self.rows()), timeout, what, procs=[self.proc], interval=interval)

    def log_text(self):
        with open(self.proc.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")


# ---------------------------------------------------------------- torrents

class Rpc:
    """A Transmission RPC client of the launcher's --rpc_port on 127.0.0.1:
    the session-id handshake (409, then the id it gave), basic auth if given."""

    def __init__(self, port, auth=None, timeout=10):
        self.url = "http://127.0.0.1:%d/transmission/rpc" % port
        self.auth, self.timeout, self.sid = auth, timeout, ""

    def call(self, method, **args):
        """The whole answer: {"result": ..., "arguments": ...}."""
        body = json.dumps({"method": method, "arguments": args}).encode()
        for _ in range(3):
            headers = {"X-Transmission-Session-Id": self.sid}
            if self.auth:
                headers["Authorization"] = "Basic " + base64.b64encode(self.auth.encode()).decode()
            try:
                with urllib.request.urlopen(urllib.request.Request(self.url, data=body, headers=headers),
                                            timeout=self.timeout) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 409:
                    raise
                self.sid = e.headers.get("X-Transmission-Session-Id", "")
        raise H.Fail("no session id from %s" % self.url)

    def ok(self, method, **args):
        """The arguments of an answer that must be "success"."""
        doc = self.call(method, **args)
        H.check(doc["result"] == "success", "%s %s: %s" % (method, args, doc["result"]))
        return doc.get("arguments", {})


class TorrentFile:
    """What the tests need from a .torrent: info-hash, piece hashes and the
    file list (relative paths, lengths) in stream order."""

    def __init__(self, path):
        raw = open(path, "rb").read()
        d = H.bdecode(raw)
        info = d[b"info"]
        self.info_hash = hashlib.sha1(H.bencode(info)).hexdigest()
        self.name = info[b"name"].decode()
        self.piece_length = info[b"piece length"]
        p = info[b"pieces"]
        self.hashes = [p[i:i + 20] for i in range(0, len(p), 20)]
        if b"files" in info:
            self.files = [(os.path.join(*[e.decode() for e in f[b"path"]]), f[b"length"]) for f in info[b"files"]]
            self.multi = True
        else:
            self.files = [("", info[b"length"])]
            self.multi = False
        self.total = sum(n for _, n in self.files)

    def num_pieces(self):
        return len(self.hashes)

    def piece_size(self, i):
        return min(self.piece_length, self.total - i * self.piece_length)

    def read_piece(self, root, i):
        """Bytes of piece i from the data under `root` (save_in/NAME), or None
        if a file is missing or short."""
        want_off, want_len = i * self.piece_length, self.piece_size(i)
        out = b""
        off = 0
        for rel, n in self.files:
            a, b = max(off, want_off), min(off + n, want_off + want_len)
            if a < b:
                fp = os.path.join(root, rel) if self.multi else root
                try:
                    with open(fp, "rb") as f:
                        f.seek(a - off)
                        chunk = f.read(b - a)
                except OSError:
                    return None
                if len(chunk) != b - a:
                    return None
                out += chunk
            off += n
        return out

    def good_pieces(self, root):
        """Indices of pieces whose on-disk bytes match their hash."""
        good = set()
        for i in range(self.num_pieces()):
            b = self.read_piece(root, i)
            if b is not None and hashlib.sha1(b).digest() == self.hashes[i]:
                good.add(i)
        return good


def resume_file(data_dir, info_hash):
    return os.path.join(data_dir, "resume", info_hash + ".resume")


def read_resume(data_dir, info_hash):
    """None if absent; otherwise the decoded dict.  Fails if the file is not
    one complete bencoded dictionary (a torn write)."""
    p = resume_file(data_dir, info_hash)
    try:
        raw = open(p, "rb").read()
    except FileNotFoundError:
        return None
    try:
        d = H.bdecode(raw)
    except Exception as e:  # truncated documents raise ValueError/IndexError
        raise H.Fail("resume file %s (%d bytes) is not a complete bencoded document: %r" % (p, len(raw), e))
    H.check(isinstance(d, dict) and b"have" in d and b"pieces" in d, "resume file %s lacks fields: %s"
            % (p, sorted(d) if isinstance(d, dict) else type(d)))
    return d


def claimed_pieces(resume):
    n, bits = resume[b"pieces"], resume[b"have"]
    return {i for i in range(n) if bits[i // 8] & (0x80 >> (i % 8))}


# ---------------------------------------------------------------- tracker

class MiniTracker:
    """An HTTP tracker on 127.0.0.1 that records every announce (info-hash,
    event, ip, port, left) and hands out compact peer lists.  For tests that
    must see what a client told the tracker, `stopped` above all."""

    def __init__(self, ws=None):
        self.events = []
        self.peers = {}
        self.lock = threading.Lock()
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query, encoding="latin-1")
                body = tracker._announce(q, self.client_address[0]) if u.path == "/announce" else b"d14:failure reason9:not founde"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.announce = "http://127.0.0.1:%d/announce" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _announce(self, q, src_ip):
        ih = q.get("info_hash", [""])[0].encode("latin-1").hex()
        ip = q.get("ip", [src_ip])[0]
        port = int(q.get("port", ["0"])[0])
        ev = {"info_hash": ih, "event": q.get("event", [""])[0], "ip": ip, "port": port,
              "left": int(q.get("left", ["-1"])[0])}
        with self.lock:
            self.events.append(ev)
            peers = self.peers.setdefault(ih, {})
            if ev["event"] == "stopped":
                peers.pop((ip, port), None)
            else:
                peers[(ip, port)] = True
            others = [p for p in peers if p != (ip, port)]
        compact = b"".join(socket.inet_aton(a) + struct.pack(">H", b) for a, b in others)
        return b"d8:intervali1800e12:min intervali5e5:peers%d:%se" % (len(compact), compact)

    def events_for(self, ip=None, event=None):
        with self.lock:
            return [e for e in self.events if (ip is None or e["ip"] == ip) and (event is None or e["event"] == event)]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- files

def snapshot(root, exclude=()):
    """{relative path: (kind, size, mtime_ns, sha1 or link target)} of every
    entry under root (symlinks not followed), skipping paths under `exclude`
    (absolute paths)."""
    ex = [os.path.abspath(e) for e in exclude]
    out = {}
    for d, dirs, files in os.walk(root, followlinks=False):
        for n in dirs + files:
            full = os.path.join(d, n)
            if any(full == e or full.startswith(e + os.sep) for e in ex):
                continue
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = ("link", 0, 0, os.readlink(full))
            elif os.path.isdir(full):
                out[rel] = ("dir", 0, 0, "")
            else:
                h = hashlib.sha1(open(full, "rb").read()).hexdigest()
                out[rel] = ("file", st.st_size, st.st_mtime_ns, h)
        dirs[:] = [x for x in dirs if not os.path.islink(os.path.join(d, x))]
    return out


def engine_pid(data_dir):
    """The pid an engine wrote in data_dir's btlaunchmany.lock, 0 if none."""
    try:
        return int(open(os.path.join(data_dir, "btlaunchmany.lock")).read().strip() or 0)
    except (OSError, ValueError):
        return 0


def pid_alive(pid):
    """True while pid runs; a zombie (its parent may not have reaped it yet) is gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return open("/proc/%d/stat" % pid).read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def kill_engine(data_dir):
    """SIGKILL for a detached engine a test left behind (it is no child of the test)."""
    pid = engine_pid(data_dir)
    if pid_alive(pid):
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


def lock_is_free(path):
    """True if nobody holds a flock on `path` (or it does not exist)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def torrent_lock_path(data_dir):
    return os.path.join(data_dir, "resume", "torrents.lock")


def torrent_lock_holder(data_dir, info_hash_hex):
    """The pid of the process holding the torrent's byte in
    DATA_DIR/resume/torrents.lock (a POSIX record lock at offset = first 8
    info-hash bytes big-endian, masked to 62 bits) or claiming it in
    torrents.lock.claims (btlaunchmany), 0 if none.  F_GETLK
    reports other processes' locks only, so this sees the programs under
    test, never this one (which must not lock that file: closing our fd
    would drop our own locks, not theirs)."""
    try:
        fd = os.open(torrent_lock_path(data_dir), os.O_RDONLY)
    except FileNotFoundError:
        return 0
    try:
        off = int(info_hash_hex[:16], 16) & ((1 << 62) - 1)
        # x86-64 struct flock: short l_type, short l_whence, pad, off_t l_start,
        # off_t l_len, pid_t l_pid, pad.  F_WRLCK asks about any lock.
        fl = struct.pack("hhxxxxqqixxxx", fcntl.F_WRLCK, os.SEEK_SET, off, 1, 0)
        l_type, _, _, _, pid = struct.unpack("hhxxxxqqixxxx", fcntl.fcntl(fd, fcntl.F_GETLK, fl))
        if l_type != fcntl.F_UNLCK:
            return pid
        # btlaunchmany holds one lock at byte 2^62 and lists its torrents'
        # keys in torrents.lock.claims ("pid N", then "+KEY"/"-KEY" lines).
        fl = struct.pack("hhxxxxqqixxxx", fcntl.F_WRLCK, os.SEEK_SET, 1 << 62, 1, 0)
        l_type, _, _, _, pid = struct.unpack("hhxxxxqqixxxx", fcntl.fcntl(fd, fcntl.F_GETLK, fl))
        if l_type == fcntl.F_UNLCK:
            return 0
        try:
            lines = open(torrent_lock_path(data_dir) + ".claims").read().splitlines()
        except OSError:
            return 0
        if not lines or lines[0] != "pid %d" % pid:
            return 0
        held = False
        for line in lines[1:]:
            if line[1:] == "%016x" % off:
                held = line[0] == "+"
        return pid if held else 0
    finally:
        os.close(fd)


def sig_ignored(pid, signum):
    """Whether /proc/PID/status says signal `signum` is ignored."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    raise H.Fail("no SigIgn line for pid %d" % pid)
