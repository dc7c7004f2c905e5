#!/usr/bin/python3
"""--move_completed_to onto another file system, while another download runs.

btlaunchmany (127.0.0.4) downloads two torrents from libtorrent seeders
(127.0.0.2, 127.0.0.3): "big" (SIZE_BIG, unlimited, many files so the move
has work) and "slow" (its seeder capped at SLOW_RATE, so it is still
downloading when "big" completes).  --move_completed_to points into a tmpfs
(another file system: the move copies, fsyncs, then unlinks).  Checked:
- btlaunchmany runs its curses view in tmux (and writes --status_json);
  status JSON and the screen sampled every 0.5 s: from the moment "slow"
  first shows a rate until "big" has finished moving (and 1 s after),
  "slow"'s down_rate never drops to 0, and from just before "big" completes
  until it has moved "slow"'s row on the screen never stays the same for
  three samples running: the move never stalls the loop, the view or the
  other torrent;
- "big" ends with save_path in the tmpfs, byte-identical there, nothing
  left in --save_in, no *.btlmove temp; its resume data names the new place
  and holds no move journal;
- a libtorrent leecher (127.0.0.5) then downloads "big" from us and gets it
  byte-identical: we seed from the new place;
- a restart resumes "big" at the new place without a re-check.
The full 1 GiB case is the same script with BTL_PLACES_BIG_MIB=1024 (about
a minute on an idle machine; the default keeps make check fast)."""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402
import tmux_util as T  # noqa: E402

