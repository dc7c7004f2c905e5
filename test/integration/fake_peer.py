"""A scripted BitTorrent peer for hostile-peer tests (raw sockets, loopback).

FakePeer speaks the BEP 3 handshake and messages (plus the BEP 6 fast bit)
and does exactly what the test tells it, including everything a client must
never do: giant length prefixes, bad bitfields, unknown ids, lies.  Each
fake peer binds its own loopback address so bans by address can be seen.

MiniTracker is a tiny HTTP tracker (compact BEP 23 replies) that hands out
whoever announced plus any extra addresses the test adds, so fake peers
that only listen can be handed to the client under test.
"""

import hashlib
import http.server
import socket
import struct
import threading
import time
import urllib.parse

import btl_harness as H

PSTR = b"BitTorrent protocol"
CHOKE, UNCHOKE, INTERESTED, NOT_INTERESTED, HAVE, BITFIELD, REQUEST, PIECE, \
    CANCEL = range(9)
HAVE_ALL, HAVE_NONE, REJECT, ALLOWED_FAST = 14, 15, 16, 17


def frame(msg_id, payload=b""):
    return struct.pack(">IB", 1 + len(payload), msg_id) + payload


def request_payload(piece, begin, length):
    return struct.pack(">III", piece, begin, length)


class Closed(Exception):
    pass


class FakePeer:
    def __init__(self, ip, info_hash, peer_id=None, fast=True, ext=False):
        self.ip = ip
        self.info_hash = info_hash          # bytes(20)
        # One id per address, the same in every run: Python's hash() of
        # (ip, i) gave two addresses the same id now and then, and the seed
        # then dropped one as a duplicate connection.
        self.peer_id = peer_id or (b"-FK0001-" + bytes(
            (b & 0x3f) + 0x30 for b in hashlib.sha1(ip.encode()).digest()[:12]))
        self.fast = fast
        self.ext = ext                      # sets the BEP 10 extension bit
        self.sock = None
        self.buf = b""
        self.remote_handshake = None

    # ---- connections
    def connect(self, host, port, timeout=5.0):
        s = socket.socket(socket.AF_INET6 if ":" in self.ip else socket.AF_INET, socket.SOCK_STREAM)
        s.bind((self.ip, 0))
        s.settimeout(timeout)
        s.connect((host, port))
        self.sock = s
        self.buf = b""
        return self

    def adopt(self, sock):
        self.sock = sock
        self.buf = b""
        return self

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    # ---- sending
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_handshake(self, info_hash=None, peer_id=None):
        reserved = bytearray(8)
        if self.fast:
            reserved[7] |= 0x04
        if self.ext:
            reserved[5] |= 0x10
        self.send_raw(bytes([len(PSTR)]) + PSTR + bytes(reserved)
                      + (info_hash or self.info_hash) + (peer_id or self.peer_id))

    def send(self, msg_id, payload=b""):
        self.send_raw(frame(msg_id, payload))

    # ---- receiving
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no data within the time limit")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no data within the time limit")
            except (ConnectionResetError, BrokenPipeError):
                raise Closed("reset")
            if not chunk:
                raise Closed("eof")
            self.buf += chunk

    def read_handshake(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        self._fill(68, deadline)
        hs, self.buf = self.buf[:68], self.buf[68:]
        H.check(hs[0] == 19 and hs[1:20] == PSTR, "not a handshake: %r" % hs[:20])
        self.remote_handshake = (hs[20:28], hs[28:48], hs[48:68])
        return self.remote_handshake

    def read_msg(self, timeout=10.0):
        """(id, payload); id None for a keep-alive."""
        deadline = time.monotonic() + timeout
        self._fill(4, deadline)
        (n,) = struct.unpack(">I", self.buf[:4])
        self._fill(4 + n, deadline)
        body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        if n == 0:
            return None, b""
        return body[0], body[1:]

    def read_until(self, want_id, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            mid, payload = self.read_msg(max(0.01, deadline - time.monotonic()))
            if mid == want_id:
                return payload

    def wait_closed(self, timeout):
        """True if the other side closes the connection within timeout
        (everything it sends meanwhile is read and dropped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
        return False

    def still_open(self, seconds):
        return not self.wait_closed(seconds)


def refused(ip, host, port, info_hash, timeout=5.0):
    """True if a connection from `ip` is closed without a handshake reply
    (what a banned address sees)."""
    p = FakePeer(ip, info_hash)
    try:
        p.connect(host, port, timeout)
        p.send_handshake()
        p.read_handshake(timeout)
        return False
    except (Closed, ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    finally:
        p.close()


def closes_silently(host, port, first_bytes, timeout=5.0, silence_counts=False):
    """True if the peer at host:port closes the connection after first_bytes
    without sending a byte back.  A peer that stays silent and open for
    `timeout` counts as closing only with silence_counts (a peer that drops
    an unknown handshake may wait for more bytes first)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(first_bytes)
        s.settimeout(timeout)
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            return silence_counts and got == b""
        except ConnectionResetError:
            pass
        return got == b""
    finally:
        s.close()


class PieceSource:
    """The torrent's data, to answer requests (honestly or not)."""

    def __init__(self, path, piece_length):
        with open(path, "rb") as f:
            self.data = f.read()
        self.piece_length = piece_length

    def block(self, piece, begin, length):
        off = piece * self.piece_length + begin
        return self.data[off:off + length]


# ---------------------------------------------------------------- tracker

class MiniTracker:
    """HTTP tracker on 127.0.0.1: answers every announce with the compact
    list of everyone else who announced plus `extra` (ip, port) pairs."""

    def __init__(self, ip="127.0.0.1"):
        self.ip = ip
        self.peers = {}      # (ip, port) -> last announce time
        self.extra = []
        self.lock = threading.Lock()
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                q = urllib.parse.urlparse(self.path)
                args = urllib.parse.parse_qs(q.query)
                ip = args.get("ip", [self.client_address[0]])[0]
                port = int(args.get("port", ["0"])[0])
                me = (ip, port)
                with tracker.lock:
                    if args.get("event", [""])[0] == "stopped":
                        tracker.peers.pop(me, None)
                    elif port:
                        tracker.peers[me] = time.monotonic()
                    others = [p for p in list(tracker.peers) + tracker.extra if p != me]
                compact = b"".join(socket.inet_aton(i) + struct.pack(">H", p)
                                   for i, p in others)
                body = H.bencode({"interval": 5, "min interval": 2, "peers": compact})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer((ip, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.announce = "http://%s:%d/announce" % (ip, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def add(self, ip, port):
        with self.lock:
            self.extra.append((ip, port))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def listen_on(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, 0))
    s.listen(16)
    return s


def read_log(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def wait_log(path, needle, timeout, what=None):
    """Waits until `needle` (a str, or a list of strs that must all appear on
    one line) is in the log; returns that line."""
    needles = [needle] if isinstance(needle, str) else list(needle)

    def find():
        for line in read_log(path).splitlines():
            if all(n in line for n in needles):
                return line
        return None
    return H.wait_until(find, timeout, what or "log line with %r in %s" % (needles, path))
