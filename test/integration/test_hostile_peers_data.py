#!/usr/bin/python3
"""Peers that send wrong data, while our btdownloadheadless downloads from
an honest libtorrent seeder.

- `sharing liar`: answers one request with a corrupt block, then chokes us,
  so the rest of that piece comes from the honest seeder.  The piece fails
  with two contributors; it must not ban the seeder, and once the piece is
  downloaded again and passes, smart ban compares block digests and bans
  the liar alone.
- `sole liar`: answers every request with garbage; the first piece that is
  all its own fails and bans it at once.
Both must then be refused when they reconnect from the same address, while
a new address is still accepted, and the download completes byte-identical.
"""

import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import fake_peer as F  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 8 * H.MiB


def main():
    H.require_headless()
    with H.Workspace("hostile-data", timeout=300) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "data.bin"), SIZE, seed=43)
        tr = F.MiniTracker().start()
        tor = ws.path("data.torrent")
        ih_hex, size, npieces = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, tr.announce)
        ih = bytes.fromhex(ih_hex)
        seed_ip = ws.next_ip()
        seeder = H.LtPeer(ws, "lt-seed", tor, src, seed_ip, seed=True, upload_limit=400_000)
        out = ws.mkdir("leech")
        me_ip = ws.next_ip()
        sharing_ip, sole_ip, fresh_ip = ws.next_ip(), ws.next_ip(), ws.next_ip()
        me = H.Headless(ws, "btl", tor, me_ip, save_in=out, extra=["--verbose"])
        H.wait_listening(me_ip, me.port, 10, me.proc)
        logp = me.proc.logpath
        errors = []
        info = {}

        def liar(ip, sole):
            try:
                p = F.FakePeer(ip, ih)
                p.connect(me_ip, me.port)
                p.send_handshake()
                p.read_handshake()
                p.send(F.HAVE_ALL)
                p.send(F.UNCHOKE)
                answered = 0
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        mid, payload = p.read_msg(5)
                    except TimeoutError:
                        continue
                    except F.Closed:
                        break
                    if mid != F.REQUEST:
                        continue
                    piece, begin, length = struct.unpack(">III", payload)
                    if not sole and answered == 1:
                        continue
                    try:
                        p.send(F.PIECE, struct.pack(">II", piece, begin) + bytes([0xA5]) * length)
                        answered += 1
                        info.setdefault(ip, piece)
                        if not sole:
                            p.send(F.CHOKE)   # the rest of the piece must come from the seeder
                    except OSError:           # banned and disconnected meanwhile
                        break
                info[ip + " answered"] = answered
                p.close()
            except Exception as e:
                errors.append("%s: %s: %s" % (ip, type(e).__name__, e))

        # The seeder must already be sending, so it is the one that completes
        # the piece the sharing liar spoiled; the liars go one after the other.
        H.wait_until(lambda: me.status().get("downloaded", 0) > 0, 30, "the download from the seeder to start")
        threads = [threading.Thread(target=liar, args=(ip, sole), daemon=True)
                   for ip, sole in ((sharing_ip, False), (sole_ip, True))]
        threads[0].start()
        share_line = F.wait_log(logp, ["banned " + sharing_ip + ":"], 90)
        H.log("sharing liar: " + share_line)
        H.check("sent a bad block of piece %d" % info.get(sharing_ip, -1) in share_line,
                "sharing liar banned for another reason: %s (its bad block was in piece %s)"
                % (share_line, info.get(sharing_ip)))
        failed = F.wait_log(logp, ["piece %d failed its hash check" % info[sharing_ip]], 5)
        H.check(sharing_ip in failed and seed_ip in failed,
                "the shared piece did not fail with both contributors: " + failed)
        threads[1].start()
        sole_line = F.wait_log(logp, ["banned " + sole_ip + ":"], 60)
        H.log("sole liar: " + sole_line)
        H.check("sent all of piece" in sole_line, "sole liar banned for another reason: " + sole_line)
        for t in threads:
            t.join(30)
        H.check(not errors, "fake peers failed: %s" % errors)

        H.check(F.refused(sharing_ip, me_ip, me.port, ih), "a reconnect from banned %s was accepted" % sharing_ip)
        H.check(F.refused(sole_ip, me_ip, me.port, ih), "a reconnect from banned %s was accepted" % sole_ip)
        H.check(not F.refused(fresh_ip, me_ip, me.port, ih), "a new address %s was refused too" % fresh_ip)
        F.wait_log(logp, ["refused a connection from banned address " + sole_ip], 5)

        me.wait_state(["seeding"], 150)
        H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(out, "data.bin"), "download beside liars")
        text = F.read_log(logp)
        H.check("banned " + seed_ip not in text, "the honest seeder was banned")
        H.check(seeder.uploaded(size) >= size, "the honest seeder did not serve the download")
        H.log("smart ban: shared piece %d failed with %s and the seeder; liar banned after it passed"
              % (info[sharing_ip], sharing_ip))
        me.stop()
        tr.stop()


if __name__ == "__main__":
    H.run_main(main)
