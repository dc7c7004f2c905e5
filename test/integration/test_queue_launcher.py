#!/usr/bin/python3
"""The download queue of btlaunchmany (--max_active_downloads 3).

Sixty small torrents are dropped at once into the watched directory of a
leecher; our own btlaunchmany seeds all of them (data in place, upload
capped so the downloads take a few seconds).  Polling the leecher's
--status_json: never more than 3 torrents downloading at once, every
queued torrent stands behind every downloading one in the queue (so they
start in queue order, which is the order they were added), the queue
positions are 0..59, and all 60 complete with the right bytes.  A restart
keeps every torrent's queue position (resume data).
Seed 127.0.0.2, leecher 127.0.0.3, opentracker 127.0.0.1."""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402

N = 60
SIZE = 96 * 1024 + 7
PIECE = 16 * 1024
ACTIVE = 3
DOWNLOADING = ("downloading", "stalled")


def main():
    LU.launcher_path()
    with H.Workspace("queue-launcher", timeout=120) as ws:
        src, seed_watch, leech_watch = ws.mkdir("src"), ws.mkdir("seed-watch"), ws.mkdir("leech-watch")
        out = ws.mkdir("out")
        tr = H.Tracker(ws)
        hashes = []
        for i in range(N):
            name = "q%02d.bin" % i
            H.write_random_file(os.path.join(src, name), SIZE + i, 5000 + i)
            tpath = os.path.join(seed_watch, "q%02d.torrent" % i)
            hashes.append(H.make_torrent(os.path.join(src, name), tpath, PIECE, tr.announce)[0])
        tr.start(hashes)
        seed = LU.Launcher(ws, "seed", seed_watch, src, ws.mkdir("seed-state"), "127.0.0.2", H.free_port("127.0.0.2"),
                           extra=["--max_upload_rate", "1500"])
        seed.wait(lambda rows: len(rows) == N and all(r["state"] == "seeding" for r in rows.values()), 60,
                  "the seed to check and seed all %d torrents" % N)
        for f in sorted(os.listdir(seed_watch)):
            shutil.copy(os.path.join(seed_watch, f), os.path.join(leech_watch, f))
        state = ws.mkdir("leech-state")
        leech_port = H.free_port("127.0.0.3")
        leech = LU.Launcher(ws, "leech", leech_watch, out, state, "127.0.0.3", leech_port,
                            extra=["--max_active_downloads", str(ACTIVE)])
        most, polls, queued_seen = 0, 0, 0
        first_run = {}
        deadline = time.monotonic() + 90
        while True:
            H.check(leech.proc.poll() is None, "the leecher exited")
            rows = leech.rows()
            loaded = [r for r in rows.values() if r.get("loaded")]
            downloading = [r for r in loaded if r["state"] in DOWNLOADING]
            queued = [r for r in loaded if r["state"] == "queued"]
            most = max(most, len(downloading))
            polls += 1
            queued_seen = max(queued_seen, len(queued))
            H.check(len(downloading) <= ACTIVE, "%d torrents downloading at once: %s" %
                    (len(downloading), sorted(r["file"] for r in downloading)))
            if downloading and queued:
                last_running = max(r["queue_position"] for r in downloading)
                first_waiting = min(r["queue_position"] for r in queued)
                H.check(last_running < first_waiting, "queue order broken: position %d waits while %d downloads"
                        % (first_waiting, last_running))
            for r in loaded:
                if r["state"] != "queued":
                    first_run.setdefault(r["file"], time.monotonic())
            if len(loaded) == N and all(r["state"] == "seeding" for r in loaded):
                break
            H.check(time.monotonic() < deadline, "not all complete in 90 s: %s" %
                    sorted((r["file"], r["state"]) for r in loaded if r["state"] != "seeding"))
            time.sleep(0.05)
        H.log("polls %d, at most %d downloading, at most %d queued" % (polls, most, queued_seen))
        H.check(most >= 2, "the queue never ran downloads side by side (at most %d)" % most)
        H.check(queued_seen >= N // 2, "torrents never waited in the queue (at most %d queued)" % queued_seen)
        rows = leech.rows()
        positions = {f: r["queue_position"] for f, r in rows.items()}
        H.check(sorted(positions.values()) == list(range(N)), "queue positions are not 0..%d: %s" % (N - 1, positions))
        # Started in queue order: each torrent was first seen running no later
        # than the ones behind it (one poll of slack).
        by_pos = sorted(positions, key=positions.get)
        for a, b in zip(by_pos, by_pos[1:]):
            H.check(first_run[a] <= first_run[b] + 0.3, "%s (position %d) started after %s (position %d)" %
                    (a, positions[a], b, positions[b]))
        for i in range(N):
            name = "q%02d.bin" % i
            H.check(open(os.path.join(out, name), "rb").read() == open(os.path.join(src, name), "rb").read(),
                    "%s differs from the source" % name)
        text = leech.log_text()
        H.check("leaves the queue" in text, "the log never says a torrent leaves the queue")
        # A restart keeps the order.
        leech.proc.signal()
        H.check(leech.proc.wait(20) == 0, "the leecher did not exit 0 on SIGTERM")
        again = LU.Launcher(ws, "leech2", leech_watch, out, state, "127.0.0.3", leech_port,
                            extra=["--max_active_downloads", str(ACTIVE)])
        again.wait(lambda rows: len(rows) == N and all(r["state"] == "seeding" for r in rows.values()), 60,
                   "the restarted leecher to seed all %d" % N)
        after = {f: r["queue_position"] for f, r in again.rows().items()}
        H.check(after == positions, "queue positions changed across a restart")
        H.log("PASS: %d torrents, never more than %d downloading, started in queue order" % (N, ACTIVE))


if __name__ == "__main__":
    H.run_main(main)
