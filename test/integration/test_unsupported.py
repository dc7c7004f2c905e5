#!/usr/bin/python3
"""Issue 12, defect 6: what is not supported yet says so in one line.

1. btdownloadheadless with a magnet link exits 1 with "magnet links are not
   supported yet" (it said "No such file or directory").
2. A .magnet file dropped into btlaunchmany's watch directory gets an error
   row and an error log line (it was ignored silently).
3. A v2-only torrent (BEP 52) exits 1 naming BEP 52 (it said "info has
   neither 'length' nor 'files'").
4. A trackerless torrent and a web-seed-only torrent start but say, once,
   why they will find no peer (they sat at 0 % in silence).
Loopback only: btdownloadheadless 127.0.0.2, btlaunchmany 127.0.0.3."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

MAGNET = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x"


def run_quick(ws, argv, what):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd=ws.path())
    H.log("%s: rc %d, stderr %r" % (what, r.returncode, r.stderr))
    return r


def make_lt_torrent(src, out, flags, url=None, web_seed=None):
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, src)
    ct = lt.create_torrent(fs, 16384, flags=flags)
    if url:
        ct.add_tracker(url)
    if web_seed:
        ct.add_url_seed(web_seed)
    lt.set_piece_hashes(ct, os.path.dirname(src))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


def says_once(ws, name, torrent, line):
    """btdownloadheadless starts `torrent` and prints `line` once; then stopped."""
    me = H.Headless(ws, name, torrent, "127.0.0.2", save_in=ws.mkdir(name + ".out"))
    H.wait_until(lambda: line in open(me.proc.logpath, "rb").read().decode("utf-8", "replace"),
                 15, "%s to say %r" % (name, line), procs=[me.proc])
    time.sleep(1.5)  # a status line or two later: still said only once
    text = open(me.proc.logpath, "rb").read().decode("utf-8", "replace")
    H.check(text.count(line) == 1, "%s said %r %d times:\n%s" % (name, line, text.count(line), text))
    H.check(me.stop() == 0, "%s did not stop cleanly" % name)


def main():
    exe = H.require_headless()
    with H.Workspace("unsupported", timeout=120) as ws:
        # 1. A magnet link on the command line.
        r = run_quick(ws, [exe, "--dht", "0", MAGNET, "--save_in", ws.mkdir("m")], "magnet argument")
        H.check(r.returncode == 1, "magnet argument: exit %d, expected 1" % r.returncode)
        H.check("magnet links are not supported yet" in r.stderr,
                "magnet argument: stderr does not say so: %r" % r.stderr)
        H.check(len(r.stderr.strip().splitlines()) == 1, "magnet argument: not one line: %r" % r.stderr)
        H.check("No such file" not in r.stderr, "magnet argument: still 'No such file': %r" % r.stderr)

        import libtorrent as lt
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "data.bin"), 100_000, 7)

        # 3. A v2-only torrent.
        v2 = ws.path("v2only.torrent")
        make_lt_torrent(os.path.join(src, "data.bin"), v2, lt.create_torrent.v2_only, url="http://127.0.0.1:1/announce")
        r = run_quick(ws, [exe, "--dht", "0", v2, "--save_in", ws.mkdir("v2")], "v2-only torrent")
        H.check(r.returncode == 1, "v2-only torrent: exit %d, expected 1" % r.returncode)
        H.check("BitTorrent v2-only torrent (BEP 52) is not supported yet" in r.stderr,
                "v2-only torrent: stderr does not say so: %r" % r.stderr)

        # 4. No tracker; web seeds only.
        bare = ws.path("trackerless.torrent")
        make_lt_torrent(os.path.join(src, "data.bin"), bare, lt.create_torrent.v1_only)
        says_once(ws, "trackerless", bare, "no trackers: DHT is not supported yet")
        webseed = ws.path("webseed.torrent")
        make_lt_torrent(os.path.join(src, "data.bin"), webseed, lt.create_torrent.v1_only,
                        web_seed="http://127.0.0.1:1/data.bin")
        says_once(ws, "webseed", webseed, "web seeds (BEP 19) are not supported yet")

        # 2. A .magnet file in the watch directory.
        watch = ws.mkdir("watch")
        lau = L.Launcher(ws, "btl", watch, ws.mkdir("save"), ws.mkdir("data"), "127.0.0.3", H.free_port("127.0.0.3"))
        H.wait_until(lambda: "watching" in lau.log_text(), 10, "btlaunchmany to start", procs=[lau.proc])
        with open(os.path.join(watch, "ubuntu.magnet"), "w") as f:
            f.write(MAGNET + "\n")
        err = lau.wait(lambda rows: rows.get("ubuntu.magnet", {}).get("error"), 15, "an error row for ubuntu.magnet")
        H.log("row error: %r" % err)
        H.check("magnet links are not supported yet" in err, "ubuntu.magnet row error: %r" % err)
        H.check("ubuntu.magnet: magnet links are not supported yet" in lau.log_text(),
                "no log line for ubuntu.magnet:\n%s" % lau.log_text())
        lau.proc.signal()
        H.check(lau.proc.wait(15) == 0, "btlaunchmany did not stop cleanly")


if __name__ == "__main__":
    H.run_main(main)
