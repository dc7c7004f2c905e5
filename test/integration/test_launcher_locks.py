#!/usr/bin/python3
"""Locks on the state directory (--data_dir).

- btdownloadheadless H1 runs torrent B with data dir D.  btlaunchmany L1 on
  D with A and B in its watched dir: A runs, B is an error row "in use by
  another process (pid H1)".
- A second btlaunchmany on D is refused: exit non-zero, "another
  btlaunchmany (pid L1) is using D".
- btdownloadheadless on A with data dir D is refused naming L1's pid.
- Two btdownloadheadless on different torrents sharing another data dir
  both finish (exit 0, byte-identical data).
- L1 is SIGKILLed: a new launcher on D starts at once (no stale lock), B is
  still refused while H1 runs; after SIGTERM, H1's torrent lock and then
  the launcher's lock are released (free, file gone) and both exit 0.
Seeder 127.0.0.2, our processes 127.0.0.3 and up."""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

PIECE = 32 * H.KiB


def main():
    L.launcher_path()
    H.require_headless()
    with H.Workspace("launcher-locks", timeout=240) as ws:
        src = ws.mkdir("seed")
        tr = H.Tracker(ws)
        tors = {}
        for i, name in enumerate(("a.bin", "b.bin")):
            H.write_random_file(os.path.join(src, name), 2 * H.MiB + 7 * i, 400 + i)
            t = ws.path(name[0] + ".torrent")
            ih, _, _ = H.make_torrent(os.path.join(src, name), t, PIECE, tr.announce)
            tors[name[0]] = (t, ih, name)
        tr.start([ih for _, ih, _ in tors.values()])
        seed_ip = ws.next_ip()
        seeders = [H.LtPeer(ws, "lt-" + k, t, src, seed_ip, seed=True, upload_limit=2_000_000)
                   for k, (t, _, _) in tors.items()]
        for s in seeders:
            s.wait_ready(30)

        D = ws.mkdir("state")
        # H1 holds B's lock in D.
        h1 = H.Headless(ws, "h1", tors["b"][0], ws.next_ip(), save_in=ws.mkdir("h1-out"), data_dir=D)
        h1.wait_state(("downloading", "seeding"), 30)
        holder = L.torrent_lock_holder(D, tors["b"][1])
        H.check(holder == h1.proc.pid, "headless (pid %d) runs B but B's lock in %s is held by pid %d"
                % (h1.proc.pid, L.torrent_lock_path(D), holder))

        watch, out = ws.mkdir("watch"), ws.mkdir("out")
        for k in ("a", "b"):
            shutil.copy(tors[k][0], os.path.join(watch, k + ".torrent"))
        ip1 = ws.next_ip()
        l1 = L.Launcher(ws, "l1", watch, out, D, ip1, H.free_port(ip1))
        rows = l1.wait(lambda r: r.get("a.torrent", {}).get("loaded") and "b.torrent" in r and r, 20,
                       "rows for a and b")
        b = rows["b.torrent"]
        H.log("b row: %s" % b["error"])
        H.check(b["state"] == "error" and not b["loaded"], "b should be an error row: %s" % b)
        H.check("in use by another process (pid %d" % h1.proc.pid in b["error"],
                "b's error does not name H1 (pid %d): %r" % (h1.proc.pid, b["error"]))
        H.check(os.path.exists(os.path.join(D, "btlaunchmany.lock")), "no btlaunchmany.lock in D")

        # A second launcher on D.
        ip2 = ws.next_ip()
        l2 = L.Launcher(ws, "l2", ws.mkdir("watch2"), ws.mkdir("out2"), D, ip2, H.free_port(ip2))
        rc = l2.proc.wait(15)
        msg = l2.log_text().strip()
        H.log("second launcher: rc %s: %s" % (rc, msg))
        H.check(rc != 0, "the second btlaunchmany on the same data dir exited %s" % rc)
        H.check(msg == "btlaunchmany: another btlaunchmany (pid %d) is using %s" % (l1.proc.pid, D),
                "unexpected refusal message %r" % msg)

        # Headless on A, which the launcher runs.
        h2 = H.Headless(ws, "h2", tors["a"][0], ws.next_ip(), save_in=ws.mkdir("h2-out"), data_dir=D)
        rc = h2.proc.wait(15)
        msg = h2.proc.tail(5)
        H.log("headless on the launcher's torrent: rc %s: %s" % (rc, msg.splitlines()[-1]))
        H.check(rc != 0, "btdownloadheadless on a torrent btlaunchmany runs exited %s" % rc)
        H.check(re.search(r"btdownloadheadless: .*a\.torrent: in use by another process \(pid %d" % l1.proc.pid, msg),
                "unexpected refusal %r" % msg)

        # Two headless on different torrents, one shared data dir: both fine.
        D2 = ws.mkdir("state2")
        h3 = H.Headless(ws, "h3", tors["a"][0], ws.next_ip(), save_in=ws.mkdir("h3-out"), data_dir=D2, seed_time=0)
        h4 = H.Headless(ws, "h4", tors["b"][0], ws.next_ip(), save_in=ws.mkdir("h4-out"), data_dir=D2, seed_time=0)
        for h in (h3, h4):
            H.check(h.proc.wait(90) == 0, "%s sharing a data dir exited %s" % (h.name, h.proc.returncode))
        H.assert_same_data(os.path.join(src, "a.bin"), ws.path("h3-out", "a.bin"), "h3")
        H.assert_same_data(os.path.join(src, "b.bin"), ws.path("h4-out", "b.bin"), "h4")
        H.check(os.listdir(os.path.join(D2, "resume")), "no resume files in %s" % D2)
        left = {k: L.torrent_lock_holder(D2, tors[k][1]) for k in ("a", "b")}
        H.check(left == {"a": 0, "b": 0}, "torrent locks held in %s after both exited: %s" % (D2, left))
        H.check(not [n for n in os.listdir(os.path.join(D2, "resume")) if n.endswith(".lock") and n != "torrents.lock"],
                "per-torrent lock files in %s: %s" % (D2, os.listdir(os.path.join(D2, "resume"))))

        l1.wait(lambda r: r.get("a.torrent", {}).get("state") == "seeding", 60, "a to finish in l1")
        H.assert_same_data(os.path.join(src, "a.bin"), os.path.join(out, "a.bin"), "l1 a")

        # SIGKILL: no stale lock.
        l1.proc.signal(9)
        l1.proc.wait(10)
        l3 = L.Launcher(ws, "l3", watch, out, D, ip1, H.free_port(ip1))
        rows = l3.wait(lambda r: r.get("a.torrent", {}).get("state") == "seeding" and "b.torrent" in r and r, 30,
                       "the launcher after SIGKILL to run a")
        H.check("in use by another process (pid %d" % h1.proc.pid in rows["b.torrent"]["error"],
                "b after restart: %r" % rows["b.torrent"]["error"])
        H.check(open(os.path.join(D, "btlaunchmany.lock")).read().strip() == str(l3.proc.pid),
                "btlaunchmany.lock does not hold the new launcher's pid")

        H.check(h1.stop(20) == 0, "h1 did not exit 0 on SIGTERM")
        H.check(L.torrent_lock_holder(D, tors["b"][1]) == 0, "B's lock survived H1's exit")
        l3.proc.signal()
        H.check(l3.proc.wait(30) == 0, "l3 did not exit 0 on SIGTERM")
        lk = os.path.join(D, "btlaunchmany.lock")
        H.check(L.lock_is_free(lk) and not os.path.exists(lk), "btlaunchmany.lock survived a clean exit")
        left = {k: L.torrent_lock_holder(D, tors[k][1]) for k in ("a", "b")}
        H.check(left == {"a": 0, "b": 0}, "torrent locks held after clean exits: %s" % left)


if __name__ == "__main__":
    H.run_main(main)
