#!/usr/bin/python3
"""The engine as a daemon and the curses view as its client, in tmux.

`btlaunchmany DIR` on a terminal starts the engine detached (pid in the
data dir's lock, log in DATA_DIR/engine.log) and attaches: the rows appear.
`d` detaches (exit 0) and the download goes on (the --status_json file's
bytes grow, the engine's pid is the same).  A second and a third
`btlaunchmany DIR` re-attach side by side with the same rows; the second's
tmux session is killed (a hangup): the engine still runs and answers on its
RPC port, and the third still pauses and resumes a torrent.  `q` `y` in it
stops the engine: the view exits 0, the RPC port is closed, the engine's
process is gone and the lock is free.  Loopback only; private tmux server;
the engine is killed at the end if anything went wrong."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402
from tmux_util import Tmux, line_of, read_rc  # noqa: E402

PIECE = 64 * H.KiB


def port_open(ip, port):
    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False


def status_bytes(path, name):
    doc = H.read_json(path) or {}
    for t in doc.get("torrents", []):
        if name in t.get("name", ""):
            return t.get("have_bytes", t.get("downloaded", 0))
    return -1


def main():
    launcher = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    H.check(os.access(launcher, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
    with H.Workspace("attach-engine", timeout=150) as ws:
        t = Tmux(ws, "attach-engine")
        data = ws.mkdir("btl-data")
        try:
            run(ws, t, launcher, data)
        finally:
            t.close()
            LU.kill_engine(data)


def run(ws, t, launcher, data):
    src = ws.mkdir("seed")
    tr = H.Tracker(ws)
    sizes = {"fast": 1 * H.MiB + 3, "slow": 6 * H.MiB + 11}
    tors = {}
    for i, (n, size) in enumerate(sizes.items()):
        H.write_random_file(os.path.join(src, n + ".bin"), size, 40 + i)
        tors[n] = H.make_torrent(os.path.join(src, n + ".bin"), ws.path(n + ".torrent"), PIECE, tr.announce)[0]
    tr.start(list(tors.values()))
    seed_ip = ws.next_ip()
    # The slow one trickles at 200 kB/s: still downloading after the detach.
    H.LtPeer(ws, "lt-fast", ws.path("fast.torrent"), src, seed_ip, seed=True).wait_ready(30)
    H.LtPeer(ws, "lt-slow", ws.path("slow.torrent"), src, ws.next_ip(), seed=True,
             upload_limit=200 * 1000).wait_ready(30)

    watch, out = ws.mkdir("watch"), ws.mkdir("out")
    for n in sizes:
        os.link(ws.path(n + ".torrent"), os.path.join(watch, n + ".torrent"))
    ip = ws.next_ip()
    port, rpc_port = H.free_port(ip), H.free_port("127.0.0.1")
    status = ws.path("status.json")
    argv = [launcher, watch, "--save_in", out, "--data_dir", data, "--bind", ip, "--ip", ip,
            "--minport", str(port), "--maxport", str(port), "--display_interval", "0.5",
            "--status_json", status, "--rpc_port", str(rpc_port)]

    rc1 = ws.path("rc1")
    t.new("one", argv, rc1)
    t.wait("one", lambda s: (l := line_of(s, "fast.bin")) and "seeding" in l and line_of(s, "slow.bin"), 60,
           "both rows, fast seeding")
    pid = LU.engine_pid(data)
    H.check(LU.pid_alive(pid), "no engine holds the data dir's lock")
    H.check(os.path.getsize(os.path.join(data, "engine.log")) > 0, "engine.log is empty")
    H.check(port_open("127.0.0.1", rpc_port), "the engine's RPC port is closed")

    t.key("one", "d")
    H.wait_until(lambda: read_rc(rc1), 10, "the first view to detach")
    H.check(read_rc(rc1) == "rc=0", "detach exit status %s" % read_rc(rc1))
    before = status_bytes(status, "slow")
    H.check(0 <= before < sizes["slow"], "slow is not mid-download at the detach (%d bytes)" % before)
    H.wait_until(lambda: status_bytes(status, "slow") > before + 200 * 1000, 20,
                 "the download to go on after the detach")
    H.check(LU.engine_pid(data) == pid and LU.pid_alive(pid), "the engine changed or died after the detach")

    # Two terminals on one engine; then the first is killed by a hangup
    # (its tmux session goes away) and the other carries on.
    rc2, rc3 = ws.path("rc2"), ws.path("rc3")
    t.new("two", argv, rc2)
    t.wait("two", lambda s: line_of(s, "fast.bin") and line_of(s, "slow.bin"), 20, "the rows in the second attach")
    t.new("three", argv, rc3)
    lines = t.wait("three", lambda s: line_of(s, "fast.bin") and line_of(s, "slow.bin") and s, 20,
                   "the same rows in a third attach beside the second")
    H.check("seeding" in line_of(lines, "fast.bin"), "fast is not seeding in the third attach")
    t.kill_session("two")
    time.sleep(1.5)
    H.check(LU.pid_alive(pid) and LU.engine_pid(data) == pid, "the hangup of a view stopped the engine")
    H.check(port_open("127.0.0.1", rpc_port), "the RPC port closed after a view's hangup")
    t.key("three", "p")  # the remaining view still drives the engine
    t.wait("three", lambda s: "paused" in (line_of(s, "fast.bin") or ""), 10, "fast paused from the third view")
    t.key("three", "p")
    t.wait("three", lambda s: "seeding" in (line_of(s, "fast.bin") or ""), 10, "fast seeding again")
    t.key("three", "q")
    t.wait("three", lambda s: "Stop the engine" in s[-1], 5, "the quit prompt")
    t.key("three", "y")
    H.wait_until(lambda: read_rc(rc3), 40, "the view to exit after q y")
    H.check(read_rc(rc3) == "rc=0", "q y exit status %s" % read_rc(rc3))
    H.check(not port_open("127.0.0.1", rpc_port), "the RPC port is still open after q y")
    H.wait_until(lambda: not LU.pid_alive(pid), 10, "the engine's process to end")
    H.assert_same_data(os.path.join(src, "fast.bin"), os.path.join(out, "fast.bin"), "fast")


if __name__ == "__main__":
    H.run_main(main)
