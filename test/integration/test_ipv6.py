#!/usr/bin/python3
"""IPv6 over ::1 with bttrack (BEP 7), libtorrent and ours.

(a) bttrack with its default bind listens on both stacks; an announce that
    arrives over IPv6 is answered with compact `peers6` (18-byte entries)
    naming the other IPv6 announcer, and an IPv4 announce still works.
(b) A libtorrent seed listening on [::1] announces to http://[::1]:P; our
    leecher with NO --bind (both stacks) finds it through peers6, dials it
    over IPv6 and finishes byte-identical; its log says it listens on both.
(c) Our seed with --bind ::1 <- a libtorrent leecher on [::1] (the only
    seed it can get: the libtorrent seed is gone by then): it finishes and
    our seed counts the upload.
Bounded well under 60 s."""

import os
import signal
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 3 * H.MiB + 777


def bttrack_path():
    p = os.path.join(H.btl_bin_dir(), "bttrack")
    H.check(os.access(p, os.X_OK), "bttrack not found in BTL_BIN (%s)" % H.btl_bin_dir())
    return p


def announce(host, port, ih, peer_id, peer_port):
    q = urllib.parse.urlencode({"info_hash": ih, "peer_id": peer_id, "port": peer_port, "uploaded": 0,
                                "downloaded": 0, "left": 100, "compact": 1})
    with urllib.request.urlopen("http://%s/announce?%s" % (H.hostport(host, port), q),
                                timeout=5) as r:
        return H.bdecode(r.read())


def ours(ws, name, tor, save_in, port, bind=None, seed_time=None):
    """btdownloadheadless; bind=None: no --bind at all (both stacks)."""
    status = ws.path("%s.status.json" % name)
    argv = [H.require_headless(), tor, "--minport", str(port), "--maxport", str(port),
            "--data_dir", ws.mkdir("%s.data" % name), "--save_in", save_in,
            "--display_interval", "1", "--status_json", status, "--dht", "0"] + H.NO_REACH
    if bind:
        argv += ["--bind", bind]
    if seed_time is not None:
        argv += ["--seed_time", str(seed_time)]
    return ws.start(name, argv), status


def first_torrent(status):
    d = H.read_json(status)
    return d["torrents"][0] if d and d.get("torrents") else {}


def main():
    H.require_headless()
    with H.Workspace("ipv6", timeout=120) as ws:
        port = H.free_port("::1")
        tracker = ws.start("bttrack", [bttrack_path(), "--port", str(port), "--dfile", ws.path("bttrack.dfile")])
        H.wait_listening("::1", port, 10, tracker)
        H.wait_listening("127.0.0.1", port, 10, tracker)

        # (a) peers6 to an IPv6 announcer.
        ih = b"\x16" * 20
        announce("::1", port, ih, b"-XX0001-aaaaaaaaaaaa", 7001)
        d = announce("::1", port, ih, b"-XX0001-bbbbbbbbbbbb", 7002)
        p6 = d.get(b"peers6", b"")
        H.check(len(p6) == 18, "a v6 announce got no peers6 entry: %r" % d)
        H.check(p6[:16] == b"\0" * 15 + b"\1" and int.from_bytes(p6[16:], "big") == 7001,
                "peers6 does not name [::1]:7001: %r" % p6)
        H.check(d.get(b"peers", b"") == b"", "an IPv6-only swarm put entries in peers: %r" % d)
        d4 = announce("127.0.0.1", port, ih, b"-XX0001-cccccccccccc", 7003)
        H.check(b"failure reason" not in d4 and len(d4.get(b"peers6", b"")) == 36,
                "the IPv4 announce on the same port: %r" % d4)
        H.log("bttrack: v6 announce answered with peers6 %s" % p6.hex())

        # (b) libtorrent seed on [::1] -> our leecher with no --bind.
        src = ws.mkdir("seed")
        data = os.path.join(src, "six.bin")
        H.write_random_file(data, SIZE, 61)
        tor = ws.path("six.torrent")
        url = "http://[::1]:%d/announce" % port
        H.make_torrent(data, tor, PIECE, url)
        seed = H.LtPeer(ws, "lt-seed6", tor, src, "::1", seed=True)
        seed.wait_ready(30)
        out = ws.mkdir("leech")
        t0 = time.monotonic()
        lport = H.free_port("::1")
        leech, lstatus = ours(ws, "btl-leech6", tor, out, lport, seed_time=0)
        rc = leech.wait(40)
        H.log("our no-bind leecher done after %.1fs" % (time.monotonic() - t0))
        H.check(rc == 0, "our leecher exited %s:\n%s" % (rc, leech.tail(20)))
        H.assert_same_data(data, os.path.join(out, "six.bin"), "no-bind leecher over ::1")
        log = open(leech.logpath, errors="replace").read()
        H.check("listening on port %d (IPv4 and IPv6)" % lport in log,
                "no dual-stack listen line:\n%s" % leech.tail(20))
        H.check(seed.uploaded(SIZE) >= SIZE, "the libtorrent seed uploaded %s"
                % seed.status().get("uploaded"))
        seed.stop()

        # (c) our seed on --bind ::1 -> libtorrent leecher on [::1].
        sport = H.free_port("::1")
        oseed, sstatus = ours(ws, "btl-seed6", tor, src, sport, bind="::1")
        H.wait_until(lambda: first_torrent(sstatus).get("state") == "seeding", 30,
                     "our ::1 seed to be seeding", procs=[oseed])
        lt_out = ws.mkdir("lt-leech")
        lt = H.LtPeer(ws, "lt-leech6", tor, lt_out, "::1")
        lt.wait_seeding(40)
        H.assert_same_data(data, os.path.join(lt_out, "six.bin"), "libtorrent leecher from our ::1 seed")
        H.wait_until(lambda: first_torrent(sstatus).get("uploaded", 0) >= SIZE, 10,
                     "our seed to count its upload (%s)" % first_torrent(sstatus), procs=[oseed])
        H.check(oseed.poll() is None, "our seed died")
        lt.stop()
        oseed.signal(signal.SIGTERM)
        H.check(oseed.wait(15) == 0, "our ::1 seed did not exit cleanly")


if __name__ == "__main__":
    H.run_main(main)
