#!/usr/bin/python3
"""A save directory that cannot be written, found at start.

Root ignores permission bits, so the unwritable directory is a read-only
tmpfs mount.
1. btdownloadheadless with --save_in on it exits non-zero at once with
   "save directory DIR is not writable: Read-only file system".
2. The same torrent complete on a read-only mount is fine: it seeds, and a
   libtorrent leecher downloads it (seeding from read-only media).
3. btlaunchmany with two torrents: "ro" (saved on the read-only mount) shows
   an error row with that message, while "ok" downloads and seeds.
Seed 127.0.0.2, us .3/.4/.6, leecher .5, opentracker 127.0.0.1."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
ROFS = "Read-only file system"


def rows(path):
    d = H.read_json(path)
    return {r["file"]: r for r in (d or {}).get("torrents", [])}


def main():
    with H.Workspace("disk-readonly", timeout=240) as ws:
        src = ws.mkdir("src")
        tr = H.Tracker(ws)
        H.make_tree(os.path.join(src, "ro"), [("a.bin", 1 * H.MiB + 7), ("sub/b.bin", 700 * H.KiB)], seed=61)
        ro_t = ws.path("ro.torrent")
        ro_ih, _, _ = H.make_torrent(os.path.join(src, "ro"), ro_t, PIECE, tr.announce)
        H.write_random_file(os.path.join(src, "ok.bin"), 2 * H.MiB + 3, 62)
        ok_t = ws.path("ok.torrent")
        ok_ih, _, _ = H.make_torrent(os.path.join(src, "ok.bin"), ok_t, PIECE, tr.announce)
        tr.start([ro_ih, ok_ih])
        seed_ip = ws.next_ip()
        for name, t in (("ro", ro_t), ("ok", ok_t)):
            H.LtPeer(ws, "lt-seed-" + name, t, src, seed_ip, seed=True).wait_ready(30)

        # 1. btdownloadheadless into a read-only directory.
        empty_ro = H.mount_tmpfs(ws, ws.path("empty-ro"), "4m", read_only=True)
        us = H.Headless(ws, "btl-headless-ro", ro_t, ws.next_ip(), save_in=empty_ro)
        rc = us.proc.wait(30)
        text = open(us.proc.logpath, "rb").read().decode("utf-8", "replace")
        want = "btdownloadheadless: ro: save directory %s is not writable: %s" % (empty_ro, ROFS)
        H.check(rc != 0, "btdownloadheadless exited 0 with a read-only save directory")
        H.check(want in text, "btdownloadheadless did not say %r; output:\n%s" % (want, us.proc.tail(10)))
        H.log("headless: %s (rc %d)" % (want, rc))

        # 2. Complete data on a read-only mount seeds.
        full_ro = H.mount_tmpfs(ws, ws.path("full-ro"), "8m")
        shutil.copytree(os.path.join(src, "ro"), os.path.join(full_ro, "ro"))
        r = subprocess.run(["mount", "-o", "remount,ro", full_ro], capture_output=True, text=True, timeout=20)
        H.check(r.returncode == 0, "cannot remount %s read-only: %s" % (full_ro, r.stderr.strip()))
        H.check(not os.access(full_ro, os.W_OK), "%s is still writable after remount,ro" % full_ro)
        seed_ip2 = ws.next_ip()
        ro_seed = H.Headless(ws, "btl-headless-ro-seed", ro_t, seed_ip2, save_in=full_ro)
        ro_seed.wait_state(("seeding",), 30)
        leecher = H.LtPeer(ws, "lt-leecher", ro_t, ws.mkdir("leecher"), ws.next_ip(), connect=[(seed_ip2, ro_seed.port)])
        leecher.wait_seeding(60)
        H.check(leecher.status().get("failed_bytes") == 0, "the leecher got bad data: %s" % leecher.status())
        H.assert_same_data(os.path.join(src, "ro"), os.path.join(ws.path("leecher"), "ro"), "leecher")
        H.check(ro_seed.status().get("state") == "seeding", "the read-only seed left seeding: %s" % ro_seed.status())
        ro_seed.stop()

        # 3. btlaunchmany: one torrent's directory is read-only, the other's is not.
        exe = os.path.join(H.btl_bin_dir(), "btlaunchmany")
        H.check(os.access(exe, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("btl-data")
        ro_dir = H.mount_tmpfs(ws, os.path.join(out, "ro"), "4m", read_only=True)
        ip = ws.next_ip()
        port = H.free_port(ip)
        status = ws.path("btl.status.json")
        btl = ws.start("btl", [exe, "--dht", "0", watch, "--display", "plain", "--save_in", out, "--data_dir", data,
                               "--bind", ip, "--ip", ip, "--minport", str(port), "--maxport", str(port),
                               "--display_interval", "0.2", "--status_json", status, "--rpc_port", "0"] + H.NO_REACH)
        for t in (ro_t, ok_t):
            os.link(t, os.path.join(watch, os.path.basename(t)))
        row = H.wait_until(lambda: rows(status).get("ro.torrent", {}).get("state") == "error"
                           and rows(status)["ro.torrent"], 30, "an error row for ro.torrent", procs=[btl])
        want = "save directory %s is not writable: %s" % (ro_dir, ROFS)
        H.check(row["error"] == want, "ro.torrent error %r, expected %r" % (row["error"], want))
        H.check(row["loaded"] is True, "ro.torrent should be loaded (and in error): %s" % row)
        H.wait_until(lambda: rows(status).get("ok.torrent", {}).get("state") == "seeding", 60,
                     "ok.torrent to download beside it", procs=[btl])
        H.assert_same_data(os.path.join(src, "ok.bin"), os.path.join(out, "ok.bin"), "ok")
        H.check(rows(status)["ro.torrent"]["state"] == "error", "ro.torrent left the error state")
        text = open(btl.logpath, "rb").read().decode("utf-8", "replace")
        H.check("error: ro: " + want in text, "no log line %r" % want)
        btl.signal()
        H.check(btl.wait(30) == 0, "btlaunchmany did not exit 0 on SIGTERM")


if __name__ == "__main__":
    H.run_main(main)
