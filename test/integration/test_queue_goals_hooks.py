#!/usr/bin/python3
"""Seeding goals and hooks of btlaunchmany.

Ours (--seed_ratio 1, --on_added/--on_complete/--on_removed writing their
environment to files) downloads a 1 MiB torrent from a libtorrent seed,
which then leaves.  Two libtorrent leechers pull from us; once we have
uploaded as much as we downloaded, the torrent is "finished": no peers,
the log says why, and the leechers still complete (from each other and
what we sent).  A restart brings it back finished, and runs neither
on_added nor on_complete again; removing the .torrent runs on_removed.
Each hook ran exactly once, with BTL_NAME, BTL_INFO_HASH, BTL_SAVE_PATH,
BTL_LABEL (empty) and BTL_SIZE right.  A hook that fails has its exit
status and last stderr line in the log.
Seed 127.0.0.2, us 127.0.0.3, leechers 127.0.0.4/.5, opentracker 127.0.0.1."""

import glob
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402

SIZE = 1024 * 1024 + 3


def hook(hooks, event):
    return "env | grep -E '^BTL_(NAME|INFO_HASH|SAVE_PATH|LABEL|SIZE)=' | sort > %s/%s.$$; echo %s-ran >&2; exit 7" % (hooks, event, event)


def runs(hooks, event):
    out = []
    for p in sorted(glob.glob(os.path.join(hooks, event + ".*"))):
        with open(p) as f:
            out.append(dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line))
    return out


def main():
    LU.launcher_path()
    with H.Workspace("queue-goals-hooks", timeout=150) as ws:
        src, watch, out, state, hooks = (ws.mkdir(d) for d in ("src", "watch", "out", "state", "hooks"))
        tr = H.Tracker(ws)
        H.write_random_file(os.path.join(src, "g.bin"), SIZE, 91)
        tpath = ws.path("g.torrent")
        ih, _, _ = H.make_torrent(os.path.join(src, "g.bin"), tpath, 64 * 1024, tr.announce)
        tr.start([ih])
        seed = H.LtPeer(ws, "lt-seed", tpath, src, "127.0.0.2", seed=True)
        seed.wait_ready()
        port = H.free_port("127.0.0.3")
        extra = ["--seed_ratio", "1", "--on_added", hook(hooks, "added"), "--on_complete", hook(hooks, "complete"),
                 "--on_removed", hook(hooks, "removed")]
        shutil.copy(tpath, os.path.join(watch, "g.torrent"))
        btl = LU.Launcher(ws, "btl", watch, out, state, "127.0.0.3", port, extra=extra)
        btl.wait(lambda rows: rows.get("g.torrent", {}).get("progress") == 1, 40, "the download to complete")
        H.wait_until(lambda: len(runs(hooks, "complete")) == 1, 20, "the on_complete hook")
        seed.stop()
        H.check(btl.rows()["g.torrent"]["state"] == "seeding", "not seeding after completion")
        leechers = [H.LtPeer(ws, "lt-leech%d" % i, tpath, ws.mkdir("leech%d" % i), "127.0.0.%d" % (4 + i))
                    for i in range(2)]
        btl.wait(lambda rows: rows["g.torrent"]["state"] == "finished", 60, "the seed ratio to finish the torrent")
        row = btl.rows()["g.torrent"]
        H.check(row["total_uploaded"] >= row["total_downloaded"] > 0,
                "finished at uploaded %d < downloaded %d" % (row["total_uploaded"], row["total_downloaded"]))
        btl.wait(lambda rows: rows["g.torrent"]["peers"] == 0, 10, "the finished torrent to close its peers")
        text = btl.log_text()
        H.check("seed ratio" in text and "reached (goal 1.00); finished" in text, "the log does not say why it finished")
        for lt in leechers:
            lt.wait_seeding(60)
        H.check(row["state"] == "finished", "state %s" % row["state"])
        H.check("on_complete hook: exit 7; stderr: complete-ran" in text, "the hook's exit and stderr are not logged")
        # Restart: still finished; no second on_added or on_complete.
        btl.proc.signal()
        H.check(btl.proc.wait(20) == 0, "btlaunchmany did not exit 0")
        btl = LU.Launcher(ws, "btl2", watch, out, state, "127.0.0.3", port, extra=extra)
        btl.wait(lambda rows: rows.get("g.torrent", {}).get("state") == "finished", 30,
                 "the torrent to come back finished")
        time.sleep(1.5)
        os.remove(os.path.join(watch, "g.torrent"))
        H.wait_until(lambda: len(runs(hooks, "removed")) == 1, 20, "the on_removed hook")
        time.sleep(1)
        for event in ("added", "complete", "removed"):
            rs = runs(hooks, event)
            H.check(len(rs) == 1, "%s hook ran %d times" % (event, len(rs)))
            want = {"BTL_NAME": "g.bin", "BTL_INFO_HASH": ih, "BTL_SAVE_PATH": os.path.join(out, "g.bin"),
                    "BTL_LABEL": "", "BTL_SIZE": str(SIZE)}
            H.check(rs[0] == want, "%s hook environment %s, want %s" % (event, rs[0], want))
        for lt in leechers:
            lt.stop()
        H.log("PASS: seed ratio finishes the torrent; each hook ran once with the right environment")


if __name__ == "__main__":
    H.run_main(main)
