#!/usr/bin/python3
"""Issue 12, defect 5: the programs agree.

1. btlaunchmany and btdownloadheadless both create a --save_in that does
   not exist yet, and say so (btlaunchmany refused it before).
2. Our peer id starts with -BM (-BL is BitBlinder's): checked in the
   announce a tracker receives.
Loopback only: btdownloadheadless 127.0.0.2, btlaunchmany 127.0.0.3."""

import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402


class PeerIdTracker:
    """Records the peer_id of every announce; answers with no peers."""

    def __init__(self):
        self.peer_ids = []
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, encoding="latin-1")
                tracker.peer_ids.append(q.get("peer_id", [""])[0])
                body = b"d8:intervali1800e5:peers0:e"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.announce = "http://127.0.0.1:%d/announce" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main():
    H.require_headless()
    with H.Workspace("save-in-peer-id", timeout=90) as ws:
        tr = PeerIdTracker()
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "f.bin"), 50_000, 3)
        tor = ws.path("f.torrent")
        H.make_torrent(os.path.join(src, "f.bin"), tor, 16384, tr.announce)

        # btdownloadheadless: a --save_in two levels below nothing.
        save1 = ws.path("new1", "deeper")
        me = H.Headless(ws, "headless", tor, "127.0.0.2", save_in=save1)
        H.wait_until(lambda: "created save directory %s" % save1 in open(me.proc.logpath, "rb").read().decode(),
                     15, "btdownloadheadless to say it created %s" % save1, procs=[me.proc])
        H.check(os.path.isdir(save1), "%s was not created" % save1)
        H.wait_until(lambda: tr.peer_ids, 15, "an announce", procs=[me.proc])
        H.check(me.stop() == 0, "btdownloadheadless did not stop cleanly")
        H.log("peer ids seen: %r" % tr.peer_ids)
        H.check(all(p.startswith("-BM") for p in tr.peer_ids), "peer ids not -BM: %r" % tr.peer_ids)

        # btlaunchmany: the same, said in its log.
        save2 = ws.path("new2", "deeper")
        lau = L.Launcher(ws, "btl", ws.mkdir("watch"), save2, ws.mkdir("data"), "127.0.0.3",
                         H.free_port("127.0.0.3"))
        H.wait_until(lambda: "created save directory %s" % save2 in lau.log_text(), 15,
                     "btlaunchmany to say it created %s" % save2, procs=[lau.proc])
        H.check(os.path.isdir(save2), "%s was not created" % save2)
        lau.proc.signal()
        H.check(lau.proc.wait(15) == 0, "btlaunchmany did not stop cleanly")

        # A --save_in that exists but is a file is still refused, exit 1.
        blocker = ws.path("a_file")
        open(blocker, "w").close()
        lau2 = L.Launcher(ws, "btl2", ws.mkdir("watch2"), blocker, ws.mkdir("data2"), "127.0.0.3",
                          H.free_port("127.0.0.3"))
        rc = lau2.proc.wait(15)
        H.check(rc == 1, "btlaunchmany with a file as --save_in exited %s, expected 1" % rc)
        H.check("--save_in is not a directory" in lau2.log_text(), "no reason given: %s" % lau2.log_text())


if __name__ == "__main__":
    H.run_main(main)
