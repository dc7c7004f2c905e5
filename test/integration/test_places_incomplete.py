#!/usr/bin/python3
"""--incomplete_dir: a download lives there until complete, then moves to
its save path (one file system: a rename) and seeds from there.

A libtorrent seeder (127.0.0.2, capped so the download lasts a few
seconds) serves a single-file torrent; btlaunchmany (127.0.0.3) runs with
--incomplete_dir INC.  While downloading: the file is in INC and not in
--save_in, status save_path is INC/file.  Once complete: save_path is
SAVE/file, the file is byte-identical there, INC holds nothing, state
seeding."""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

SIZE = 6 * H.MiB


def main():
    L.launcher_path()
    with H.Workspace("places-incomplete", timeout=90) as ws:
        src = ws.mkdir("seed")
        tr = H.Tracker(ws)
        H.write_random_file(os.path.join(src, "file.bin"), SIZE, 91)
        tor = ws.path("file.torrent")
        H.make_torrent(os.path.join(src, "file.bin"), tor, 64 * H.KiB, tr.announce)
        tr.start([L.TorrentFile(tor).info_hash])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, upload_limit=1_500_000)
        seeder.wait_ready(30)
        watch, save, data, inc = ws.mkdir("watch"), ws.mkdir("save"), ws.mkdir("data"), ws.mkdir("inc")
        shutil.copy(tor, os.path.join(watch, "file.torrent"))
        ip = ws.next_ip()
        btl = L.Launcher(ws, "btl", watch, save, data, ip, H.free_port(ip), extra=["--incomplete_dir", inc])
        row = btl.wait(lambda r: 0 < r.get("file.torrent", {}).get("have_bytes", 0) < SIZE and r["file.torrent"], 40,
                       "the download to be under way")
        H.check(row["save_path"] == os.path.join(inc, "file.bin"), "downloading at %s, not in INC" % row["save_path"])
        H.check(os.path.exists(os.path.join(inc, "file.bin")), "no file in --incomplete_dir while downloading")
        H.check(not os.path.exists(os.path.join(save, "file.bin")), "the file is in --save_in before completion")
        row = btl.wait(lambda r: r.get("file.torrent", {}).get("save_path") == os.path.join(save, "file.bin") and
                       r["file.torrent"], 60, "the completed file to move to --save_in")
        H.check(row["state"] == "seeding" and row["progress"] == 1.0, "after the move: %s %s" % (row["state"], row["progress"]))
        H.assert_same_data(os.path.join(src, "file.bin"), os.path.join(save, "file.bin"), "the moved file")
        H.check(os.listdir(inc) == [], "--incomplete_dir still holds %s" % os.listdir(inc))
        H.check("moved the data to " + os.path.join(save, "file.bin") in btl.log_text(), "no 'moved the data' log line")


if __name__ == "__main__":
    H.run_main(main)
