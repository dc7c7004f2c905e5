#!/usr/bin/python3
"""Scripted lying trackers for test_lying_trackers*.py, on loopback.

One process serves every case:
- HTTP on --ip: the first path component picks the lie, e.g.
  http://127.0.0.1:P/garbage/announce.  Modes: see HTTP_MODES.  With
  --tls CERT KEY the same lies are served over HTTPS (tls_certs.py).
- UDP (BEP 15): one socket per --udp MODE; modes: see UDP_MODES.

When ready it writes --ready FILE: {"http": port, "udp": {mode: port}}.
Every request is appended to --record FILE as one JSON line
{"mode", "t" (time.time()), "kind", ...} so a test can check timing
(retry with backoff) and what the client sent (event, bytes taken).

Lies that carry peers name the honest seeder (--seed IP:PORT) among them,
so a client that copes still finds the swarm.  Nothing here buffers a big
body: the 500 MB answer is streamed in 64 KiB chunks and stops when the
client hangs up."""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from btl_harness import bencode as benc  # noqa: E402

HTTP_MODES = {
    "garbage": "200 with an HTML body, not bencoded",
    "failure": "a bencoded failure reason",
    "badcompact": "compact peers of 6*n+1 bytes",
    "port0": "200 compact peers with port 0, plus the seeder",
    "interval0": "interval 0 (and min interval 0), peers = seeder",
    "hugeinterval": "interval 2^62, peers = seeder",
    "manypeers": "50,000 compact peers (the seeder 500th)",
    "trackerid": "a 1 MB tracker id to echo, interval 0, peers = seeder",
    "huge": "Content-Length 500 MB, streamed until the client hangs up",
    "drip": "headers, then one byte a second, never finishing",
    "redirect": "302 to itself, forever",
    "hangup": "closes the connection without a word",
    "error500": "HTTP 500 with an HTML page",
}
UDP_MODES = {
    "wrongtid": "answers with transaction id + 1",
    "short": "answers with 3- and 10-byte packets",
    "error": "action 3 (error) with a message",
    "silent": "never answers",
}
UDP_ERROR_TEXT = b"lying tracker: torrent banned here"
FAILURE_TEXT = "lying tracker: you are not welcome"

_lock = threading.Lock()
_record_path = None


def record(mode, kind, **kw):
    entry = {"mode": mode, "t": time.time(), "kind": kind}
    entry.update(kw)
    with _lock:
        with open(_record_path, "a") as f:
            f.write(json.dumps(entry) + "\n")




