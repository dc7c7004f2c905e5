#!/usr/bin/python3
"""Flood, a web UI that speaks Transmission's RPC, drives btlaunchmany in a
real browser (headless Chromium through puppeteer-core).

btlaunchmany runs two torrents (no peers: trackers point at a closed
loopback port) with --rpc_auth; Flood (test/integration/flood, installed by
make deps) runs with --auth none and our RPC URL and password.  The page
must list both torrents (screenshot saved in the workspace log directory),
then a click on one row and on Flood's "Stop Torrent" button must pause
that torrent in our engine (seen in its --status_json and its log), and
only that one."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FLOOD_DIR = os.path.join(HERE, "flood")
FLOOD = os.path.join(FLOOD_DIR, "node_modules", "flood", "dist", "index.js")


def main():
    H.check(os.path.isfile(FLOOD), "Flood is not installed in %s (make deps)" % FLOOD_DIR)
    H.check(os.access("/usr/bin/chromium", os.X_OK), "chromium is missing (make deps)")
    with H.Workspace("rpc-flood", timeout=120) as ws:
        dead = "http://127.0.0.1:%d/announce" % H.free_port("127.0.0.1")
        src, watch, out, data = ws.mkdir("src"), ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        names = []
        for i, stem in enumerate(("flood-one", "flood-two")):
            H.write_random_file(os.path.join(src, stem + ".bin"), 100 * H.KiB + i, 10 + i)
            H.make_torrent(os.path.join(src, stem + ".bin"), os.path.join(watch, stem + ".torrent"), 32 * H.KiB, dead)
            names.append(stem + ".bin")
        ip = ws.next_ip()
        port, rpc_port, flood_port = H.free_port(ip), H.free_port("127.0.0.1"), H.free_port("127.0.0.1")
        btl = LU.Launcher(ws, "btl", watch, out, data, ip, port,
                          extra=["--rpc_port", str(rpc_port), "--rpc_auth", "flood:pw"])
        btl.wait(lambda rows: len(rows) == 2 and all(r.get("loaded") for r in rows.values()), 20, "two rows")
        H.wait_listening("127.0.0.1", rpc_port, 10, btl.proc)
        flood = ws.start("flood", ["node", FLOOD, "--auth", "none", "--host", "127.0.0.1", "--port", str(flood_port),
                                   "--rundir", ws.mkdir("flood-run"),
                                   "--trurl", "http://127.0.0.1:%d/transmission/rpc" % rpc_port,
                                   "--truser", "flood", "--trpass", "pw"],
                         env=dict(os.environ, HOME=ws.dir))
        H.wait_listening("127.0.0.1", flood_port, 30, flood)
        shot = ws.path("flood")
        r = subprocess.run(["node", os.path.join(FLOOD_DIR, "flood_pause.js"), "http://127.0.0.1:%d/" % flood_port,
                            shot] + names, cwd=FLOOD_DIR, capture_output=True, text=True, timeout=90)
        H.log("flood_pause.js rc %d: %s%s" % (r.returncode, r.stdout, r.stderr))
        H.check("shown" in r.stdout, "Flood did not list both torrents in the browser")
        H.check(r.returncode == 0 and "clicked" in r.stdout, "could not press Stop Torrent in Flood")
        H.log("screenshots: %s-list.png, %s-stopped.png" % (shot, shot))
        H.check(os.path.getsize(shot + "-list.png") > 10000, "the screenshot of the list is empty")
        btl.wait(lambda rows: rows["flood-one.torrent"]["state"] == "stopped", 15, "Flood's Stop pauses flood-one")
        H.check(btl.rows()["flood-two.torrent"]["state"] != "stopped", "Flood's Stop paused the other torrent too")
        H.check("flood-one.bin: paused" in btl.log_text(), "the engine's log does not say the torrent was paused")
        H.log("ok: Flood listed our torrents in Chromium and its Stop button paused one")


if __name__ == "__main__":
    H.run_main(main)
