#!/usr/bin/python3
"""btlaunchmany in plain mode, observed through --status_json.

Three torrents served by one libtorrent seeder are dropped into the watched
directory one by one and must reach progress 1 / "seeding" with
byte-identical data; a corrupt .torrent shows an error row; removing a
.torrent removes its row; a .torrent written slowly in 10 chunks 300 ms
apart is loaded once, after it is complete (no error row ever appears for
it); a restart with the same DIR and --data_dir brings the completed
torrents back as seeding without downloading again.  Also: SIGTERM exits 0.
Seeder 127.0.0.2, us 127.0.0.3, opentracker 127.0.0.1."""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB


def launcher_path():
    p = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    H.check(os.path.isfile(p) and os.access(p, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
    return p


class Launcher:
    def __init__(self, ws, name, watch, save_in, data_dir, ip, port):
        self.status_path = ws.path("%s.status.json" % name)
        self.proc = ws.start(name, [
            launcher_path(), "--dht", "0", watch, "--display", "plain", "--save_in", save_in,
            "--data_dir", data_dir, "--bind", ip, "--ip", ip, "--minport", str(port),
            "--maxport", str(port), "--display_interval", "0.2",
            "--status_json", self.status_path], env=dict(os.environ, LANG="C.UTF-8"))

    def rows(self):
        d = H.read_json(self.status_path)
        return {r["file"]: r for r in (d or {}).get("torrents", [])}

    def wait(self, pred, timeout, what):
        return H.wait_until(lambda: pred(self.rows()), timeout, what, procs=[self.proc])


def main():
    launcher_path()
    with H.Workspace("launcher-plain", timeout=300) as ws:
        src = ws.mkdir("seed")
        tr = H.Tracker(ws)
        torrents = {}
        sizes = {"alpha": 3 * H.MiB + 17, "beta": 1 * H.MiB + 5, "gamma": 2 * H.MiB + 333}
        for i, (name, size) in enumerate(sizes.items()):
            H.write_random_file(os.path.join(src, name + ".bin"), size, 100 + i)
            tpath = ws.path(name + ".torrent")
            ih, _, _ = H.make_torrent(os.path.join(src, name + ".bin"), tpath, PIECE, tr.announce)
            torrents[name] = (tpath, ih)
        # A fourth torrent for the slow writer, and the multi-file one is not needed.
        H.write_random_file(os.path.join(src, "slow.bin"), 512 * H.KiB + 1, 200)
        slow_t = ws.path("slow.torrent")
        slow_ih, _, _ = H.make_torrent(os.path.join(src, "slow.bin"), slow_t, PIECE, tr.announce)
        tr.start([ih for _, ih in torrents.values()] + [slow_ih])
        seeders = []
        seed_ip = ws.next_ip()
        for name, (tpath, _) in torrents.items():
            seeders.append(H.LtPeer(ws, "lt-" + name, tpath, src, seed_ip, seed=True))
        seeders.append(H.LtPeer(ws, "lt-slow", slow_t, src, seed_ip, seed=True))
        for s in seeders:
            s.wait_ready(30)

        watch = ws.mkdir("watch")
        out = ws.mkdir("out")
        data = ws.mkdir("btl-data")
        ip = ws.next_ip()
        port = H.free_port(ip)
        run1 = Launcher(ws, "btl-run1", watch, out, data, ip, port)

        # Drop the three torrents one by one (copy to a temp name, then rename).
        for name, (tpath, _) in torrents.items():
            tmp = os.path.join(watch, "." + name + ".torrent")
            shutil.copy(tpath, tmp)
            os.rename(tmp, os.path.join(watch, name + ".torrent"))
            run1.wait(lambda r, n=name: n + ".torrent" in r, 10, "a row for %s" % name)
            H.log("row for %s appeared" % name)

        # A corrupt torrent: an error row with a reason.
        with open(os.path.join(watch, "broken.torrent"), "wb") as f:
            f.write(b"d8:announce3:abc4:infoi12ee")
        rows = run1.wait(lambda r: r.get("broken.torrent", {}).get("state") == "error" and r, 10,
                         "an error row for broken.torrent")
        H.check(rows["broken.torrent"]["error"] != "", "the error row has no reason")
        H.check(rows["broken.torrent"]["loaded"] is False, "broken.torrent claims to be loaded")

        # The slow writer: 10 chunks 300 ms apart, never an error row for it.
        blob = open(slow_t, "rb").read()
        slow_path = os.path.join(watch, "slow.torrent")
        step = (len(blob) + 9) // 10
        with open(slow_path, "wb") as f:
            for k in range(10):
                f.write(blob[k * step:(k + 1) * step])
                f.flush()
                r = run1.rows().get("slow.torrent")
                H.check(r is None, "slow.torrent got a row while still being written: %s" % r)
                time.sleep(0.3)
        run1.wait(lambda r: r.get("slow.torrent", {}).get("loaded"), 10, "slow.torrent to load")

        def all_seeding(r):
            return all(r.get(n + ".torrent", {}).get("state") == "seeding"
                       and r[n + ".torrent"]["progress"] >= 0.9999 for n in list(sizes) + ["slow"])
        H.wait_until(lambda: (H.check(run1.rows().get("slow.torrent", {}).get("state") != "error",
                                      "slow.torrent showed an error") or all_seeding(run1.rows())),
                     120, "all four torrents to seed", procs=[run1.proc])
        for name in sizes:
            H.assert_same_data(os.path.join(src, name + ".bin"), os.path.join(out, name + ".bin"), name)
        H.assert_same_data(os.path.join(src, "slow.bin"), os.path.join(out, "slow.bin"), "slow")

        # rm removes the row; the data stays.
        os.remove(os.path.join(watch, "beta.torrent"))
        run1.wait(lambda r: "beta.torrent" not in r, 10, "beta's row to go")
        H.check(os.path.exists(os.path.join(out, "beta.bin")), "removing the .torrent deleted the data")
        os.remove(os.path.join(watch, "broken.torrent"))
        run1.wait(lambda r: "broken.torrent" not in r, 10, "the error row to go")

        run1.proc.signal()
        rc = run1.proc.wait(30)
        H.check(rc == 0, "SIGTERM: btlaunchmany exited %s, expected 0" % rc)

        # Restart: the completed torrents come back seeding, nothing downloaded.
        run2 = Launcher(ws, "btl-run2", watch, out, data, ip, port)
        rows = run2.wait(lambda r: all(r.get(n, {}).get("state") == "seeding"
                                       for n in ("alpha.torrent", "gamma.torrent", "slow.torrent")) and r,
                         60, "the restarted torrents to seed")
        for n in ("alpha.torrent", "gamma.torrent", "slow.torrent"):
            H.check(rows[n]["downloaded"] <= PIECE, "%s downloaded %d bytes after the restart"
                    % (n, rows[n]["downloaded"]))
        H.check("beta.torrent" not in rows, "beta came back although its .torrent is gone")
        run2.proc.signal()
        H.check(run2.proc.wait(30) == 0, "run 2 did not exit 0 on SIGTERM")


if __name__ == "__main__":
    H.run_main(main)