SIZE_BIG = int(os.environ.get("BTL_PLACES_BIG_MIB", "96")) * H.MiB
SLOW_SIZE = max(16 * H.MiB, SIZE_BIG // 8)  # still downloading when big has moved
SLOW_RATE = 500_000


class Viewed:
    """The rows of a --status_json file written by a launcher in tmux."""

    def __init__(self, path):
        self.path = path

    def rows(self):
        return {r["file"]: r for r in (H.read_json(self.path) or {}).get("torrents", [])}


def main():
    L.launcher_path()
    with H.Workspace("places-move", timeout=120 + SIZE_BIG // H.MiB // 4) as ws:
        src = ws.mkdir("seed")
        tr = H.Tracker(ws)
        H.make_tree(os.path.join(src, "big"), H.uneven_layout(SIZE_BIG, 256 * H.KiB, n_files=8, seed=71), seed=71)
        H.write_random_file(os.path.join(src, "slow.bin"), SLOW_SIZE, 72)
        tors = {}
        for name, piece in (("big", 256 * H.KiB), ("slow.bin", 64 * H.KiB)):
            t = ws.path(name + ".torrent")
            H.make_torrent(os.path.join(src, name), t, piece, tr.announce)
            tors[name] = t
        tr.start([L.TorrentFile(t).info_hash for t in tors.values()])
        seeders = [H.LtPeer(ws, "lt-big", tors["big"], src, ws.next_ip(), seed=True),
                   H.LtPeer(ws, "lt-slow", tors["slow.bin"], src, ws.next_ip(), seed=True, upload_limit=SLOW_RATE)]
        for s in seeders:
            s.wait_ready(30)

        fast = ws.mkdir("fast")  # another file system
        H.mount_tmpfs(ws, fast, "%dm" % (SIZE_BIG // H.MiB + 64))
        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        done_dir = os.path.join(fast, "done")
        ip = ws.next_ip()
        port = H.free_port(ip)
        # "slow" first, so it is under way when "big" starts and completes.
        shutil.copy(tors["slow.bin"], os.path.join(watch, "slow.torrent"))
        status = ws.path("btl.status.json")
        argv = [L.launcher_path(), "--dht", "0", watch, "--display", "curses", "--save_in", out, "--data_dir", data,
                "--bind", ip, "--ip", ip, "--minport", str(port), "--maxport", str(port), "--display_interval",
                "0.2", "--status_json", status, "--rpc_port", "0", "--move_completed_to", done_dir] + H.NO_REACH
        tm = T.Tmux(ws, "places")
        ws.add_cleanup(tm.close)
        tm.new("view", argv, ws.path("view.rc"))
        btl = Viewed(status)
        H.wait_until(lambda: btl.rows().get("slow.torrent", {}).get("down_rate", 0) > 0, 30,
                     "slow to start downloading")
        shutil.copy(tors["big"], os.path.join(watch, "big.torrent"))

        samples = []
        t0 = time.time()
        moved_at = None
        while time.time() - t0 < 80 + SIZE_BIG // H.MiB // 8:
            rows = btl.rows()
            b, s = rows.get("big.torrent", {}), rows.get("slow.torrent", {})
            slow_line = T.line_of(tm.screen("view"), "slow.bin") or ""
            samples.append((time.time() - t0, b.get("state"), b.get("moving_to", ""), b.get("save_path", ""),
                            s.get("down_rate", 0), s.get("progress", 0), slow_line))
            if moved_at is None and b.get("save_path", "").startswith(done_dir):
                moved_at = time.time()
            if moved_at is not None and time.time() - moved_at > 1.0:
                break
            H.check(s.get("progress", 0) < 1.0 or moved_at is not None,
                    "slow finished before big was moved; make SLOW_RATE lower")
            time.sleep(0.5)
        H.check(moved_at is not None, "big was never moved to %s; last samples %s" % (done_dir, samples[-3:]))
        zero = [x[:6] for x in samples if x[4] == 0 and x[5] < 1.0]
        H.check(not zero, "slow's rate dropped to 0 while big completed and moved: %s" % zero[:5])
        # The view during big's completion and move (from two samples before).
        first = next(i for i, x in enumerate(samples) if x[1] == "seeding" or x[2] or x[3].startswith(done_dir))
        window = samples[max(0, first - 2):]
        frozen = [(a[0], a[1], a[2], a[6]) for a, b, c in zip(window, window[1:], window[2:])
                  if a[6] == b[6] == c[6] and c[5] < 1.0]
        H.check(all(x[6] for x in samples), "slow's row missing from the screen in some samples")
        H.check(not frozen, "the view did not redraw slow's row for 1 s: %s" % frozen[:3])
        H.log("%d samples, slow's rate never 0; big moving in %d of them" %
              (len(samples), sum(1 for x in samples if x[2])))

        new_root = os.path.join(done_dir, "big")
        H.assert_same_data(os.path.join(src, "big"), new_root, "big at its new place")
        H.check(not os.path.exists(os.path.join(out, "big")), "big's old copy is still in --save_in")
        left = [f for _, _, fs in os.walk(fast) for f in fs if f.endswith(".btlmove")]
        H.check(not left, "temporary files left: %s" % left)
        ih = L.TorrentFile(tors["big"]).info_hash
        H.wait_until(lambda: (L.read_resume(data, ih) or {}).get(b"save-path") == new_root.encode(), 20,
                     "big's resume data to name the new place")
        rd = L.read_resume(data, ih)
        H.check(b"move-to" not in rd, "the move journal is still in the resume data")

        # A leecher gets big from us: we seed from the new place.
        leech_dir = ws.mkdir("leech")
        leecher = H.LtPeer(ws, "lt-leech", tors["big"], leech_dir, ws.next_ip(), connect=[(ip, port)])
        for sd in seeders[:1]:
            sd.stop()  # only we have big now
        leecher.wait_seeding(60 + SIZE_BIG // H.MiB // 8)
        H.assert_same_data(os.path.join(src, "big"), os.path.join(leech_dir, "big"), "big leeched from us")

        # A restart finds big at its new place without a re-check.
        tm.key("view", "q")
        tm.key("view", "y")
        H.wait_until(lambda: T.read_rc(ws.path("view.rc")) == "rc=0", 20, "the curses view to quit with 0")
        btl2 = L.Launcher(ws, "btl2", watch, out, data, ip, port, interval="0.2",
                          extra=["--move_completed_to", done_dir])
        row = btl2.wait(lambda r: r.get("big.torrent", {}).get("state") == "seeding" and r["big.torrent"], 30,
                        "big to seed after the restart")
        H.check(row["save_path"] == new_root, "after the restart big is at %s, not %s" % (row["save_path"], new_root))
        H.check("files changed since the last run" not in btl2.log_text(), "big was re-checked after the restart")


if __name__ == "__main__":
    H.run_main(main)
