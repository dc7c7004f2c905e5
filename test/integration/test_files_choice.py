#!/usr/bin/python3
"""Per-file choices (issue 17): unwanted files are not downloaded and not
created; by RPC (the real transmission-remote -G / -g) and by a magnet's
BEP 53 so=.

A 5-file torrent (a, b, c, d, e; a, b and c are whole pieces, so b and c
share no piece with a wanted file) is seeded by libtorrent through an
opentracker on loopback.
1. Added over RPC paused, `-t 1 -G 1,2` marks b and c unwanted, `-s`
   starts it: the row becomes seeding with progress 1 and wanted_bytes
   below total_size; a, d, e are byte-identical, b and c do not exist;
   `-f` says No for them.  The tracker heard `completed`.
   `-v` re-checks: still seeding, b and c still absent.
2. `-t 1 -g 1`: b is wanted again, downloads, the row seeds again; c is
   still absent.
3. kill -9 and a restart: the choice survived (c is still unwanted and
   absent, the row seeds).
4. A second btlaunchmany with a .magnet carrying so=0,4: seeds with a, e
   identical, b, c absent, and d (which shares its last piece with e) a
   sparse file holding only the shared piece's bytes.
5. btdownloadheadless with so=1 gets b alone and exits 0 (complete).
Loopback only; --upnp/--natpmp/--lsd/--dht off."""

import base64
import os
import re
import signal
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

