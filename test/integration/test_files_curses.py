#!/usr/bin/python3
"""Per-file choices and sequential download from the curses view (issue 17),
driven in tmux like a person.

A 3-file torrent nobody seeds (its tracker is a closed loopback port) runs in
btlaunchmany --display curses.  Enter opens the detail pane, Tab focuses it,
Down moves the file cursor to the second file, space skips it: the pane shows
"> [ ]" on that line and --status_json's wanted_bytes drops below total_size;
+ raises its priority ("[ ] high"); space wants it again (wanted_bytes back
to the total).  Tab back to the table, S: the row's "sequential" is true in
the status JSON and the pane says "sequential download".
Loopback only; --upnp/--natpmp/--lsd/--dht off."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402
from tmux_util import Tmux  # noqa: E402

PIECE = 16 * H.KiB
FILES = [("f0.bin", 40 * H.KiB), ("f1.bin", 40 * H.KiB), ("f2.bin", 40 * H.KiB)]
S = "files"


def row(status_path):
    rows = (H.read_json(status_path) or {}).get("torrents", [])
    return rows[0] if len(rows) == 1 else {}


def main():
    with H.Workspace("files-curses", timeout=90) as ws:
        src = ws.mkdir("src")
        root = os.path.join(src, "pack")
        H.make_tree(root, FILES, seed=5)
        dead = "http://127.0.0.1:%d/announce" % H.free_port()
        H.make_torrent(root, ws.path("pack.torrent"), PIECE, dead)
        names = [f for f, _ in L.TorrentFile(ws.path("pack.torrent")).files]
        second = names[1]
        watch, save, data = ws.mkdir("watch"), ws.mkdir("save"), ws.mkdir("data")
        ip = ws.next_ip()
        port = H.free_port(ip)
        status = ws.path("status.json")
        argv = [L.launcher_path(), "--dht", "0", watch, "--display", "curses", "--save_in", save, "--data_dir", data,
                "--bind", ip, "--ip", ip, "--minport", str(port), "--maxport", str(port), "--display_interval", "0.3",
                "--status_json", status, "--rpc_port", "0"] + H.NO_REACH
        t = Tmux(ws, "files")
        ws.add_cleanup(t.close)
        t.new(S, argv, ws.path("rc"))
        t.wait(S, lambda s: s and s[0].lstrip().startswith("NAME"), 10, "the header")
        os.link(ws.path("pack.torrent"), os.path.join(watch, "pack.torrent"))
        H.wait_until(lambda: row(status).get("state") in ("downloading", "stalled"), 15, "the torrent to run")
        total = row(status)["total_size"]
        H.check(row(status).get("wanted_bytes") == total, "wanted_bytes %r before any choice" % row(status))

        t.key(S, "Enter")
        t.wait(S, lambda s: any(second in l for l in s), 10, "the detail pane listing the files")
        t.key(S, "Tab")
        t.key(S, "Down")
        t.wait(S, lambda s: any(l.startswith("> [x]") and second in l for l in s), 10, "the cursor on the second file")
        t.key(S, "Space")
        t.wait(S, lambda s: any(l.startswith("> [ ]") and second in l for l in s), 10, "the second file skipped")
        H.wait_until(lambda: 0 < row(status).get("wanted_bytes", total) < total, 10, "wanted_bytes below the total")
        t.key(S, "+")
        t.wait(S, lambda s: any(l.startswith("> [ ] high") and second in l for l in s), 10, "priority high")
        t.key(S, "Space")
        t.wait(S, lambda s: any(l.startswith("> [x] high") and second in l for l in s), 10, "wanted again")
        H.wait_until(lambda: row(status).get("wanted_bytes") == total, 10, "wanted_bytes back to the total")

        t.key(S, "Tab")
        t.key(S, "S")
        H.wait_until(lambda: row(status).get("sequential") is True, 10, "sequential in the status JSON")
        t.wait(S, lambda s: any("sequential download" in l for l in s), 10, "the pane to say sequential download")
        t.key(S, "q")
        t.key(S, "y")
        H.wait_until(lambda: os.path.exists(ws.path("rc")), 20, "btlaunchmany to quit")
        H.check(open(ws.path("rc")).read().strip() == "rc=0", "exit: %s" % open(ws.path("rc")).read())


if __name__ == "__main__":
    H.run_main(main)
