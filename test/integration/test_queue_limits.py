#!/usr/bin/python3
"""A torrent's own download cap, set with the real transmission-remote,
holds on top of the (unlimited) global limits.

A 2 MiB torrent is added paused over RPC (torrent-add "paused"), capped with `-t 1 -d 250` (kB/s), then started: the
download from an unlimited libtorrent seed takes at least 6 s (2 MiB at
250 kB/s is 8.4 s, less the one-second burst), where uncapped it takes
well under a second here.  Lifting the cap (`-D`) shows downloadLimited
false in torrent-get.
Seed 127.0.0.2, us 127.0.0.3, opentracker 127.0.0.1."""

import base64
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402

REMOTE = "/usr/bin/transmission-remote"
SIZE = 2 * 1024 * 1024
CAP_KB = 250


def remote(port, *args):
    r = subprocess.run([REMOTE, "127.0.0.1:%d" % port] + list(args), capture_output=True, text=True, timeout=30)
    H.log("transmission-remote %s -> rc %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    H.check(r.returncode == 0 and ("success" in r.stdout + r.stderr or "-i" in args), "transmission-remote %s failed: %s %s" %
            (" ".join(args), r.stdout.strip(), r.stderr.strip()))
    return r.stdout


def main():
    LU.launcher_path()
    with H.Workspace("queue-limits", timeout=120) as ws:
        src, watch, out, state = ws.mkdir("src"), ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("state")
        tr = H.Tracker(ws)
        H.write_random_file(os.path.join(src, "cap.bin"), SIZE, 17)
        tpath = ws.path("cap.torrent")
        ih, _, _ = H.make_torrent(os.path.join(src, "cap.bin"), tpath, 64 * 1024, tr.announce)
        tr.start([ih])
        seed = H.LtPeer(ws, "lt-seed", tpath, src, "127.0.0.2", seed=True)
        seed.wait_ready()
        rpc_port = H.free_port()
        btl = LU.Launcher(ws, "btl", watch, out, state, "127.0.0.3", H.free_port("127.0.0.3"),
                          extra=["--rpc_port", str(rpc_port)])
        H.wait_listening("127.0.0.1", rpc_port, 20, btl.proc)
        # transmission-remote 3.00's --start-paused is a session-set; the add
        # itself asks for "paused" as Transmission's own clients do.
        meta = base64.b64encode(open(tpath, "rb").read()).decode()
        r = LU.Rpc(rpc_port).call("torrent-add", metainfo=meta, paused=True)
        H.check(r["result"] == "success", "torrent-add: %s" % r["result"])
        btl.wait(lambda rows: any(r.get("loaded") and r["state"] == "stopped" for r in rows.values()), 20,
                 "the paused torrent to load")
        remote(rpc_port, "-t", "1", "-d", str(CAP_KB))
        t0 = time.monotonic()
        remote(rpc_port, "-t", "1", "-s")
        btl.wait(lambda rows: any(r.get("progress") == 1 for r in rows.values()), 60, "the capped download")
        took = time.monotonic() - t0
        H.log("2 MiB at a %d kB/s cap: %.1f s (%.0f kB/s)" % (CAP_KB, took, SIZE / took / 1000))
        H.check(took >= 6, "the %d kB/s cap did not hold: 2 MiB in %.1f s" % (CAP_KB, took))
        H.check(took < 30, "far slower than the cap: %.1f s" % took)
        H.check("limits: download %d kB/s, upload unlimited" % CAP_KB in btl.log_text(), "the cap is not logged")
        remote(rpc_port, "-t", "1", "-D")
        info = remote(rpc_port, "-t", "1", "-i")
        H.check("Download Limit: Unlimited" in info, "transmission-remote -i still shows a download limit")
        seed.stop()
        H.log("PASS: a per-torrent download cap of %d kB/s holds (%.1f s for 2 MiB)" % (CAP_KB, took))


if __name__ == "__main__":
    H.run_main(main)
