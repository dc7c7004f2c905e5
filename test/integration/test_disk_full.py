#!/usr/bin/python3
"""A full disk while downloading, in btlaunchmany (plain view, status_json).

The torrent "big" (32 MiB, four files) is saved on a 40 MiB tmpfs that a
filler file has filled to 8 MiB free.  It must:
- report state error "disk full writing PATH" (status_json) and log it,
  naming a file on the tmpfs;
- keep what it verified and keep seeding it: with its seed gone, a fresh
  libtorrent leecher gets exactly those pieces from us, none failing
  libtorrent's hash check;
- not hold up other torrents: "small", dropped while big is stuck, downloads
  to the normal disk and seeds;
- resume by itself once the filler is deleted (--disk_retry_interval 1) and
  end byte-identical; the leecher then completes from us.
Then btdownloadheadless under a 2 MiB file-size limit (prlimit --fsize)
downloading a 6 MiB file: EFBIG must not kill it (SIGXFSZ); it reports
"file too large writing PATH", keeps running, and its attempts back off
(1 s, 2 s, 4 s, ...: each retry finds space, so each attempt fails again).
Seeds 127.0.0.2, us 127.0.0.3, leecher 127.0.0.4, opentracker 127.0.0.1."""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 256 * H.KiB


class Launcher:
    def __init__(self, ws, name, watch, save_in, data_dir, ip, port, extra=()):
        exe = os.path.join(H.btl_bin_dir(), "btlaunchmany")
        H.check(os.access(exe, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
        self.status_path = ws.path("%s.status.json" % name)
        self.proc = ws.start(name, [
            exe, "--dht", "0", watch, "--display", "plain", "--save_in", save_in,
            "--data_dir", data_dir, "--bind", ip, "--ip", ip, "--minport", str(port),
            "--maxport", str(port), "--display_interval", "0.2",
            "--status_json", self.status_path] + list(extra), env=dict(os.environ, LANG="C.UTF-8"))
        self.ip, self.port = ip, port

    def rows(self):
        d = H.read_json(self.status_path)
        return {r["file"]: r for r in (d or {}).get("torrents", [])}

    def row(self, file):
        return self.rows().get(file, {})

    def wait(self, pred, timeout, what):
        return H.wait_until(lambda: pred(self.rows()), timeout, what, procs=[self.proc])

    def log_text(self):
        with open(self.proc.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")


def drop(watch, tpath):
    tmp = os.path.join(watch, "." + os.path.basename(tpath))
    shutil.copy(tpath, tmp)
    os.rename(tmp, os.path.join(watch, os.path.basename(tpath)))


def main():
    with H.Workspace("disk-full", timeout=300) as ws:
        src = ws.mkdir("src")
        tr = H.Tracker(ws)
        big_src = os.path.join(src, "big")
        H.make_tree(big_src, [("f%d.bin" % i, 8 * H.MiB + 1000 * i) for i in range(4)], seed=41)
        big_t = ws.path("big.torrent")
        big_ih, big_size, big_pieces = H.make_torrent(big_src, big_t, PIECE, tr.announce)
        H.write_random_file(os.path.join(src, "small.bin"), 3 * H.MiB + 5, 42)
        small_t = ws.path("small.torrent")
        small_ih, _, _ = H.make_torrent(os.path.join(src, "small.bin"), small_t, PIECE, tr.announce)
        H.write_random_file(os.path.join(src, "one.bin"), 6 * H.MiB + 11, 43)
        one_t = ws.path("one.torrent")
        one_ih, _, _ = H.make_torrent(os.path.join(src, "one.bin"), one_t, PIECE, tr.announce)
        tr.start([big_ih, small_ih, one_ih])

        seed_ip = ws.next_ip()
        big_seed = H.LtPeer(ws, "lt-seed-big", big_t, src, seed_ip, seed=True)
        small_seed = H.LtPeer(ws, "lt-seed-small", small_t, src, seed_ip, seed=True)
        big_seed.wait_ready(30)
        small_seed.wait_ready(30)

        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("btl-data")
        # btlaunchmany saves the multi-file torrent "big" in out/big: that
        # directory is the small disk.
        disk = H.mount_tmpfs(ws, os.path.join(out, "big"), "40m")
        filler = os.path.join(disk, "filler")
        with open(filler, "wb") as f:
            f.write(b"\xa5" * (32 * H.MiB))
        st = os.statvfs(disk)
        free = st.f_bavail * st.f_frsize
        H.log("tmpfs free after the filler: %d bytes" % free)
        H.check(free < big_size // 2, "the filler left too much room (%d bytes)" % free)

        ip = ws.next_ip()
        btl = Launcher(ws, "btl", watch, out, data, ip, H.free_port(ip), ["--disk_retry_interval", "1"])
        drop(watch, big_t)

        row = btl.wait(lambda r: r.get("big.torrent", {}).get("state") == "error" and r["big.torrent"], 60,
                       "big to report the full disk")
        H.log("big: %s" % row["error"])
        H.check(row["error"].startswith("disk full writing " + disk + "/"),
                "error does not say 'disk full writing <file on the tmpfs>': %r" % row["error"])
        H.check("seeding what we have" in row["error"], "error does not say it keeps seeding: %r" % row["error"])
        H.wait_until(lambda: "disk full writing " + disk + "/" in btl.log_text(), 5,
                     "a log line naming the file that could not be written")
        have = btl.row("big.torrent")["have_bytes"]
        H.check(0 < have < big_size, "big has %d of %d bytes verified while the disk is full" % (have, big_size))

        # The pieces we have are served: with the seed gone, a leecher can
        # only get them from us.
        H.check(big_seed.stop() == 0, "the big seed did not stop cleanly")
        leecher = H.LtPeer(ws, "lt-leecher", big_t, ws.mkdir("leecher"), ws.next_ip(),
                           connect=[(btl.ip, btl.port)])
        H.wait_until(lambda: leecher.status().get("downloaded", 0) >= have, 60,
                     "the leecher to get the %d bytes we have (status %s)" % (have, leecher.status_path),
                     procs=[leecher.proc, btl.proc])
        r = btl.wait(lambda r: r.get("big.torrent", {}).get("uploaded", 0) >= have and r["big.torrent"], 10,
                     "our status to count the %d bytes uploaded" % have)
        H.check(r["state"] == "error", "big left the error state without space: %s" % r)
        H.check(leecher.status().get("failed_bytes") == 0,
                "the leecher got data that failed its hash check: %s" % leecher.status())
        H.check(leecher.status().get("progress", 0) < 1, "the leecher finished without a seed")

        # Other torrents carry on meanwhile.
        drop(watch, small_t)
        btl.wait(lambda r: r.get("small.torrent", {}).get("state") == "seeding", 60, "small to download and seed")
        H.assert_same_data(os.path.join(src, "small.bin"), os.path.join(out, "small.bin"), "small")
        r = btl.row("big.torrent")
        H.check(r["state"] == "error" and r["have_bytes"] <= have + 2 * PIECE,
                "big changed while its disk stayed full: %s" % r)

        # Space comes back: big resumes by itself and completes.
        os.remove(filler)
        H.LtPeer(ws, "lt-seed-big2", big_t, src, seed_ip, seed=True, connect=[(btl.ip, btl.port)])
        btl.wait(lambda r: r.get("big.torrent", {}).get("state") == "seeding", 90, "big to resume and complete")
        H.check("resuming the download" in btl.log_text(), "no log line about resuming the download")
        H.assert_same_data(big_src, disk, "big")
        leecher.wait_seeding(60)
        H.check(leecher.status().get("failed_bytes") == 0,
                "the leecher got data that failed its hash check: %s" % leecher.status())
        H.assert_same_data(big_src, os.path.join(ws.path("leecher"), "big"), "leecher")
        H.check(btl.row("small.torrent").get("state") == "seeding", "small stopped seeding")

        file_size_limit(ws, src, one_t, seed_ip)


def file_size_limit(ws, src, one_t, seed_ip):
    seed = H.LtPeer(ws, "lt-seed-one", one_t, src, seed_ip, seed=True)
    seed.wait_ready(30)
    save = ws.mkdir("one-out")
    us = H.Headless(ws, "btl-fsize", one_t, ws.next_ip(), save_in=save,
                    extra=["--disk_retry_interval", "1"], wrapper=["prlimit", "--fsize=%d" % (2 * H.MiB), "--"])
    st = H.wait_until(lambda: (s := us.status()).get("state") == "error" and s, 60,
                      "the file-size limit to be reported", procs=[us.proc])
    path = os.path.join(save, "one.bin")
    H.check(st["error"].startswith("file too large writing %s; seeding what we have" % path),
            "unexpected error: %r" % st["error"])
    # The first pieces are picked at random, so the first write past the
    # limit may come before or after any piece below it was written.
    H.check(0 <= st["have_bytes"] <= 2 * H.MiB, "have_bytes %d with a 2 MiB limit" % st["have_bytes"])
    # Three more failed attempts: the waits announced in the log must grow.
    def waits():
        text = open(us.proc.logpath, "rb").read().decode("utf-8", "replace")
        return [int(x) for x in re.findall(r"pieces we have; looking for free space in (\d+) s", text)]
    H.wait_until(lambda: len(waits()) >= 4, 60, "four failed attempts", procs=[us.proc])
    w = waits()
    H.log("waits between attempts: %s" % w)
    H.check(w[:4] == [1, 2, 4, 8], "attempts did not back off 1, 2, 4, 8 s: %s" % w)
    time.sleep(0.5)
    H.check(us.proc.poll() is None, "btdownloadheadless died (rc %s) at the file-size limit" % us.proc.returncode)
    H.check(os.path.getsize(path) <= 2 * H.MiB, "the file grew past the limit")
    H.check(us.stop() == 0, "btdownloadheadless did not exit 0 on SIGTERM")


if __name__ == "__main__":
    H.run_main(main)