PIECE = 32 * H.KiB
FILES = [("0a.bin", 8 * PIECE), ("1b.bin", 6 * PIECE), ("2c.bin", 5 * PIECE),
         ("3d.bin", 3 * PIECE + PIECE // 2), ("4e.bin", 2 * PIECE + 100)]
A, B, C, D, E = (f for f, _ in FILES)
REMOTE = "/usr/bin/transmission-remote"


def remote(port, *args):
    r = subprocess.run([REMOTE, "127.0.0.1:%d" % port] + list(args), capture_output=True, text=True, timeout=30)
    H.log("transmission-remote %s -> rc %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    H.check(r.returncode == 0 and "error" not in r.stdout.lower(),
            "transmission-remote %s failed: %s %s" % (" ".join(args), r.stdout.strip(), r.stderr.strip()))
    return r.stdout


def rpc_get(port, fields):
    return L.Rpc(port).ok("torrent-get", fields=fields)["torrents"]


def rpc(port, method, args):
    return L.Rpc(port).ok(method, **args)


def check_tree(src_root, dst_root, wanted, unwanted, what):
    for rel, _ in FILES:
        name = rel
        if name in wanted:
            H.assert_same_data(os.path.join(src_root, rel), os.path.join(dst_root, rel), "%s: %s" % (what, rel))
        if name in unwanted:
            H.check(not os.path.exists(os.path.join(dst_root, rel)), "%s: unwanted %s exists" % (what, rel))


def make_ordered_torrent(src, out_path, announce):
    """A v1 torrent of src/pack with the files in FILES order (libtorrent's
    add_files takes the directory's order)."""
    import libtorrent as lt
    fs = lt.file_storage()
    for rel, size in FILES:
        fs.add_file(os.path.join("pack", rel), size)
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    ct.add_tracker(announce)
    lt.set_piece_hashes(ct, src)
    with open(out_path, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    ti = lt.torrent_info(out_path)
    return str(ti.info_hash()), ti.total_size(), ti.num_pieces()


def wanted_bytes(wanted):
    """Bytes of the pieces that a wanted file touches (the engine's count)."""
    pieces, off = set(), 0
    for i, (_, size) in enumerate(FILES):
        if i in wanted and size:
            pieces.update(range(off // PIECE, (off + size - 1) // PIECE + 1))
        off += size
    return sum(min(PIECE, off - p * PIECE) for p in pieces)


def one_row(lau):
    rows = lau.rows()
    return next(iter(rows.values())) if len(rows) == 1 else {}


def main():
    with H.Workspace("files-choice", timeout=120) as ws:
        src = ws.mkdir("seed")
        root = os.path.join(src, "pack")
        H.make_tree(root, FILES, seed=17)
        tr = H.Tracker(ws)
        tor = ws.path("pack.torrent")
        ih, total, npieces = make_ordered_torrent(src, tor, tr.announce)
        order = [f for f, _ in L.TorrentFile(tor).files]
        H.check(order == [os.path.join("pack", f) for f, _ in FILES] or order == [f for f, _ in FILES],
                "libtorrent ordered the files %r" % order)
        tr.start([ih])
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready()

        # 1. RPC: added paused, b and c unwanted, started.
        watch, save, ddir = ws.mkdir("watch"), ws.mkdir("save"), ws.mkdir("data")
        ip, port, rport = ws.next_ip(), H.free_port("127.0.0.2"), H.free_port()
        argv_extra = ["--rpc_port", str(rport)]
        lau = L.Launcher(ws, "btl", watch, save, ddir, ip, port, extra=argv_extra)
        H.wait_until(lambda: "watching" in lau.log_text(), 10, "btlaunchmany to start", procs=[lau.proc])
        # Added paused (transmission-remote's --start-paused is a session
        # setting this engine does not have): torrent-add's own "paused".
        with open(tor, "rb") as f:
            rpc(rport, "torrent-add", {"metainfo": base64.b64encode(f.read()).decode(), "paused": True})
        lau.wait(lambda rows: one_row(lau).get("state") == "stopped", 15, "the added torrent, paused")
        remote(rport, "-t", "1", "-G", "1,2")
        remote(rport, "-t", "1", "-s")
        want = wanted_bytes({0, 3, 4})
        lau.wait(lambda rows: one_row(lau).get("state") == "seeding" and one_row(lau).get("wanted_bytes") == want,
                 40, "the wanted files to download")
        row = one_row(lau)
        H.log("row: progress %s wanted_bytes %s total %s" % (row.get("progress"), row.get("wanted_bytes"), row.get("total_size")))
        H.check(row.get("progress") == 1, "progress %r, not 1" % row.get("progress"))
        H.check(row.get("total_size") == total and want < total, "total %r" % row.get("total_size"))
        dst = os.path.join(save, "pack")
        check_tree(root, dst, {A, D, E}, {B, C}, "after -G 1,2")
        listing = remote(rport, "-t", "1", "-f")
        for line in listing.splitlines():
            if B in line or C in line:
                H.check(re.search(r"\bNo\b", line), "-f does not say No for an unwanted file: %r" % line)
            elif ".bin" in line:
                H.check(re.search(r"\bYes\b", line), "-f does not say Yes for a wanted file: %r" % line)
        t = rpc_get(rport, ["fileStats", "wanted", "sizeWhenDone", "leftUntilDone", "percentDone"])[0]
        H.check(t["wanted"] == [1, 0, 0, 1, 1], "wanted %r" % t["wanted"])
        H.check(t["leftUntilDone"] == 0 and t["percentDone"] == 1, "torrent-get %r" % t)
        H.check(t["fileStats"][1]["wanted"] is False and t["fileStats"][1]["bytesCompleted"] == 0,
                "fileStats %r" % t["fileStats"][1])

        # A re-check copes with the missing unwanted files (they just have no
        # pieces) and creates none of them.
        remote(rport, "-t", "1", "-v")
        # (The first start found no data and checked nothing.)
        H.wait_until(lambda: "checked: " in lau.log_text(), 20, "the re-check", procs=[lau.proc])
        lau.wait(lambda rows: one_row(lau).get("state") == "seeding" and one_row(lau).get("progress") == 1, 20,
                 "seeding again after the re-check")
        check_tree(root, dst, {A, D, E}, {B, C}, "after the re-check")

        # 2. b wanted again.
        remote(rport, "-t", "1", "-g", "1")
        want = wanted_bytes({0, 1, 3, 4})
        lau.wait(lambda rows: one_row(lau).get("wanted_bytes") == want and one_row(lau).get("state") == "seeding" and
                 one_row(lau).get("progress") == 1, 40, "%s to download" % B)
        check_tree(root, dst, {A, B, D, E}, {C}, "after -g 1")
        H.check("files wanted again" in lau.log_text(), "the log does not say files are wanted again")

        # 3. kill -9 and restart: c stays unwanted.
        lau.proc.signal(signal.SIGKILL)
        lau.proc.wait(10)
        lau2 = L.Launcher(ws, "btl2", watch, save, ddir, ip, port, extra=argv_extra)
        lau2.wait(lambda rows: one_row(lau2).get("state") == "seeding", 30, "the torrent to seed after kill -9")
        t = rpc_get(rport, ["wanted"])[0]
        H.check(t["wanted"] == [1, 1, 0, 1, 1], "after kill -9: wanted %r" % t["wanted"])
        check_tree(root, dst, {A, B, D, E}, {C}, "after kill -9")
        lau2.proc.signal()
        H.check(lau2.proc.wait(20) == 0, "btlaunchmany did not stop cleanly")

        # 4. A magnet with so=0,4 in a fresh launcher: d (unwanted) shares
        # its last piece with e, so that piece is written whole and d is a
        # sparse file holding only those bytes; b and c never appear.
        watch3, save3, ddir3 = ws.mkdir("watch3"), ws.mkdir("save3"), ws.mkdir("data3")
        lau3 = L.Launcher(ws, "btl3", watch3, save3, ddir3, ip, port)
        quoted = urllib.parse.quote(tr.announce, safe="")
        with open(os.path.join(watch3, "pack.magnet"), "w") as f:
            f.write("magnet:?xt=urn:btih:%s&dn=pack&tr=%s&so=0,4\n" % (ih, quoted))
        lau3.wait(lambda rows: rows.get("pack.magnet", {}).get("state") == "seeding", 40,
                  "the so= magnet to download its files")
        dst3 = os.path.join(save3, "pack")
        check_tree(root, dst3, {A, E}, {B, C}, "magnet so=0,4")
        H.check("magnet so=: 2 of 5 files wanted" in lau3.log_text(), "the log does not say so= was applied")
        d_path, d_size = os.path.join(dst3, D), FILES[3][1]
        H.check(os.path.isfile(d_path), "%s (sharing a piece with %s) was not written" % (D, E))
        shared = d_size % PIECE  # the bytes of d in the piece it shares with e
        with open(d_path, "rb") as f, open(os.path.join(root, D), "rb") as g:
            f.seek(d_size - shared)
            g.seek(d_size - shared)
            H.check(f.read() == g.read(), "%s: the shared piece's bytes differ" % D)
        st = os.stat(d_path)
        H.log("%s: size %d, %d bytes allocated" % (D, st.st_size, st.st_blocks * 512))
        H.check(st.st_blocks * 512 <= PIECE, "%s holds %d bytes on disk, not only the shared piece" % (D, st.st_blocks * 512))
        lau3.proc.signal()
        H.check(lau3.proc.wait(20) == 0, "btlaunchmany did not stop cleanly")

        # 5. btdownloadheadless with so=1 (b only): exits 0 when b is done.
        out5 = ws.mkdir("headless")
        me = H.Headless(ws, "btl-headless", "magnet:?xt=urn:btih:%s&dn=pack&tr=%s&so=1" % (ih, quoted), ws.next_ip(),
                        save_in=out5, seed_time=0)
        rc = me.proc.wait(40)
        H.check(rc == 0, "btdownloadheadless so=1 exited %s" % rc)
        check_tree(root, os.path.join(out5, "pack"), {B}, {A, C, D, E}, "btdownloadheadless so=1")
        H.check(seeder.stop() == 0, "libtorrent seed did not stop cleanly")


if __name__ == "__main__":
    H.run_main(main)
