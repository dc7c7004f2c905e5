#!/usr/bin/python3
"""A move of the data killed with -9 loses nothing.

1. A complete multi-file torrent (its data already in --save_in) starts with
   --move_completed_to pointing into a tmpfs: once checked it moves there
   (a copy: another file system).  btlaunchmany is SIGKILLed as soon as its
   log says the move began.  The restart finishes the move: the data ends
   byte-identical at the destination, nothing is left at the source, the
   torrent seeds from there, and its resume data holds no journal.
2. The state a kill can leave, made by hand so it does not depend on
   timing: btlaunchmany stopped, the resume data says "moving from A to B",
   B holds some files whole, one truncated, one *.btlmove temp.  The start
   finishes the move ("finishing the interrupted move" in the log) and the
   torrent seeds from B, byte-identical, A gone.
No peers: the tracker URL points at a closed port."""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

SIZE = 160 * H.MiB


def main():
    L.launcher_path()
    with H.Workspace("places-kill9", timeout=120) as ws:
        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        src = ws.mkdir("src")
        H.make_tree(os.path.join(src, "tree"), H.uneven_layout(SIZE, 256 * H.KiB, n_files=24, seed=81), seed=81)
        tor = ws.path("tree.torrent")
        H.make_torrent(os.path.join(src, "tree"), tor, 256 * H.KiB, "http://127.0.0.1:9/announce")
        ih = L.TorrentFile(tor).info_hash
        shutil.copytree(os.path.join(src, "tree"), os.path.join(out, "tree"))
        shutil.copy(tor, os.path.join(watch, "tree.torrent"))
        fs = ws.mkdir("fs")
        H.mount_tmpfs(ws, fs, "%dm" % (2 * SIZE // H.MiB + 64))
        dest = os.path.join(fs, "done")
        ip = ws.next_ip()
        port = H.free_port(ip)

        # ---- 1: a real kill -9 as the move starts
        btl = L.Launcher(ws, "btl", watch, out, data, ip, port, extra=["--move_completed_to", dest])
        H.wait_until(lambda: "moving the data from" in btl.log_text(), 60, "the move to start",
                     interval=0.005, procs=[btl.proc])

        def copying():
            return any(fs_ for _, _, fs_ in os.walk(dest)) if os.path.isdir(dest) else False
        try:
            H.wait_until(copying, 10, "the first file to reach the destination", interval=0.002, procs=[btl.proc])
        except H.Fail:
            pass  # the assertions below hold whenever the kill lands
        btl.proc.signal(9)
        btl.proc.wait(10)
        at_src = sum(len(f) for _, _, f in os.walk(os.path.join(out, "tree")))
        at_dst = sum(len(f) for _, _, f in os.walk(os.path.join(dest, "tree"))) if os.path.isdir(dest) else 0
        H.log("killed during the move: %d files still at the source, %d at the destination" % (at_src, at_dst))
        rd = L.read_resume(data, ih)
        # The journal is written before any file moves: without it, either
        # nothing has moved yet or the move is over.
        H.check((rd is not None and b"move-to" in rd) or at_src == 0 or at_dst == 0,
                "files moved (%d at the source, %d at the destination) but no journal in the resume data"
                % (at_src, at_dst))
        btl2 = L.Launcher(ws, "btl2", watch, out, data, ip, port, extra=["--move_completed_to", dest])
        row = btl2.wait(lambda r: r.get("tree.torrent", {}).get("state") == "seeding" and
                        r["tree.torrent"]["save_path"] == os.path.join(dest, "tree") and r["tree.torrent"], 60,
                        "the torrent to seed from the destination after the restart")
        H.check(row["progress"] == 1.0, "not complete after the restart: %s" % row["progress"])
        H.assert_same_data(os.path.join(src, "tree"), os.path.join(dest, "tree"), "data after kill -9 mid-move")
        H.check(not os.path.exists(os.path.join(out, "tree")), "the source still exists after the move finished")
        H.wait_until(lambda: b"move-to" not in (L.read_resume(data, ih) or {b"move-to": 1}), 20,
                     "the journal to leave the resume data")
        btl2.proc.signal(15)
        H.check(btl2.proc.wait(20) == 0, "SIGTERM did not exit 0")

        # ---- 2: a hand-made half-done move from dest/tree to dest2/tree
        a = os.path.join(dest, "tree")
        b = os.path.join(fs, "dest2", "tree")
        rd = L.read_resume(data, ih)
        H.check(rd.get(b"save-path") == a.encode(), "resume save-path is %r, not %s" % (rd.get(b"save-path"), a))
        rd[b"move-from"] = a.encode()
        rd[b"move-to"] = b.encode()
        rd[b"move-placed"] = 2
        with open(L.resume_file(data, ih), "wb") as f:
            f.write(H.bencode(rd))
        files = sorted(os.path.relpath(os.path.join(d, x), a) for d, _, fs_ in os.walk(a) for x in fs_)
        H.check(len(files) >= 6, "too few files: %d" % len(files))
        for i, rel in enumerate(files[: len(files) // 2]):
            target = os.path.join(b, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if i == 0:
                with open(os.path.join(a, rel), "rb") as fi, open(target, "wb") as fo:
                    fo.write(fi.read(1000))  # a truncated destination
            elif i == 1:
                with open(os.path.join(a, rel), "rb") as fi, open(target + ".btlmove", "wb") as fo:
                    fo.write(fi.read(5000))  # a temp a killed copy left
            else:
                shutil.copy2(os.path.join(a, rel), target)
        btl3 = L.Launcher(ws, "btl3", watch, out, data, ip, port, extra=["--move_completed_to", dest])
        row = btl3.wait(lambda r: r.get("tree.torrent", {}).get("state") == "seeding" and r["tree.torrent"], 60,
                        "the torrent to seed after finishing the hand-made move")
        H.check(row["save_path"] == b, "after recovery save_path is %s, not %s" % (row["save_path"], b))
        H.check("finishing the interrupted move" in btl3.log_text(), "the log does not say the move was finished")
        H.assert_same_data(os.path.join(src, "tree"), b, "data after finishing the hand-made move")
        H.check(not os.path.exists(a), "the move's source still exists")
        left = [x for _, _, fs_ in os.walk(fs) for x in fs_ if x.endswith(".btlmove")]
        H.check(not left, "temporary files left: %s" % left)


if __name__ == "__main__":
    H.run_main(main)
