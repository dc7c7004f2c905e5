#!/usr/bin/python3
"""`btlaunchmany --attach URL` on a real transmission-daemon: one curses view
for both engines.

transmission-daemon (RPC on loopback, Basic auth required) holds a torrent
it has verified.  In tmux: wrong credentials are refused with a clear
footer; the right ones show the torrent's row (100%, seeding); `p` pauses
it (transmission-remote says Stopped) and resumes it; the detail pane
shows its file and tracker (torrent-get of one id with files, peers,
trackerStats); `-` caps the download rate (the footer and
transmission-remote -si agree).  The daemon is stopped under the view: the
footer says it is not answering; started again, the row comes back.  `d`
detaches (exit 0, the daemon still runs); in a second attach Delete asks,
`n` cancels and `y` removes the torrent (transmission forgets it, the data
stays); then `q` `y` stops the daemon (session-close) and exits 0 once its port is closed.
Loopback only; private tmux server."""

import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
from tmux_util import Tmux, line_of, read_rc  # noqa: E402

USER, PASSWORD = "alice", "s3cret"


def tr_remote(rpc_port, *args):
    r = subprocess.run(["transmission-remote", "127.0.0.1:%d" % rpc_port, "--auth", "%s:%s" % (USER, PASSWORD)]
                       + list(args), capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr


def start_daemon(ws, conf, data, peer_port, rpc_port, name):
    proc = ws.start(name, ["transmission-daemon", "-f", "-g", conf, "-w", data, "-P", str(peer_port),
                           "-i", "127.0.0.1", "-p", str(rpc_port), "-r", "127.0.0.1", "-t", "-u", USER,
                           "-v", PASSWORD, "-O", "-Y", "-M", "--no-utp", "-C", "--log-error"])
    H.wait_listening("127.0.0.1", rpc_port, 15, proc)
    return proc


def write_settings(conf, data, peer_port, rpc_port):
    settings = {
        "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1", "peer-port": peer_port,
        "peer-port-random-on-start": False, "rpc-enabled": True, "rpc-bind-address": "127.0.0.1",
        "rpc-port": rpc_port, "rpc-whitelist-enabled": True, "rpc-whitelist": "127.0.0.1",
        "rpc-host-whitelist-enabled": False, "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
        "utp-enabled": False, "port-forwarding-enabled": False, "blocklist-enabled": False,
        "download-dir": data, "incomplete-dir-enabled": False, "watch-dir-enabled": False,
        "start-added-torrents": True, "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
        "alt-speed-enabled": False, "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
    }
    with open(os.path.join(conf, "settings.json"), "w") as f:
        json.dump(settings, f)


def port_closed(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


def main():
    launcher = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    H.check(os.access(launcher, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
    with H.Workspace("attach-transmission", timeout=120) as ws:
        t = Tmux(ws, "attach-tr")
        try:
            run(ws, t, launcher)
        finally:
            t.close()


def run(ws, t, launcher):
    data, conf = ws.mkdir("tr-data"), ws.mkdir("tr-conf")
    H.write_random_file(os.path.join(data, "attach.bin"), 3 * H.MiB + 17, 77)
    tracker_url = "http://127.0.0.1:%d/announce" % H.free_port("127.0.0.1")  # nobody answers there
    tor = ws.path("attach.torrent")
    H.make_torrent(os.path.join(data, "attach.bin"), tor, 256 * H.KiB, tracker_url)
    peer_port, rpc_port = H.free_port("127.0.0.1"), H.free_port("127.0.0.1")
    write_settings(conf, data, peer_port, rpc_port)
    daemon = start_daemon(ws, conf, data, peer_port, rpc_port, "transmission")
    H.check("success" in tr_remote(rpc_port, "-a", tor), "transmission-remote -a failed")
    tr_remote(rpc_port, "-t", "all", "--verify")
    H.wait_until(lambda: "100%" in tr_remote(rpc_port, "-l"), 30, "transmission to verify", interval=0.5,
                 procs=[daemon])
    url = "http://127.0.0.1:%d/transmission/rpc" % rpc_port

    # Wrong credentials: one clear line, and the view keeps trying.
    rc_bad = ws.path("rc-bad")
    t.new("bad", [launcher, "--attach", url, "--rpc_auth", "alice:wrong", "--display_interval", "0.3"], rc_bad)
    t.wait("bad", lambda s: any("refused the credentials" in l for l in s[-3:]), 10, "the 401 in the footer")
    t.key("bad", "d")
    H.wait_until(lambda: read_rc(rc_bad), 10, "the refused view to detach")
    H.check(read_rc(rc_bad) == "rc=0", "detach exit status %s" % read_rc(rc_bad))

    rc1 = ws.path("rc1")
    t.new("view", [launcher, "--attach", url, "--rpc_auth", "%s:%s" % (USER, PASSWORD), "--display_interval",
                   "0.3"], rc1)
    row = t.wait("view", lambda s: (l := line_of(s, "attach.bin")) and "100.0%" in l and "seeding" in l and l,
                 20, "transmission's torrent row at 100% seeding")
    H.log("row: %s" % row)

    t.key("view", "p")
    t.wait("view", lambda s: "paused" in (line_of(s, "attach.bin") or ""), 10, "the row to say paused")
    H.wait_until(lambda: "Stopped" in tr_remote(rpc_port, "-l"), 10, "transmission to say Stopped")
    t.key("view", "p")
    t.wait("view", lambda s: "seeding" in (line_of(s, "attach.bin") or ""), 15, "the row to seed again")

    t.key("view", "Enter")
    lines = t.wait("view", lambda s: any(tracker_url in l for l in s) and s, 10, "the detail pane's tracker")
    H.check(sum("attach.bin" in l for l in lines) >= 2, "the detail pane does not list the file: %s" % lines)
    t.key("view", "Enter")

    t.key("view", "-")
    t.wait("view", lambda s: "(max 100.0 MB/s)" in s[-2], 10, "- to cap the download rate")
    H.wait_until(lambda: "Download speed limit: 100.0 MB/s" in tr_remote(rpc_port, "-si"), 10,
                 "transmission to hear the limit")

    # The engine goes away under the view, then comes back.
    daemon.signal()
    H.check(daemon.wait(20) is not None, "transmission-daemon did not stop")
    t.wait("view", lambda s: any("not answering" in l for l in s[-3:]), 10, "the footer to say the engine is gone")
    daemon = start_daemon(ws, conf, data, peer_port, rpc_port, "transmission-again")
    t.wait("view", lambda s: "attach.bin" in (line_of(s, "attach.bin") or "") and
           not any("not answering" in l for l in s[-3:]), 30, "the row back after the restart")

    t.key("view", "d")
    H.wait_until(lambda: read_rc(rc1), 10, "the view to detach")
    H.check(read_rc(rc1) == "rc=0", "detach exit status %s" % read_rc(rc1))
    H.check(daemon.poll() is None, "detaching stopped transmission-daemon")

    rc2 = ws.path("rc2")
    t.new("again", [launcher, "--attach", url, "--rpc_auth", "%s:%s" % (USER, PASSWORD)], rc2)
    t.wait("again", lambda s: line_of(s, "attach.bin"), 20, "the row in a second attach")
    # Delete removes (d detaches here): n cancels, y removes and keeps the data.
    t.key("again", "DC")
    t.wait("again", lambda s: "Remove attach.bin?" in s[-1], 5, "the remove prompt")
    t.key("again", "n")
    t.wait("again", lambda s: "not removed" in s[-1] and line_of(s, "attach.bin"), 5, "n to cancel")
    t.key("again", "DC")
    t.wait("again", lambda s: "Remove attach.bin?" in s[-1], 5, "the remove prompt again")
    t.key("again", "y")
    t.wait("again", lambda s: line_of(s, "attach.bin") is None and " 0 torrents" in s[-2], 10, "the row to go")
    H.check("attach.bin" not in tr_remote(rpc_port, "-l"), "transmission still lists the removed torrent")
    H.check(os.path.exists(os.path.join(data, "attach.bin")), "removing with y deleted the data")
    t.key("again", "q")
    t.wait("again", lambda s: "Stop the engine" in s[-1], 5, "the quit prompt")
    t.key("again", "y")
    H.wait_until(lambda: read_rc(rc2), 30, "the view to exit after q y")
    H.check(read_rc(rc2) == "rc=0", "q y exit status %s" % read_rc(rc2))
    H.check(port_closed(rpc_port), "the RPC port is still open after q y")
    H.check(daemon.wait(20) is not None, "transmission-daemon still runs after q y")


if __name__ == "__main__":
    H.run_main(main)
