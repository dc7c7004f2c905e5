#!/usr/bin/python3
"""Every JSON document is valid UTF-8, whatever bytes the user and the world
hand us (issue 11: a .torrent whose file name is not UTF-8 made
--status_json invalid).

Three .torrent files copied from a Latin-1 share are dropped into the
watched directory of `btlaunchmany --display plain --status_json FILE`: a
single-file torrent named b"caf\\xe9.bin" in b"caf\\xe9.torrent", a
multi-file torrent whose name and file names are Latin-1 in
b"\\xe9t\\xe9.torrent", and a broken one, b"\\xff broken.torrent".  Their
tracker refuses them with a Latin-1 failure reason.  The status file must
decode as strict UTF-8 and parse as JSON, with every invalid byte written
as %XX, the torrent names as btshowmetainfo --json prints them (which must
be strict UTF-8 too, Latin-1 comment and "created by" included).  btdownloadheadless --status_json on the same
torrent, against the same tracker, must be valid too, and so must the
plain view's log lines.  Tracker 127.0.0.1,
us 127.0.0.2 and 127.0.0.3: nothing leaves loopback."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

REASON = b"refus\xe9 (caf\xe9)"  # Latin-1, as an old tracker would say it


class RefusingTracker:
    """An HTTP tracker on 127.0.0.1 that refuses every announce with REASON."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                body = b"d14:failure reason%d:%se" % (len(REASON), REASON)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.announce = "http://127.0.0.1:%d/announce" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def torrent_bytes(announce, info):
    """A .torrent with random piece hashes: nothing is ever downloaded."""
    total = info.get(b"length") or sum(f[b"length"] for f in info[b"files"])
    info[b"piece length"] = 16384
    info[b"pieces"] = os.urandom(20 * ((total + 16383) // 16384))
    return H.bencode({b"announce": announce.encode(), b"comment": b"r\xe9sum\xe9 \x01",
                      b"created by": b"\xffmaker", b"info": info})


def strict_json(raw, what):
    """raw decoded as strict UTF-8 and parsed as strict JSON, or a failure
    that shows the offending bytes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise H.Fail("%s is not valid UTF-8 (%s): %r" % (what, e.reason, raw[max(0, e.start - 40):e.end + 40]))
    try:
        return json.loads(text)
    except ValueError as e:
        raise H.Fail("%s is not valid JSON (%s): %r" % (what, e, text[:300]))


def read_status(path):
    """The status document, or None while the file does not exist yet.  It
    is replaced by rename, so any file there is a whole document: a decoding
    failure is a real one."""
    try:
        raw = open(path, "rb").read()
    except FileNotFoundError:
        return None
    return strict_json(raw, "status file %s" % path)


def show_json(path):
    r = subprocess.run([os.path.join(H.btl_bin_dir(), "btshowmetainfo"), "--json", path],
                       capture_output=True, timeout=30)
    H.check(r.returncode == 0, "btshowmetainfo --json %r failed: %r" % (path, r.stderr))
    return strict_json(r.stdout.strip(), "btshowmetainfo --json %r" % path)


def refused(row):
    """True once the row shows the tracker's (escaped) refusal."""
    want = "tracker said: refus%E9 (caf%E9)"
    return want in row.get("tracker", "") and any(want in t["status"] for t in row.get("trackers", []))


def main():
    L.launcher_path()
    H.require_headless()
    with H.Workspace("status-utf8", timeout=120) as ws:
        tr = RefusingTracker()
        ws.add_cleanup(tr.stop)
        src = ws.mkdir("src")
        single = torrent_bytes(tr.announce, {b"name": b"caf\xe9.bin", b"length": 100000})
        multi = torrent_bytes(tr.announce, {b"name": b"dossier \xe9t\xe9", b"files": [
            {b"path": [b"sous-r\xe9p", b"fichier \xff.txt"], b"length": 5000},
            {b"path": [b"ok.txt"], b"length": 10}]})
        files = {b"caf\xe9.torrent": single, b"\xe9t\xe9.torrent": multi, b"\xff broken.torrent": b"not bencode"}
        for name, body in files.items():
            with open(os.path.join(os.fsencode(src), name), "wb") as f:
                f.write(body)
        shown = {n: show_json(os.path.join(os.fsencode(src), n)) for n in (b"caf\xe9.torrent", b"\xe9t\xe9.torrent")}
        H.check(shown[b"caf\xe9.torrent"]["name"] == "caf%E9.bin", "btshowmetainfo name %r"
                % shown[b"caf\xe9.torrent"]["name"])
        H.check(shown[b"\xe9t\xe9.torrent"]["files"][0]["path"] == "sous-r%E9p/fichier %FF.txt",
                "btshowmetainfo file path %r" % shown[b"\xe9t\xe9.torrent"]["files"][0]["path"])
        H.check(shown[b"caf\xe9.torrent"]["comment"] == "r%E9sum%E9 \x01"
                and shown[b"caf\xe9.torrent"]["created_by"] == "%FFmaker",
                "btshowmetainfo comment %r, created by %r" % (shown[b"caf\xe9.torrent"]["comment"],
                                                              shown[b"caf\xe9.torrent"]["created_by"]))

        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        ip = ws.next_ip()
        btl = L.Launcher(ws, "btl", watch, out, data, ip, H.free_port(ip))
        for name, body in files.items():  # written beside, then renamed in: never half a file
            tmp = os.path.join(os.fsencode(watch), b"." + name + b".tmp")
            with open(tmp, "wb") as f:
                f.write(body)
            os.rename(tmp, os.path.join(os.fsencode(watch), name))

        def rows():
            d = read_status(btl.status_path) or {}
            return {r["file"]: r for r in d.get("torrents", [])}
        want = {"caf%E9.torrent", "%E9t%E9.torrent", "%FF broken.torrent"}
        got = H.wait_until(lambda: (want <= set(rows()) and all(refused(rows()[f]) for f in want if f[0] != "%"))
                           and rows(), 30, "rows for the three Latin-1 files, refused by the tracker",
                           procs=[btl.proc])
        H.log("status rows: %s" % {f: (r["name"], r["state"]) for f, r in got.items()})
        H.check(got["caf%E9.torrent"]["name"] == shown[b"caf\xe9.torrent"]["name"],
                "status name %r differs from btshowmetainfo's" % got["caf%E9.torrent"]["name"])
        H.check(got["%E9t%E9.torrent"]["name"] == shown[b"\xe9t\xe9.torrent"]["name"] == "dossier %E9t%E9",
                "status name %r differs from btshowmetainfo's" % got["%E9t%E9.torrent"]["name"])
        H.check(got["caf%E9.torrent"]["loaded"] is True, "caf%E9.torrent is not loaded")
        H.check(got["caf%E9.torrent"]["save_path"] == os.path.join(out, "caf%E9.bin"),
                "save_path %r" % got["caf%E9.torrent"]["save_path"])
        broken = got["%FF broken.torrent"]
        H.check(broken["loaded"] is False and broken["state"] == "error" and broken["error"],
                "the broken file's row: %r" % broken)
        H.check(broken["name"] == "%FF broken.torrent", "the broken row's name %r" % broken["name"])
        H.check(btl.doc().get("errors") == 1, "errors: %r" % btl.doc().get("errors"))

        # One torrent in btdownloadheadless: its --status_json is valid too.
        plain_copy = ws.path("single.torrent")
        with open(plain_copy, "wb") as f:
            f.write(single)
        hl = H.Headless(ws, "headless", plain_copy, ws.next_ip(), save_in=ws.mkdir("hl-out"))
        doc = H.wait_until(lambda: (lambda d: d and d["torrents"] and refused(d["torrents"][0]) and d)(
                               read_status(hl.status_path)), 30, "headless status with the refusal",
                           procs=[hl.proc])
        H.check(doc["torrents"][0]["name"] == "caf%E9.bin", "headless name %r" % doc["torrents"][0]["name"])
        H.check(hl.stop() == 0, "btdownloadheadless did not exit 0 on SIGTERM")

        btl.proc.signal()
        H.check(btl.proc.wait(30) == 0, "btlaunchmany did not exit 0 on SIGTERM")
        read_status(btl.status_path)  # the last document written is valid too
        # The plain view's log (stdout) names the files as the JSON does.
        raw = open(btl.proc.logpath, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise H.Fail("the plain log is not valid UTF-8: %r" % raw[max(0, e.start - 60):e.end + 20])
        for name in ("caf%E9.torrent", "%FF broken.torrent", "tracker said: refus%E9 (caf%E9)"):
            H.check(name in text, "the plain log does not mention %r" % name)


if __name__ == "__main__":
    H.run_main(main)