def compact(ip, port):
    return socket.inet_aton(ip) + struct.pack(">H", port)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    seed = None  # (ip, port)

    def log_message(self, fmt, *args):  # quiet: the record file says it all
        pass

    def send_body(self, body, status=200, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path)
        # "/failure-launcher/announce": the failure lie, recorded apart.
        mode = parts.path.strip("/").split("/")[0]
        record_as, mode = mode, mode.split("-")[0]
        q = urllib.parse.parse_qs(parts.query)
        event = q.get("event", [""])[0]
        seed = compact(*self.seed)
        if mode == "redirect":
            hop = int(q.get("hop", ["0"])[0])
            record(record_as, "redirect", event=event, hop=hop)
            # The same URL with a hop counter, so the loop never ends.
            query = parts.query.split("&hop=")[0] + "&hop=%d" % (hop + 1)
            self.send_response(302)
            self.send_header("Location", "%s?%s" % (parts.path, query))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        record(record_as, "announce", event=event, path_len=len(self.path))
        if mode == "hangup":
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "error500":
            return self.send_body(b"<html>Internal Server Error</html>", status=500, ctype="text/html")
        if mode == "garbage":
            return self.send_body(b"<html><body>502 Bad Gateway</body></html>", ctype="text/html")
        if mode == "failure":
            return self.send_body(benc({"failure reason": FAILURE_TEXT}))
        if mode == "badcompact":
            return self.send_body(benc({"interval": 1800, "peers": seed + b"\x01"}))
        if mode == "port0":
            peers = b"".join(compact("127.0.%d.%d" % (200, i), 0) for i in range(1, 21))
            return self.send_body(benc({"interval": 1800, "peers": peers + seed}))
        if mode == "interval0":
            return self.send_body(benc({"interval": 0, "min interval": 0, "peers": seed}))
        if mode == "hugeinterval":
            return self.send_body(benc({"interval": 1 << 62, "peers": seed}))
        if mode == "trackerid":
            return self.send_body(benc({"interval": 0, "tracker id": b"T" * 1000000, "peers": seed}))
        if mode == "manypeers":
            # 49,999 addresses where nothing listens (a refused connect
            # each), the seeder 500th: the client must cap what it keeps and
            # dial the rest a few at a time.
            bogus = [compact("127.%d.%d.%d" % (100 + (i >> 16), (i >> 8) & 255, i & 255), 9)
                     for i in range(1, 50000)]
            bogus.insert(499, seed)
            return self.send_body(benc({"interval": 1800, "peers": b"".join(bogus)}))
        if mode == "huge":
            total = 500 * 1000 * 1000
            self.send_response(200)
            self.send_header("Content-Length", str(total))
            self.end_headers()
            chunk = b"d8:intervali1800e5:peers%d:" % total + b"x" * 65536
            chunk = chunk[:65536]
            sent = 0
            try:
                while sent < total:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            record(record_as, "hung_up", sent=sent)
            return
        if mode == "drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            sent = 0
            try:
                for _ in range(600):
                    self.wfile.write(b"d")
                    self.wfile.flush()
                    sent += 1
                    time.sleep(1.0)
            except OSError:
                pass
            record(record_as, "hung_up", sent=sent)
            return
        self.send_body(b"unknown lie", status=404)


def udp_loop(name, sock):
    mode = name.split("-")[0]  # "silent-last": the silent lie, recorded apart
    while True:
        try:
            data, addr = sock.recvfrom(2048)
        except OSError:
            return
        if len(data) < 16:
            continue
        action, tid = struct.unpack(">II", data[8:16])
        record("udp_" + name, "connect" if action == 0 else "announce" if action == 1 else "action%d" % action,
               src=addr[0])
        if mode == "silent":
            continue
        if mode == "wrongtid":
            if action == 0:
                sock.sendto(struct.pack(">IIQ", 0, (tid + 1) & 0xFFFFFFFF, 0x1234), addr)
            else:
                sock.sendto(struct.pack(">IIIII", 1, (tid + 1) & 0xFFFFFFFF, 1800, 0, 1), addr)
        elif mode == "short":
            sock.sendto(b"\x00\x00\x00", addr)
            sock.sendto(struct.pack(">II", 0, tid) + b"\x00\x01", addr)
        elif mode == "error":
            sock.sendto(struct.pack(">II", 3, tid) + UDP_ERROR_TEXT, addr)


def main():
    global _record_path
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--seed", required=True, help="IP:PORT of the honest seeder")
    ap.add_argument("--udp", action="append", default=[], help="MODE or MODE-NAME, MODE one of UDP_MODES")
    ap.add_argument("--record", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    a = ap.parse_args()
    _record_path = a.record
    ip, port = a.seed.rsplit(":", 1)
    Handler.seed = (ip, int(port))
    srv = ThreadingHTTPServer((a.ip, 0), Handler)
    srv.daemon_threads = True
    if a.tls:
        import tls_certs
        tls_certs.wrap_server(srv, *a.tls)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    udp_ports = {}
    for mode in a.udp:
        if mode.split("-")[0] not in UDP_MODES:
            ap.error("unknown UDP lie %s" % mode)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a.ip, 0))
        udp_ports[mode] = s.getsockname()[1]
        threading.Thread(target=udp_loop, args=(mode, s), daemon=True).start()
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"http": srv.server_address[1], "udp": udp_ports}, f)
    os.replace(tmp, a.ready)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
