#!/usr/bin/python3
"""A UDP tracker over IPv6 (BEP 15), and tracker traffic on the listen
port's shared UDP socket.

A tiny BEP 15 tracker written here listens on [::1]; a libtorrent seed on
[::1] announces to udp://[::1]:U.  Our leecher with no --bind announces
too, learns the seed from the 18-byte peer entries of the answer and
finishes byte-identical.  The tracker saw our announces come from our
listen port (the shared UDP socket, not a socket of their own), with the
port field set to it, and our `completed` and `stopped` (seed_time 0).
Bounded well under 60 s."""

import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 2 * H.MiB + 999
PROTOCOL_ID = 0x41727101980


class UdpTracker6(threading.Thread):
    """BEP 15 over IPv6: connect, announce (18-byte peers), nothing else."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.bind(("::1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.swarm = {}        # info_hash -> {(ip, port)}
        self.announces = []    # (source ip, source port, port field, event)
        self.ids = set()
        self.done = False

    def run(self):
        while not self.done:
            try:
                pkt, src = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(pkt) == 16 and struct.unpack(">QII", pkt)[0:2] == (PROTOCOL_ID, 0):
                cid = random.getrandbits(63)
                self.ids.add(cid)
                self.sock.sendto(struct.pack(">IIQ", 0, struct.unpack(">I", pkt[12:16])[0], cid), src)
            elif len(pkt) >= 98:
                cid, action, tid = struct.unpack(">QII", pkt[:16])
                if action != 1 or cid not in self.ids:
                    continue
                ih = pkt[16:36]
                event, = struct.unpack(">I", pkt[80:84])
                port, = struct.unpack(">H", pkt[96:98])
                self.announces.append((src[0], src[1], port, event))
                peers = self.swarm.setdefault(ih, set())
                me = (src[0], port)
                if event == 3:
                    peers.discard(me)
                else:
                    peers.add(me)
                out = struct.pack(">IIIII", 1, tid, 60, len(peers), 0)
                for ip, p in sorted(peers):
                    if (ip, p) != me:
                        out += socket.inet_pton(socket.AF_INET6, ip) + struct.pack(">H", p)
                self.sock.sendto(out, src)

    def stop(self):
        self.done = True
        self.join(2)
        self.sock.close()


def main():
    H.require_headless()
    with H.Workspace("ipv6-udp-tracker", timeout=120) as ws:
        tr = UdpTracker6()
        tr.start()
        src = ws.mkdir("seed")
        data = os.path.join(src, "udp6.bin")
        H.write_random_file(data, SIZE, 62)
        tor = ws.path("udp6.torrent")
        H.make_torrent(data, tor, PIECE, "udp://[::1]:%d/announce" % tr.port)
        seed = H.LtPeer(ws, "lt-seed6", tor, src, "::1", seed=True)
        seed.wait_ready(30)

        out = ws.mkdir("leech")
        port = H.free_port("::1")
        status = ws.path("leech.status.json")
        t0 = time.monotonic()
        leech = ws.start("btl-leech6", [
            H.require_headless(), tor, "--minport", str(port), "--maxport", str(port),
            "--data_dir", ws.mkdir("leech.data"), "--save_in", out, "--seed_time", "0",
            "--display_interval", "1", "--status_json", status, "--dht", "0"] + H.NO_REACH)
        rc = leech.wait(40)
        H.log("our leecher done after %.1fs" % (time.monotonic() - t0))
        H.check(rc == 0, "our leecher exited %s:\n%s" % (rc, leech.tail(20)))
        H.assert_same_data(data, os.path.join(out, "udp6.bin"), "leecher via a UDP tracker over ::1")

        mine = [a for a in tr.announces if a[2] == port]
        H.log("our announces (source ip, source port, port field, event): %s" % mine)
        H.check(mine, "the tracker never heard our announce: %s" % tr.announces)
        H.check(all(a[0] == "::1" and a[1] == port for a in mine),
                "announces did not come from our listen port %d (shared UDP socket): %s" % (port, mine))
        events = [a[3] for a in mine]
        H.check(events[0] == 2 and 1 in events and events[-1] == 3,
                "expected started ... completed ... stopped, got events %s" % events)
        seed.stop()
        tr.stop()


if __name__ == "__main__":
    H.run_main(main)
