#!/usr/bin/python3
"""HTTPS trackers (issue 12), all on loopback with a throwaway test CA
(tls_certs.py):

1. A libtorrent seed (told to trust the test CA through SSL_CERT_FILE, which
   its OpenSSL reads) announces to an HTTPS tracker on 127.0.0.1; our
   btdownloadheadless --ca_file CA finds it through the same tracker and
   downloads the file byte-identical (--seed_time 0: exits 0).
2. The same tracker without --ca_file: our client refuses the certificate
   (the system store does not know the test CA) and says so.
3. A certificate for another name (tracker.invalid) and an expired one, both
   signed by the trusted test CA: refused with a clear line naming the host
   ("certificate verify failed (127.0.0.1: ...)"), in --status_json and on
   the status line, and no peers.
The tracker is a small announce responder in this process (http.server +
ssl): it keeps the peers that announced and answers with compact peers."""

import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import tls_certs  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 3 * H.MiB + 999


class Swarm:
    def __init__(self):
        self.lock = threading.Lock()
        self.peers = {}      # info_hash -> {peer_id: (ip, port)}
        self.announces = []  # (peer_id prefix, event)


def make_handler(swarm):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, encoding="latin-1")
            ih = q.get("info_hash", [""])[0].encode("latin-1")
            pid = q.get("peer_id", [""])[0].encode("latin-1")
            port = int(q.get("port", ["0"])[0])
            ip = q.get("ip", [self.client_address[0]])[0]
            with swarm.lock:
                swarm.announces.append((pid[:3].decode("latin-1"), q.get("event", [""])[0]))
                others = [a for p, a in swarm.peers.get(ih, {}).items() if p != pid]
                if q.get("event", [""])[0] != "stopped":
                    swarm.peers.setdefault(ih, {})[pid] = (ip, port)
            peers = b"".join(socket.inet_aton(a) + struct.pack(">H", p) for a, p in others)
            body = H.bencode({"interval": 60, "peers": peers})
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return Handler


def serve(ws, swarm, cert, key):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(swarm))
    srv.daemon_threads = True
    tls_certs.wrap_server(srv, cert, key)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ws.add_cleanup(srv.shutdown)
    return "https://127.0.0.1:%d/announce" % srv.server_address[1]


def main():
    H.require_headless()
    with H.Workspace("https-tracker", timeout=200) as ws:
        certs = tls_certs.make(ws.mkdir("pki"))
        swarm = Swarm()
        good = serve(ws, swarm, *certs["good"])
        src = ws.mkdir("seed")
        data = os.path.join(src, "tls.bin")
        H.write_random_file(data, SIZE, 1212)
        tor = ws.path("tls.torrent")
        ih, size, _ = H.make_torrent(data, tor, PIECE, good)

        # 1. libtorrent announces over HTTPS, trusting the test CA.
        os.environ["SSL_CERT_FILE"] = certs["ca"]
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        del os.environ["SSL_CERT_FILE"]
        seeder.wait_ready(30)
        H.check(any(p == "-LT" for p, _ in swarm.announces), "no libtorrent announce reached the HTTPS tracker: %s"
                % swarm.announces)
        H.log("libtorrent announced over HTTPS: %s" % swarm.announces)

        out = ws.mkdir("leech")
        me = H.Headless(ws, "btl-leech", tor, ws.next_ip(), save_in=out, seed_time=0,
                        extra=["--ca_file", certs["ca"]])
        rc = me.proc.wait(90)
        H.check(rc == 0, "btdownloadheadless --ca_file exited %s, expected 0" % rc)
        H.assert_same_data(data, os.path.join(out, "tls.bin"), "download through an HTTPS tracker")
        ours = [a for a in swarm.announces if a[0] != "-LT"]
        H.check(len(ours) >= 2, "our announces over HTTPS: %s (expected started and completed/stopped)" % ours)
        H.log("our client announced over HTTPS: %s" % ours)

        # 2, 3. Refusals: each a leecher that must show the reason and find no peer.
        cases = {
            "no_ca_file": (good, [], "certificate verify failed (127.0.0.1: "),
            "wrongname": (serve(ws, swarm, *certs["wrongname"]), ["--ca_file", certs["ca"]],
                          "certificate verify failed (127.0.0.1: "),
            "expired": (serve(ws, swarm, *certs["expired"]), ["--ca_file", certs["ca"]],
                        "certificate verify failed (127.0.0.1: "),
        }
        leechers = {}
        for case, (url, extra, _) in cases.items():
            t = ws.path("%s.torrent" % case)
            H.make_torrent(data, t, PIECE, url)
            leechers[case] = H.Headless(ws, case, t, ws.next_ip(), save_in=ws.mkdir("out-" + case), extra=extra)
        before = len(swarm.announces)
        for case, (url, extra, text) in cases.items():
            lee = leechers[case]
            st = H.wait_until(lambda: text in (lee.status().get("tracker") or "") and lee.status(), 30,
                              "%s: tracker status naming the refusal (status %s)" % (case, lee.status_path),
                              procs=[lee.proc])
            H.log("%s: %s" % (case, st.get("tracker")))
            time.sleep(1.5)  # a status line or two
            view = open(lee.proc.logpath, errors="replace").read()
            H.check(text in view, "%s: the status line does not show the refusal:\n%s" % (case, lee.proc.tail(5)))
            H.check(st.get("peers", 0) == 0 and st.get("downloaded", 0) == 0,
                    "%s: peers or data despite a refused tracker: %s" % (case, st))
        reasons = {c: leechers[c].status().get("tracker", "") for c in cases}
        H.check("expired" in reasons["expired"], "expired: reason does not say expired: %r" % reasons["expired"])
        H.check("tracker.invalid" in reasons["wrongname"] or "name" in reasons["wrongname"],
                "wrongname: reason does not name the mismatch: %r" % reasons["wrongname"])
        H.check(len(swarm.announces) == before, "a refused TLS connection still reached the tracker: %s"
                % swarm.announces[before:])
        for case, lee in leechers.items():
            H.check(lee.stop(20) == 0, "%s: exit status on SIGTERM" % case)


if __name__ == "__main__":
    H.run_main(main)
