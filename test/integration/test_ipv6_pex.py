#!/usr/bin/python3
"""PEX over IPv6 (BEP 11 added6), both ways, against libtorrent on ::1.

Every peer listens on [::1] (its own port); the torrent's tracker is dead,
so the only way to learn of a third peer is a ut_pex message, and IPv6
peers travel only in its `added6` list.

(in)  Seed B (libtorrent without extensions: it tells nobody anything)
      listens.  Peer A (libtorrent, 2 kB/s down, so it has almost nothing
      to give) dials B, then us.  A's ut_pex names B in added6; we must dial
      B and download (nearly) all of it from B.
(out) Seed C (libtorrent without extensions, dead tracker) only listens;
      we learn of it from bttrack on [::1] (announced there by hand: our
      copy of the torrent names that tracker, everyone else's the dead one,
      same info-hash) and dial it, so we know its listen address.  We
      download from it slowly, so it stays connected.  Leecher D (libtorrent
      with ut_pex, dead tracker) dials only us, and we upload at 1 kB/s: D
      finishes only if our ut_pex named C to it in added6.  (We dial C
      because libtorrent 2.0.8 sends no `p` in the extension handshake of an
      IPv6 connection it dials: a C that dialled us could not be named.)
Both run side by side; libtorrent sends ut_pex once a minute, so (in) may
wait for its second message.  Bounded by 90 s."""

import os
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

V6 = "::1"


def pex_in(ws, tor, src, size):
    b = H.LtPeer(ws, "in-lt-seed-b", tor, src, V6, seed=True, plugins=False)
    H.wait_listening(V6, b.port, 20, b.proc)
    out = ws.mkdir("in-us")
    me = H.Headless(ws, "in-btl", tor, V6, save_in=out, seed_time=0, extra=["--verbose"])
    H.wait_listening(V6, me.port, 20, me.proc)
    a = H.LtPeer(ws, "in-lt-a", tor, ws.mkdir("in-a"), V6, download_limit=2000,
                 connect=[(V6, b.port)], connect_later=[(V6, me.port)])
    rc = me.proc.wait(80)
    H.log("(in) btdownloadheadless exited %s; B %s; A %s" % (rc, b.status(), a.status()))
    H.check(rc == 0, "(in) btdownloadheadless --seed_time 0 exited %s, expected 0" % rc)
    H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(out, "data.bin"), "(in) the download")
    b_up = b.uploaded(0.9 * size)
    H.check(b_up >= 0.9 * size, "(in) seed B uploaded %s of %d bytes: we did not download from it" % (b_up, size))
    H.check(a.status().get("downloaded", 0) < 0.5 * size,
            "(in) peer A downloaded %s bytes: the test needs it to have little" % a.status().get("downloaded"))
    with open(me.proc.logpath, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    H.check("PEX added" in text, "(in) our log names no PEX message")
    H.check("[::1]:%d" % b.port in text, "(in) our log never names seed B's [::1]:%d" % b.port)


def announce_by_hand(tport, ih_hex, port):
    q = urllib.parse.urlencode({"info_hash": bytes.fromhex(ih_hex), "peer_id": b"-LT2080-cccccccccccc",
                                "port": port, "uploaded": 0, "downloaded": 0, "left": 0, "compact": 1})
    with urllib.request.urlopen("http://[::1]:%d/announce?%s" % (tport, q), timeout=5) as r:
        H.check(b"failure reason" not in r.read(), "(out) bttrack refused the announce")


def pex_out(ws, tor, src, size):
    tport = H.free_port(V6)
    tracker = ws.start("out-bttrack", [os.path.join(H.btl_bin_dir(), "bttrack"), "--port", str(tport),
                                       "--bind", V6, "--dfile", ws.path("out-bttrack.dfile")])
    H.wait_listening(V6, tport, 10, tracker)
    ours_t = ws.path("out-ours.torrent")
    ih, _, _ = H.make_torrent(os.path.join(src, "data.bin"), ours_t, 128 * H.KiB, "http://[::1]:%d/announce" % tport)
    H.check(ih == H.torrent_info_hash(tor), "(out) the two copies of the torrent differ")
    c = H.LtPeer(ws, "out-lt-seed-c", tor, src, V6, seed=True, plugins=False)
    H.wait_listening(V6, c.port, 20, c.proc)
    announce_by_hand(tport, ih, c.port)
    me = H.Headless(ws, "out-btl", ours_t, V6, save_in=ws.mkdir("out-us"),
                    extra=["--verbose", "--max_download_rate", "150", "--max_upload_rate", "1"])
    H.wait_until(lambda: me.status().get("peers", 0) >= 1, 20, "(out) us to connect to seed C",
                 procs=[me.proc, c.proc])
    dst = ws.mkdir("out-d")
    d = H.LtPeer(ws, "out-lt-d", tor, dst, V6, connect=[(V6, me.port)])
    d.wait_seeding(45)
    H.log("(out) D %s; C %s; us %s" % (d.status(), c.status(), me.status()))
    H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(dst, "data.bin"), "(out) libtorrent D's download")
    our_part = me.status().get("uploaded", 0)
    H.check(our_part < 0.5 * size, "(out) we uploaded %d bytes to D: the limit did not hold" % our_part)
    H.check(c.status().get("uploaded", 0) >= size * 0.5 + me.status().get("downloaded", 0) * 0.9,
            "(out) seed C uploaded only %s bytes: D did not download from it" % c.status().get("uploaded"))
    H.check(me.stop() == 0, "(out) our client did not exit cleanly")


def main():
    H.require_headless()
    with H.Workspace("ipv6-pex", timeout=90) as ws:
        cases = {}
        for name, fn, total, piece, seed in (("in", pex_in, 6 * H.MiB + 12_345, 256 * H.KiB, 61),
                                             ("out", pex_out, 3 * H.MiB + 4321, 128 * H.KiB, 62)):
            src = ws.mkdir(name + "-seed")
            H.write_random_file(os.path.join(src, "data.bin"), total, seed)
            tor = ws.path(name + ".torrent")
            dead = "http://127.0.0.1:%d/announce" % H.free_port()
            _, size, _ = H.make_torrent(os.path.join(src, "data.bin"), tor, piece, dead)
            cases[name] = (lambda fn=fn, tor=tor, src=src, size=size: fn(ws, tor, src, size))
        H.run_side_by_side(cases)


if __name__ == "__main__":
    H.run_main(main)
