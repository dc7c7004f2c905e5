#!/usr/bin/python3
"""Labels from folders, --incomplete_dir, and the RPC through transmission-remote.

- WATCH/movies/film.torrent gets label "movies" and is saved under
  SAVE/movies/ (its data is there already: it checks and seeds from there);
- WATCH/tv/show.torrent gets label "tv" and is saved under the directory the
  config file gives (label.tv.save_in), also pre-placed: it seeds;
- WATCH/plain.torrent has no label and no data: with --incomplete_dir it is
  placed in INC/ (a download waits there, nothing appears in SAVE/);
- status JSON and transmission-remote -i show the labels;
- transmission-remote -t HASH -L kids sets a label (torrent-set labels),
  kept across a restart (resume data);
- transmission-remote -t HASH --move SAVE/archive moves film's data (it
  seeds from there, byte-identical, the old place empty), and moves plain
  (a download: it is not left paused); --move to a directory outside the
  configured ones is refused with a clear error;
- a config with a bad label line is refused at start naming file:line.
No peers: the tracker URL points at a closed port."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

REMOTE = "/usr/bin/transmission-remote"


def remote(port, *args, check=True):
    r = subprocess.run([REMOTE, "127.0.0.1:%d" % port] + list(args), capture_output=True, text=True, timeout=30)
    H.log("transmission-remote %s -> rc %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    if check:
        H.check(r.returncode == 0 and "error" not in (r.stdout + r.stderr).lower(),
                "transmission-remote %s failed: %s %s" % (" ".join(args), r.stdout.strip(), r.stderr.strip()))
    return r


def main():
    L.launcher_path()
    with H.Workspace("places-labels", timeout=120) as ws:
        src = ws.mkdir("src")
        watch, save, data, inc = ws.mkdir("watch"), ws.mkdir("save"), ws.mkdir("data"), ws.mkdir("inc")
        tvdir = ws.mkdir("tvshows")
        tors = {}
        for name, size in (("Film", 3 * H.MiB), ("Show", 2 * H.MiB), ("Plain", 1 * H.MiB)):
            H.make_tree(os.path.join(src, name), H.uneven_layout(size, 64 * H.KiB, n_files=3, seed=len(name)),
                        seed=len(name))
            t = ws.path(name + ".torrent")
            H.make_torrent(os.path.join(src, name), t, 64 * H.KiB, "http://127.0.0.1:9/announce")
            tors[name] = (t, L.TorrentFile(t).info_hash)
        shutil.copytree(os.path.join(src, "Film"), os.path.join(save, "movies", "Film"))
        shutil.copytree(os.path.join(src, "Show"), os.path.join(tvdir, "Show"))
        os.makedirs(os.path.join(watch, "movies"))
        os.makedirs(os.path.join(watch, "tv"))
        shutil.copy(tors["Film"][0], os.path.join(watch, "movies", "film.torrent"))
        shutil.copy(tors["Show"][0], os.path.join(watch, "tv", "show.torrent"))
        shutil.copy(tors["Plain"][0], os.path.join(watch, "plain.torrent"))

        bad = ws.path("bad.conf")
        with open(bad, "w") as f:
            f.write("max_uploads = 4\nlabel.tv.save_in = relative\n")
        r = subprocess.run([L.launcher_path(), watch, "--config", bad, "--display", "plain", "--data_dir", data,
                            "--dht", "0", "--rpc_port", "0"] + H.NO_REACH, capture_output=True, text=True, timeout=20)
        H.check(r.returncode == 2 and "bad.conf:2" in r.stderr and "label.tv.save_in" in r.stderr,
                "a bad label line: rc %d, stderr %r" % (r.returncode, r.stderr))

        conf = ws.path("btl.conf")
        with open(conf, "w") as f:
            f.write("# labels\nlabel.tv.save_in = %s\nlabel.tv.seed_ratio = 1.5\n" % tvdir)
        ip = ws.next_ip()
        port = H.free_port(ip)
        rpc_port = H.free_port("127.0.0.1")
        extra = ["--config", conf, "--incomplete_dir", inc, "--rpc_port", str(rpc_port), "--parse_dir_interval", "2"]
        btl = L.Launcher(ws, "btl", watch, save, data, ip, port, extra=extra)
        rows = btl.wait(lambda r: r.get("movies/film.torrent", {}).get("state") == "seeding" and
                        r.get("tv/show.torrent", {}).get("state") == "seeding" and
                        r.get("plain.torrent", {}).get("loaded") and r, 40, "the three torrents to load")
        film, show, plain = rows["movies/film.torrent"], rows["tv/show.torrent"], rows["plain.torrent"]
        H.check(film["label"] == "movies" and film["save_path"] == os.path.join(save, "movies", "Film"),
                "film: label %r save_path %r" % (film["label"], film["save_path"]))
        H.check(show["label"] == "tv" and show["save_path"] == os.path.join(tvdir, "Show"),
                "show: label %r save_path %r (label.tv.save_in not honoured)" % (show["label"], show["save_path"]))
        H.check(plain["label"] == "" and plain["save_path"] == os.path.join(inc, "Plain"),
                "plain: label %r save_path %r (not in --incomplete_dir)" % (plain["label"], plain["save_path"]))

        info = remote(rpc_port, "-t", tors["Film"][1], "-i").stdout
        H.check(re.search(r"Labels:\s*movies\s*$", info, re.M), "transmission-remote -i does not show the label: %s" % info)
        remote(rpc_port, "-t", tors["Plain"][1], "-L", "kids")
        btl.wait(lambda r: r.get("plain.torrent", {}).get("label") == "kids", 10, "the RPC label to show")

        archive = os.path.join(save, "archive")
        remote(rpc_port, "-t", tors["Film"][1], "--move", archive)
        row = btl.wait(lambda r: r.get("movies/film.torrent", {}).get("save_path") == os.path.join(archive, "Film")
                       and r["movies/film.torrent"], 20, "film to move to the archive")
        H.check(row["state"] == "seeding", "film is %s after the move" % row["state"])
        H.assert_same_data(os.path.join(src, "Film"), os.path.join(archive, "Film"), "film after the RPC move")
        H.check(not os.path.exists(os.path.join(save, "movies", "Film")), "film's old place still exists")
        # A download in progress moves too: its peers stop for the move and
        # start again after (not left paused).
        remote(rpc_port, "-t", tors["Plain"][1], "--move", archive)
        row = btl.wait(lambda r: r.get("plain.torrent", {}).get("save_path") == os.path.join(archive, "Plain")
                       and r["plain.torrent"], 20, "plain to move to the archive")
        H.check(row["state"] in ("downloading", "stalled"), "plain is %s after its move" % row["state"])
        r = remote(rpc_port, "-t", tors["Show"][1], "--move", "/var/tmp/elsewhere", check=False)
        H.check("outside the configured save directories" in r.stdout + r.stderr,
                "a move outside the roots was not refused: %s %s" % (r.stdout, r.stderr))

        # Restart: the RPC label and the moved place stay.
        btl.proc.signal(15)
        H.check(btl.proc.wait(20) == 0, "SIGTERM did not exit 0")
        btl2 = L.Launcher(ws, "btl2", watch, save, data, ip, port, extra=extra)
        rows = btl2.wait(lambda r: r.get("movies/film.torrent", {}).get("state") == "seeding" and
                         r.get("plain.torrent", {}).get("loaded") and r, 40, "the torrents after the restart")
        H.check(rows["plain.torrent"]["label"] == "kids", "the RPC label was lost: %r" % rows["plain.torrent"]["label"])
        H.check(rows["movies/film.torrent"]["save_path"] == os.path.join(archive, "Film"),
                "film forgot its new place: %s" % rows["movies/film.torrent"]["save_path"])
        H.check("files changed since the last run" not in btl2.log_text(), "a torrent was re-checked after the restart")


if __name__ == "__main__":
    H.run_main(main)
