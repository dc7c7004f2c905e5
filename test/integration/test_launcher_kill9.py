#!/usr/bin/python3
"""kill -9 loops: btlaunchmany downloads two torrents with many pieces (a
32 MiB file in 1024 pieces, a 16 MiB uneven tree in 1024 pieces) from
rate-limited libtorrent seeders and is SIGKILLed at random moments, at
least KILLS times, rotating through: a random instant right after start;
while it re-checks (its log says "re-checking"); right after a piece
completed (status have_bytes grew); a random instant while downloading.
After every kill: each resume file is absent or one complete bencoded
document, and every piece it claims hashes correctly on disk.  After every
restart: no resume data is ignored, and once checked, each torrent has at
least the pieces its resume file claimed (and those found good on disk,
less two pieces of slack).  Finally a clean run completes byte-identical,
SIGTERM exits 0 with full resume data, and no temporary file is left.
Seeders 127.0.0.2, us 127.0.0.3.  BTL_KILL9_SEED picks the random seed."""

import os
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

KILLS = int(os.environ.get("BTL_KILL9_ITERATIONS", "20"))
SEED_RATE = 700_000   # bytes/s per seeder: the download spans all the kills


def main():
    L.launcher_path()
    seed = int(os.environ.get("BTL_KILL9_SEED", str(int(time.time()) % 100000)))
    rng = random.Random(seed)
    H.log("random seed %d (BTL_KILL9_SEED to repeat)" % seed)
    with H.Workspace("launcher-kill9", timeout=600) as ws:
        src = ws.mkdir("seed")
        tr = H.Tracker(ws)
        H.write_random_file(os.path.join(src, "big.bin"), 32 * H.MiB, 501)
        H.make_tree(os.path.join(src, "tree"), H.uneven_layout(16 * H.MiB, 16 * H.KiB, n_files=6, seed=502), seed=502)
        specs = {"big.bin": 32 * H.KiB, "tree": 16 * H.KiB}
        tors = {}
        for name, piece in specs.items():
            t = ws.path(name + ".torrent")
            H.make_torrent(os.path.join(src, name), t, piece, tr.announce)
            tors[name] = (t, L.TorrentFile(t))
        tr.start([tf.info_hash for _, tf in tors.values()])
        seed_ip = ws.next_ip()
        seeders = [H.LtPeer(ws, "lt-" + n, t, src, seed_ip, seed=True, upload_limit=SEED_RATE)
                   for n, (t, _) in tors.items()]
        for s in seeders:
            s.wait_ready(30)

        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        for n, (t, _) in tors.items():
            shutil.copy(t, os.path.join(watch, n + ".torrent"))
        ip = ws.next_ip()
        port = H.free_port(ip)
        status = ws.path("status.json")

        def files_of(r):
            return [r.get(n + ".torrent", {}) for n in tors]

        def checked(r):
            return all(x.get("loaded") and x.get("state") in ("downloading", "seeding") for x in files_of(r))

        def verify_after_kill(it):
            """Resume files complete and truthful; returns {name: (claimed, good)}."""
            res = {}
            for n, (_, tf) in tors.items():
                d = L.read_resume(data, tf.info_hash)
                claimed = L.claimed_pieces(d) if d else set()
                good = tf.good_pieces(os.path.join(out, n))
                bad = sorted(claimed - good)
                H.check(not bad, "kill %d: resume of %s claims %d piece(s) that fail their hash on disk, e.g. %s"
                        % (it, n, len(bad), bad[:5]))
                res[n] = (claimed, good)
            return res

        def bytes_of(tf, pieces):
            return sum(tf.piece_size(i) for i in pieces)

        last = {n: (set(), set()) for n in tors}
        counts = {}
        ran = []
        it = 0
        complete_kills = 0
        while it < KILLS:
            mode = ("early", "checking", "piece", "random")[it % 4]
            if os.path.exists(status):
                os.remove(status)  # the killed run's last status must not pass for this run's
            btl = L.Launcher(ws, "btl-%02d" % it, watch, out, data, ip, port, status_path=status, interval="0.1")
            ran.append(btl)
            detail = ""
            if mode == "early":
                delay = rng.uniform(0.02, 0.4)
                time.sleep(delay)
                detail = "%.2fs after start" % delay
            elif mode == "checking":
                try:
                    H.wait_until(lambda: "re-checking" in btl.log_text(), 3, "a re-check", interval=0.005,
                                 procs=[btl.proc])
                    time.sleep(rng.uniform(0, 0.05))
                    txt = btl.log_text()
                    detail = "during a re-check (%d of 2 checks done)" % txt.count("checked: ")
                except H.Fail:
                    detail = "no re-check was needed"
            else:
                rows = btl.wait(lambda r: checked(r) and r, 30, "run %d to finish checking" % it, interval=0.02)
                # Progress kept: at least what the resume claimed, and what was good on disk.
                for n, (_, tf) in tors.items():
                    have = rows[n + ".torrent"]["have_bytes"]
                    claimed, good = last[n]
                    H.check(have >= bytes_of(tf, claimed), "run %d: %s has %d bytes after the restart, its resume "
                            "claimed %d" % (it, n, have, bytes_of(tf, claimed)))
                    H.check(have >= bytes_of(tf, good) - 2 * tf.piece_length,
                            "run %d: %s has %d bytes after the restart, %d were good on disk" %
                            (it, n, have, bytes_of(tf, good)))
                # A resume file left by the last kill was read, not ignored.
                txt = btl.log_text()
                for n, (_, tf) in tors.items():
                    if os.path.exists(L.resume_file(data, tf.info_hash)) and it > 0:
                        H.check(n + ": resumed: " in txt or n + ": files changed since the last run; re-checking" in txt,
                                "run %d did not use the resume file of %s:\n%s" % (it, n, btl.proc.tail(15)))
                if mode == "piece":
                    base = {n: rows[n + ".torrent"]["have_bytes"] for n in tors}
                    try:
                        btl.wait(lambda r: any(r.get(n + ".torrent", {}).get("have_bytes", 0) > base[n] for n in tors),
                                 15, "a piece to complete", interval=0.005)
                        detail = "right after a piece completed"
                    except H.Fail:
                        detail = "no piece completed (all done?)"
                else:
                    delay = rng.uniform(0.3, 2.5)
                    time.sleep(delay)
                    detail = "%.2fs into the download" % delay
            H.check(btl.proc.poll() is None, "run %d exited by itself (rc %s)" % (it, btl.proc.returncode))
            btl.proc.signal(9)
            btl.proc.wait(10)
            txt = btl.log_text()
            H.check("ignoring resume data" not in txt, "run %d ignored its resume data:\n%s" % (it, btl.proc.tail(20)))
            last = verify_after_kill(it)
            counts[mode] = counts.get(mode, 0) + 1
            prog = ", ".join("%s %d/%d claimed, %d good" % (n, len(last[n][0]), tors[n][1].num_pieces(), len(last[n][1]))
                             for n in tors)
            H.log("kill %d (%s): %s; %s" % (it, mode, detail, prog))
            if all(len(last[n][1]) == tors[n][1].num_pieces() for n in tors):
                complete_kills += 1
            it += 1
        H.check(complete_kills < KILLS // 2, "the download finished too early: %d of %d kills hit a complete "
                "download" % (complete_kills, KILLS))

        os.remove(status)
        final = L.Launcher(ws, "btl-final", watch, out, data, ip, port, status_path=status)
        final.wait(lambda r: all(x.get("state") == "seeding" for x in files_of(r)), 240, "the final run to complete")
        for n in tors:
            H.assert_same_data(os.path.join(src, n), os.path.join(out, n), n)
        final.proc.signal()
        H.check(final.proc.wait(30) == 0, "SIGTERM: the final run did not exit 0")
        for n, (_, tf) in tors.items():
            d = L.read_resume(data, tf.info_hash)
            H.check(d is not None and len(L.claimed_pieces(d)) == tf.num_pieces(),
                    "after a clean exit the resume of %s does not claim every piece" % n)
        for r in ran + [final]:
            H.check("ignoring resume data" not in r.log_text(), "%s ignored resume data" % r.name)
        temps = [n for n in os.listdir(os.path.join(data, "resume")) if ".tmp." in n]
        H.check(temps == [], "temporary resume files left: %s" % temps)
        stemps = [n for n in os.listdir(ws.dir) if n.startswith("status.json.tmp.")]
        H.check(stemps == [], "temporary status files left: %s" % stemps)
        H.log("%d kills: %s" % (KILLS, counts))


if __name__ == "__main__":
    H.run_main(main)
