#!/usr/bin/python3
"""Hostile peers that break the wire protocol, while our btdownloadheadless
downloads from an honest libtorrent seeder.

Every fake peer (test/integration/fake_peer.py) has its own loopback
address.  Most connect to our listen port; two listen and are handed to us
by a small tracker.  For each one the test asserts that we close the
connection and log a line naming the peer and the reason; at the end the
download must have completed with byte-identical data.

Decisions these cases pin down (see README, Design):
- frames longer than a 16 KiB block message (or the bitfield, if larger)
  are refused as soon as their length prefix arrives;
- unknown message ids are skipped, not fatal (as libtorrent does);
- a second bitfield (or a late have_all) is merged, never disconnects:
  aria2 sends a full bitfield instead of 20+ haves;
- requests over 16 KiB or past the end of a piece disconnect (BEP 3).
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
NPIECES = 125                      # not a multiple of 8: the bitfield has spare bits
SIZE = NPIECES * PIECE - 1000
LIMIT = 9 + 16 * H.KiB             # longest frame we accept for this torrent


def main():
    H.require_headless()
    with H.Workspace("hostile-protocol", timeout=300) as ws:
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "data.bin"), SIZE, seed=41)
        tr = F.MiniTracker().start()
        tor = ws.path("data.torrent")
        ih_hex, size, npieces = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, tr.announce)
        H.check(npieces == NPIECES, "expected %d pieces, got %d" % (NPIECES, npieces))
        ih = bytes.fromhex(ih_hex)

        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, upload_limit=300_000)
        out = ws.mkdir("leech")
        me_ip = ws.next_ip()
        ips = {name: ws.next_ip() for name in (
            "length_ffffffff", "just_over_limit", "unknown_ids", "bitfield_size",
            "bitfield_spare", "second_bitfield", "have_range", "request_past_end",
            "request_too_big", "unrequested_blocks", "wrong_hash_in", "silent",
            "self_id_probe", "self_id", "wrong_hash_out", "self_id_out")}
        # Fakes that listen are handed out by the tracker with the seeder.
        listeners = {n: F.listen_on(ips[n]) for n in ("wrong_hash_out", "self_id_out")}
        for n, s in listeners.items():
            tr.add(ips[n], s.getsockname()[1])
        me = H.Headless(ws, "btl", tor, me_ip, save_in=out, extra=["--verbose"])
        H.wait_listening(me_ip, me.port, 10, me.proc)
        logp = me.proc.logpath

        results = {}
        lock = threading.Lock()

        def record(name, ok, detail):
            with lock:
                results[name] = (ok, detail)

        def incoming(name):
            p = F.FakePeer(ips[name], ih)
            p.connect(me_ip, me.port)
            p.send_handshake()
            p.read_handshake()
            return p

        def expect_closed(name, p, log_needles, timeout=15):
            closed = p.wait_closed(timeout)
            p.close()
            H.check(closed, "%s: connection from %s still open after %ds" % (name, ips[name], timeout))
            line = F.wait_log(logp, [ips[name] + ":"] + log_needles, 10)
            return line.split(": ", 1)[-1][:110]

        def case(fn):
            name = fn.__name__
            def run():
                try:
                    record(name, True, fn(name))
                except Exception as e:  # collected and reported below
                    record(name, False, "%s: %s" % (type(e).__name__, e))
            t = threading.Thread(target=run, name=name, daemon=True)
            t.start()
            return t

        def length_ffffffff(name):
            p = incoming(name)
            p.send_raw(b"\xff\xff\xff\xff")
            return expect_closed(name, p, ["message length 4294967295 exceeds limit %d" % LIMIT])

        def just_over_limit(name):
            p = incoming(name)
            p.send(F.HAVE_NONE)
            p.send_raw(struct.pack(">IB", LIMIT + 1, F.PIECE) + b"\0" * 100)
            return expect_closed(name, p, ["message length %d exceeds limit %d" % (LIMIT + 1, LIMIT)])

        def unknown_ids(name):
            p = incoming(name)
            p.send(F.HAVE_NONE)
            for mid, n in ((10, 0), (11, 3), (42, 100), (255, LIMIT - 1)):
                p.send(mid, b"\x5a" * n)
            H.check(p.still_open(3), "closed after unknown message ids")
            bad = F.read_log(logp)
            H.check(ips[name] + ":" not in bad, "a log line names %s after unknown ids" % ips[name])
            # Still parsed in order: the next real violation is what ends it.
            p.send(F.HAVE, struct.pack(">I", NPIECES + 7))
            expect_closed(name, p, ["have for piece %d out of range" % (NPIECES + 7)])
            return "ignored (ids 10, 11, 42, 255 up to the limit); connection kept"

        def bitfield_size(name):
            p = incoming(name)
            p.send(F.BITFIELD, b"\xff" * 15)
            return expect_closed(name, p, ["bitfield has 15 bytes, expected 16"])

        def bitfield_spare(name):
            p = incoming(name)
            p.send(F.BITFIELD, b"\x00" * 15 + b"\x01")
            return expect_closed(name, p, ["bitfield has spare bits set"])

        def second_bitfield(name):
            p = incoming(name)
            p.send(F.BITFIELD, b"\x80" + b"\x00" * 15)
            p.send(F.BITFIELD, b"\x00" * 15 + b"\x08")     # merged, not a violation
            p.send(F.HAVE_ALL)                            # late have_all: merged too
            H.check(p.still_open(3), "closed after a second bitfield / late have_all")
            p.send(F.HAVE_NONE)                           # cannot take pieces back
            expect_closed(name, p, ["have_none sent after other messages"])
            return "merged (bitfield, bitfield, have_all kept); late have_none disconnects"

        def have_range(name):
            p = incoming(name)
            p.send(F.HAVE_NONE)
            p.send(F.HAVE, struct.pack(">I", NPIECES))
            return expect_closed(name, p, ["have for piece %d out of range" % NPIECES])

        def request_past_end(name):
            p = incoming(name)
            p.send(F.HAVE_NONE)
            p.send(F.REQUEST, F.request_payload(NPIECES - 1, PIECE - 1000 - 8192, 16384))
            return expect_closed(name, p, ["past the end of piece %d" % (NPIECES - 1)])

        def request_too_big(name):
            p = incoming(name)
            p.send(F.HAVE_NONE)
            p.send(F.REQUEST, F.request_payload(0, 0, 32768))
            return expect_closed(name, p, ["request of 32768 bytes exceeds 16384"])

        def unrequested_blocks(name):
            p = incoming(name)
            p.send(F.HAVE_ALL)        # has everything but never unchokes us
            junk = b"\xee" * 16384
            try:
                for i in range(100):
                    p.send(F.PIECE, struct.pack(">II", i % NPIECES, 0) + junk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # cut off after the 65th block, before we sent them all
            return expect_closed(name, p, ["blocks we did not request"])

        def wrong_hash_in(name):
            p = F.FakePeer(ips[name], b"\x13" * 20)
            p.connect(me_ip, me.port)
            p.send_handshake()
            try:
                p.read_handshake(10)
                raise H.Fail("we answered a handshake for an unknown info-hash")
            except F.Closed:
                pass
            p.close()
            line = F.wait_log(logp, [ips[name] + ":", "unknown torrent"], 10)
            return line.split(": ", 1)[-1][:110]

        def silent(name):
            p = F.FakePeer(ips[name], ih)
            p.connect(me_ip, me.port)
            t0 = time.monotonic()
            closed = p.wait_closed(35)
            p.close()
            H.check(closed, "a silent connection was still open after 35 s")
            F.wait_log(logp, [ips[name] + ":", "handshake timed out"], 10)
            return "closed after %.0f s: handshake timed out" % (time.monotonic() - t0)

        def self_id(name):
            probe = incoming("self_id_probe")
            our_id = probe.remote_handshake[2]
            probe.close()
            p = F.FakePeer(ips[name], ih, peer_id=our_id)
            p.connect(me_ip, me.port)
            p.send_handshake()
            return expect_closed(name, p, ["connected to ourselves"])

        def serve_listener(name, reply):
            srv = listeners[name]
            srv.settimeout(40)
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                conn, addr = srv.accept()
                if addr[0] != me_ip:      # the seeder found it too
                    conn.close()
                    continue
                p = F.FakePeer(ips[name], ih).adopt(conn)
                try:
                    hs = p.read_handshake()
                except H.Fail:
                    # Our first dial is encrypted (--encryption prefer); like
                    # any plain-only peer this one drops it, and the plain
                    # retry comes at once.
                    conn.close()
                    continue
                reply(p, hs)
                return p
            raise H.Fail("we never connected to %s" % ips[name])

        def wrong_hash_out(name):
            p = serve_listener(name, lambda p, hs: p.send_handshake(info_hash=b"\x77" * 20))
            return expect_closed(name, p, ["handshake for another torrent"])

        def self_id_out(name):
            p = serve_listener(name, lambda p, hs: p.send_handshake(peer_id=hs[2]))
            return expect_closed(name, p, ["connected to ourselves"])

        threads = [case(f) for f in (silent, length_ffffffff, just_over_limit, unknown_ids, bitfield_size,
                                     bitfield_spare, second_bitfield, have_range, request_past_end,
                                     request_too_big, unrequested_blocks, wrong_hash_in, self_id,
                                     wrong_hash_out, self_id_out)]
        for t in threads:
            t.join(60)
        me.wait_state(["seeding"], 150)
        H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(out, "data.bin"), "download beside hostile peers")
        H.check(seeder.uploaded(size * 0.5) >= size * 0.5, "the honest seeder did not serve the download")
        H.check("torrent error" not in F.read_log(logp), "the torrent went into an error state")

        print("%-20s %-4s %s" % ("case", "ok", "what happened"))
        for name in sorted(results):
            ok, detail = results[name]
            print("%-20s %-4s %s" % (name, "ok" if ok else "FAIL", detail))
        failed = [n for n, (ok, _) in results.items() if not ok]
        H.check(len(results) == len(threads), "only %d of %d cases reported" % (len(results), len(threads)))
        H.check(not failed, "cases failed: %s" % ", ".join(sorted(failed)))
        me.stop()
        tr.stop()


if __name__ == "__main__":
    H.run_main(main)
