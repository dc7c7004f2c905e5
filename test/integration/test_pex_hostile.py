#!/usr/bin/python3
"""Hostile extension-protocol peers (BEP 10/11), scripted with fake_peer.py,
against our btdownloadheadless downloading from an honest libtorrent seed:

  huge_pex    a ut_pex message naming 100,000 peers (a 600 kB frame): refused
              from its length prefix, disconnected, nothing buffered;
  pex_flood   seven PEX messages at once: disconnected as a flood;
  bad_ext     a malformed extended handshake: disconnected, and the warning
              names the field.

The download must still complete, with bounded memory."""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import fake_peer as F  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 4 * H.MiB - 777
EXTENDED = 20
OUR_PEX = 1  # the id we give ut_pex in our extended handshake


def bencode_handshake():
    return b"d1:md6:ut_pexi3eee"


def ext(sub, payload):
    return F.frame(EXTENDED, bytes([sub]) + payload)


def main():
    H.require_headless()
    with H.Workspace("pex-hostile", timeout=120) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "data.bin"), SIZE, seed=43)
        tr = F.MiniTracker().start()
        tor = ws.path("data.torrent")
        ih_hex, size, _ = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, tr.announce)
        ih = bytes.fromhex(ih_hex)
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, upload_limit=400_000)
        out = ws.mkdir("leech")
        me_ip = ws.next_ip()
        me = H.Headless(ws, "btl", tor, me_ip, save_in=out, seed_time=0, extra=["--verbose"])
        H.wait_listening(me_ip, me.port, 10, me.proc)
        logp = me.proc.logpath

        def incoming(name):
            p = F.FakePeer(ws.next_ip(), ih, ext=True)
            p.connect(me_ip, me.port)
            p.send_handshake()
            hs = p.read_handshake()
            H.check(hs[0][5] & 0x10, "%s: our handshake lacks the extension bit" % name)
            p.send(F.HAVE_NONE)
            return p

        def expect_closed(name, p, needles):
            closed = p.wait_closed(15)
            p.close()
            H.check(closed, "%s: connection from %s still open after 15 s" % (name, p.ip))
            line = F.wait_log(logp, [p.ip + ":"] + needles, 10)
            H.log("%s: %s" % (name, line.strip()))

        # 100,000 compact peers: 600,000 bytes of `added`.
        p = incoming("huge_pex")
        p.send_raw(ext(0, bencode_handshake()))
        body = b"d5:added600000:" + b"\x01" * 600000 + b"e"
        try:
            p.send_raw(ext(OUR_PEX, body))
        except (BrokenPipeError, ConnectionResetError):
            pass  # dropped as soon as the length prefix was in
        expect_closed("huge_pex", p, ["exceeds limit"])

        p = incoming("pex_flood")
        p.send_raw(ext(0, bencode_handshake()))
        for _ in range(7):
            p.send_raw(ext(OUR_PEX, b"d5:added0:7:dropped0:e"))
        expect_closed("pex_flood", p, ["PEX flood: 7 messages within a minute"])

        p = incoming("bad_ext")
        p.send_raw(ext(0, b"d1:mi5ee"))
        expect_closed("bad_ext", p, ["extended handshake: m is not a dictionary"])

        rc = me.proc.wait(60)
        H.check(rc == 0, "btdownloadheadless exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(out, "data.bin"), "the download")
        rss = me.proc.peak_rss_kib()
        H.log("peak RSS %s KiB" % rss)
        H.check(rss is None or rss < 200 * 1024, "peak RSS %s KiB: memory not bounded" % rss)
        H.check(seeder.uploaded(0.9 * size) >= 0.9 * size, "the seed did not serve the download")


if __name__ == "__main__":
    H.run_main(main)
