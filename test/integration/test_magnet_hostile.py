#!/usr/bin/python3
"""Hostile peers while fetching a magnet's metadata (issue 13).

btdownloadheadless gets a magnet whose x.pe hints name four scripted peers
(fake_peer.py sockets), each speaking BEP 10 and ut_metadata, each lying:
  A: metadata_size 2 GiB                   -> disconnected, nothing allocated
  B: a metadata piece of the wrong size    -> disconnected
  C: a piece index out of range            -> disconnected
  D: a whole dictionary of the right size that does not hash to the
     info-hash                             -> disconnected and banned
Each is seen closed by our side, with a warning naming the reason.  Then an
honest libtorrent seed dials us: the metadata comes from it, the download
completes byte-identical and the process exits 0, its peak RSS bounded.
Loopback only: fakes 127.0.0.2-5, seed 127.0.0.6, us 127.0.0.7."""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import fake_peer as F  # noqa: E402

PIECE = 16 * H.KiB
TOTAL = 6 * H.MiB + 5  # 385 pieces: a 7.8 KB info dictionary, one metadata piece


def ext_frame(ext_id, payload):
    return F.frame(20, bytes([ext_id]) + payload)


class Liar:
    """Accepts one connection and answers the first ut_metadata request as
    `script` says; records whether our side then closed the connection."""

    def __init__(self, ip, info_hash, size, script, info_len):
        self.sock = F.listen_on(ip)
        self.port = self.sock.getsockname()[1]
        self.ih, self.size, self.script, self.info_len = info_hash, size, script, info_len
        self.closed_by_us = None
        self.error = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            self.sock.settimeout(40)
            conn, _ = self.sock.accept()
            p = F.FakePeer(self.sock.getsockname()[0], self.ih, fast=False)
            p.adopt(conn)
            p.read_handshake(10)
            reserved = bytearray(8)
            reserved[5] |= 0x10
            p.send_raw(bytes([19]) + F.PSTR + bytes(reserved) + self.ih + p.peer_id)
            hs = H.bencode({b"m": {b"ut_metadata": 3}, b"metadata_size": self.size, b"v": b"liar"})
            p.send_raw(ext_frame(0, hs))
            ours = None
            while True:  # our extended handshake gives the id to send data with
                mid, payload = p.read_msg(15)
                if mid != 20:
                    continue
                if payload[0] == 0:
                    ours = H.bdecode(payload[1:])[b"m"][b"ut_metadata"]
                    continue
                if payload[0] == 3:
                    req = H.bdecode(payload[1:])
                    break
            piece = req[b"piece"]
            if self.script == "wrong_size":
                body = H.bencode({b"msg_type": 1, b"piece": piece, b"total_size": self.size}) + b"x" * 100
                p.send_raw(ext_frame(ours, body))
            elif self.script == "out_of_range":
                body = H.bencode({b"msg_type": 1, b"piece": 40, b"total_size": self.size}) + b"x" * 10
                p.send_raw(ext_frame(ours, body))
            elif self.script == "bad_hash":
                while True:
                    n = min(16384, self.size - piece * 16384)
                    body = H.bencode({b"msg_type": 1, b"piece": piece, b"total_size": self.size}) + b"z" * n
                    p.send_raw(ext_frame(ours, body))
                    try:
                        mid, payload = p.read_msg(3)
                    except TimeoutError:
                        break
                    if mid == 20 and payload[0] == 3:
                        piece = H.bdecode(payload[1:])[b"piece"]
            self.closed_by_us = p.wait_closed(15)
        except F.Closed:
            self.closed_by_us = True
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = repr(e)


def main():
    H.require_headless()
    with H.Workspace("magnet-hostile", timeout=150) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "clip.bin")
        H.write_random_file(data, TOTAL, 55)
        tor = ws.path("clip.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, "http://127.0.0.1:1/announce")
        raw = open(tor, "rb").read()
        info_len = len(H.bencode(H.bdecode(raw)[b"info"]))
        ihb = bytes.fromhex(ih)
        liars = {
            "2 GiB metadata_size": Liar(ws.next_ip(), ihb, 2 << 30, "none", info_len),
            "wrong-size piece": Liar(ws.next_ip(), ihb, info_len, "wrong_size", info_len),
            "piece out of range": Liar(ws.next_ip(), ihb, info_len, "out_of_range", info_len),
            "metadata with a wrong hash": Liar(ws.next_ip(), ihb, info_len, "bad_hash", info_len),
        }
        seed_ip = ws.next_ip()
        hints = "".join("&x.pe=%s:%d" % (l.sock.getsockname()[0], l.port) for l in liars.values())
        me_ip = ws.next_ip()
        out = ws.mkdir("out")
        me = H.Headless(ws, "btl", "magnet:?xt=urn:btih:%s%s" % (ih, hints), me_ip, save_in=out, seed_time=0,
                        extra=["--verbose"])
        st = me.wait_state(["fetching metadata"], 15)
        H.check(st.get("info_hash", "").lower() == ih, "fetching row info_hash %r" % st.get("info_hash"))
        for what, l in liars.items():
            l.t.join(45)
            H.check(l.error is None, "%s: the fake peer failed: %s" % (what, l.error))
            H.check(l.closed_by_us, "%s: our side did not disconnect" % what)
        log_text = lambda: open(me.proc.logpath, "rb").read().decode("utf-8", "replace")  # noqa: E731
        for needle in ("over the limit", "bytes, not", "piece 40 of a", "does not match the info-hash (banned)"):
            H.wait_until(lambda: needle in log_text(), 10, "a warning with %r" % needle, procs=[me.proc])

        seeder = H.LtPeer(ws, "lt-seed", tor, src, seed_ip, seed=True, connect=[(me_ip, me.port)])
        rc = me.proc.wait(60)
        text = open(me.proc.logpath, "rb").read().decode("utf-8", "replace")
        H.check(rc == 0, "download after the liars exited %s:\n%s" % (rc, text[-3000:]))
        H.assert_same_data(data, os.path.join(out, "clip.bin"), "magnet download after hostile peers")
        rss = me.proc.peak_rss_kib()
        H.log("peak RSS %s KiB" % rss)
        H.check(rss is not None and rss < 150 * 1024, "peak RSS %s KiB: memory not bounded" % rss)
        seeder.stop()


if __name__ == "__main__":
    H.run_main(main)
