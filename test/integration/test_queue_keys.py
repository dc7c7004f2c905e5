#!/usr/bin/python3
"""The queue and per-torrent limit keys in the curses view (tmux), attached
to the engine btlaunchmany starts (so the keys go over RPC).

Three torrents nobody seeds (the tracker is a closed port), with
--max_active_downloads 1: a.bin downloads, b.bin and c.bin read "queued".
On c.bin, `{` moves it to the top: it downloads and a.bin waits; `]` on
c.bin moves it down again behind a.bin.  `L` with "300 40" gives c.bin its
own limits (the engine's log says so).  q y stops the engine."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402
from tmux_util import Tmux, line_of, read_rc  # noqa: E402


def states(status):
    doc = H.read_json(status) or {}
    # "stalled" is "downloading" with nothing arriving for 15 s (no seed here).
    return {t["name"]: "downloading" if t["state"] == "stalled" else t["state"] for t in doc.get("torrents", [])}


def main():
    launcher = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    H.check(os.access(launcher, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
    with H.Workspace("queue-keys", timeout=100) as ws:
        t = Tmux(ws, "queue-keys")
        data = ws.mkdir("btl-data")
        try:
            run(ws, t, launcher, data)
        finally:
            t.close()
            LU.kill_engine(data)


def run(ws, t, launcher, data):
    src, watch, out = ws.mkdir("src"), ws.mkdir("watch"), ws.mkdir("out")
    dead = "http://127.0.0.1:%d/announce" % H.free_port()
    for i, n in enumerate(["a.bin", "b.bin", "c.bin"]):
        H.write_random_file(os.path.join(src, n), 64 * 1024, 30 + i)
        H.make_torrent(os.path.join(src, n), ws.path(n + ".torrent"), 16384, dead)
    status = ws.path("status.json")
    port, rpc_port = H.free_port(), H.free_port()
    argv = [launcher, watch, "--save_in", out, "--data_dir", data, "--bind", "127.0.0.1", "--dht", "0",
            "--minport", str(port), "--maxport", str(port), "--display_interval", "0.3",
            "--status_json", status, "--rpc_port", str(rpc_port), "--max_active_downloads", "1"] + H.NO_REACH
    rc = ws.path("rc")
    t.new("v", argv, rc)
    for n in ["a.bin", "b.bin", "c.bin"]:  # added in this order
        os.rename(ws.path(n + ".torrent"), os.path.join(watch, n + ".torrent"))
        H.wait_until(lambda: n in states(status), 20, "%s to load" % n)
    H.wait_until(lambda: states(status) == {"a.bin": "downloading", "b.bin": "queued", "c.bin": "queued"}, 20,
                 "a downloading, b and c queued (%s)" % states(status))
    t.wait("v", lambda s: "queued" in (line_of(s, "c.bin") or ""), 10, "c.bin queued on the screen")
    t.key("v", "Down")
    t.key("v", "Down")
    time.sleep(0.5)
    t.key("v", "{")
    H.wait_until(lambda: states(status) == {"a.bin": "queued", "b.bin": "queued", "c.bin": "downloading"}, 10,
                 "c downloading after { (%s)" % states(status))
    t.wait("v", lambda s: "queued" in (line_of(s, "a.bin") or ""), 10, "a.bin queued on the screen")
    t.key("v", "]")
    H.wait_until(lambda: states(status) == {"a.bin": "downloading", "b.bin": "queued", "c.bin": "queued"}, 10,
                 "a downloading again after ] on c (%s)" % states(status))
    t.key("v", "L")
    t.wait("v", lambda s: any("limits of c.bin" in l for l in s), 10, "the limits prompt for c.bin")
    t.type("v", "300 40")
    t.key("v", "Enter")
    log = os.path.join(data, "engine.log")
    H.wait_until(lambda: "limits: download 300 kB/s, upload 40 kB/s" in open(log, errors="replace").read(), 10,
                 "the engine to log c.bin's limits")
    t.key("v", "q")
    t.key("v", "y")
    H.wait_until(lambda: read_rc(rc), 20, "the view to exit")
    H.check(read_rc(rc) == "rc=0", "exit status %s" % read_rc(rc))
    H.log("PASS: { ] and L drive the queue and a torrent's limits from the curses view")


if __name__ == "__main__":
    H.run_main(main)
