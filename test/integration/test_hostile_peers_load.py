#!/usr/bin/python3
"""Peers that try to exhaust our memory or connection slots.

Part 1, our btdownloadheadless seeds while a libtorrent leecher downloads:
- `non-reader`: asks for 1,500 blocks (24 MiB) and never reads; our RSS
  must stay bounded (we stop serving while 4 MiB wait in its send queue)
  and the peer is dropped once nothing was written to it for 60 s;
- `flooder`: sends 5,000 requests; dropped past 2,000 queued;
- `choked requester` (fast extension): requests without being unchoked;
  every request is rejected, no block is sent, the connection stays;
- `choked requester` without the fast extension: requests are ignored.
Part 2, our client downloads from a libtorrent seeder while the test opens
600 connections from 200 loopback addresses (a third send a valid
handshake, a third garbage, a third nothing): our open sockets stay under
the global cap (500), RSS stays bounded, the download completes.
Part 2 runs while part 1 waits out the non-readers' 60 s drop.
"""

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import fake_peer as F  # noqa: E402

PIECE = 256 * H.KiB
SIZE = 32 * H.MiB
MAX_CONNECTIONS = 500


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_sockets(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def wait_unchoked(p, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        mid, _ = p.read_msg(max(0.01, deadline - time.monotonic()))
        if mid == F.UNCHOKE:
            return


def seeding_part(ws, results):
    src = ws.mkdir("s-src")
    H.write_random_file(os.path.join(src, "data.bin"), SIZE, seed=47)
    tr = F.MiniTracker().start()
    tor = ws.path("seed.torrent")
    ih_hex, size, npieces = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, tr.announce)
    ih = bytes.fromhex(ih_hex)
    me_ip = ws.next_ip()
    me = H.Headless(ws, "btl-seed", tor, me_ip, save_in=src, extra=["--verbose"])
    me.wait_state(["seeding"], 60)
    logp = me.proc.logpath
    base_rss = rss_kib(me.proc.pid)
    ips = {n: ws.next_ip() for n in ("nonreader0", "nonreader1", "nonreader2", "flooder", "choked_fast",
                                     "choked_plain")}

    def incoming(name, fast=True):
        p = F.FakePeer(ips[name], ih, fast=fast)
        p.connect(me_ip, me.port)
        p.send_handshake()
        p.read_handshake()
        if fast:
            p.send(F.HAVE_NONE)   # never `interested`: we stay choked
        return p

    # Non-readers: each asks for 1,900 blocks (30 MiB), never reads, and has
    # a small receive buffer so the queue builds on our side.  Unbounded,
    # that would be 89 MiB; bounded, our RSS grows by at most the read
    # cache (32 MiB) plus 4 MiB queued per peer.
    nrs = []
    for k in range(3):
        nr = F.FakePeer(ips["nonreader%d" % k], ih)
        nr.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        nr.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        nr.sock.bind((nr.ip, 0))
        nr.sock.connect((me_ip, me.port))
        nr.send_handshake()
        nr.read_handshake()
        nr.send(F.HAVE_NONE)
        nr.send(F.INTERESTED)
        wait_unchoked(nr)
        first = k * 1900
        nr.send_raw(b"".join(F.frame(F.REQUEST, F.request_payload((i // 16) % npieces, (i % 16) * 16384, 16384))
                             for i in range(first, first + 1900)))
        nrs.append(nr)
    t_nr = time.monotonic()
    peak = 0
    while time.monotonic() - t_nr < 8:
        peak = max(peak, rss_kib(me.proc.pid))
        time.sleep(0.2)
    growth = (peak - base_rss) / 1024.0
    H.log("RSS: %.1f MiB at start, peak %.1f MiB with 3 non-readers" % (base_rss / 1024.0, peak / 1024.0))
    H.check(growth < 60, "RSS grew by %.1f MiB with peers that do not read" % growth)

    # An honest leecher downloads meanwhile.
    lt_out = ws.mkdir("lt-leech")
    leech = H.LtPeer(ws, "lt-leech", tor, lt_out, ws.next_ip(), connect=[(me_ip, me.port)])

    # flooder
    fl = incoming("flooder")
    fl.send(F.INTERESTED)
    wait_unchoked(fl)
    fl.sock.settimeout(30)
    try:
        fl.send_raw(b"".join(F.frame(F.REQUEST, F.request_payload((i // 16) % npieces, (i % 16) * 16384, 16384))
                             for i in range(5000)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    H.check(fl.wait_closed(20), "the request flooder was not disconnected")
    line = F.wait_log(logp, [ips["flooder"] + ":", "too many outstanding requests"], 10)
    results["flooder (5,000 requests)"] = line.split(": ", 1)[-1][:100]

    # choked requesters
    cf = incoming("choked_fast")
    for i in range(50):
        cf.send(F.REQUEST, F.request_payload(i % npieces, 0, 16384))
    rejects = pieces = 0
    deadline = time.monotonic() + 10
    while rejects < 50 and time.monotonic() < deadline:
        mid, _ = cf.read_msg(max(0.01, deadline - time.monotonic()))
        rejects += mid == F.REJECT
        pieces += mid == F.PIECE
    H.check(rejects == 50 and pieces == 0, "choked fast requester: %d rejects, %d blocks" % (rejects, pieces))
    H.check(cf.still_open(2), "choked fast requester was disconnected")
    results["requests while choked (fast)"] = "50 requests -> 50 rejects, 0 blocks; connection kept"

    cp = incoming("choked_plain", fast=False)
    for i in range(50):
        cp.send(F.REQUEST, F.request_payload(i % npieces, 0, 16384))
    got = []
    try:
        while True:
            mid, _ = cp.read_msg(3)
            got.append(mid)
    except TimeoutError:
        pass
    H.check(F.PIECE not in got, "a block was sent to a choked peer")
    H.check(cp.still_open(1), "choked plain requester was disconnected")
    results["requests while choked (plain)"] = "ignored, no blocks; connection kept"

    leech.wait_seeding(120)
    H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(lt_out, "data.bin"),
                       "libtorrent leecher beside a non-reader")
    # The non-readers are dropped 60 s after our last write to them: the
    # flood part runs meanwhile, and finish() checks the drops after it.
    return lambda: finish_seeding(me, tr, logp, nrs, [cf, cp], t_nr, growth, results)


def finish_seeding(me, tr, logp, nrs, others, t_nr, growth, results):
    def stopped_lines():
        return [ln for ln in F.read_log(logp).splitlines()
                if "stopped reading" in ln and any(nr.ip + ":" in ln for nr in nrs)]
    H.wait_until(lambda: len(stopped_lines()) >= 3, 90, "the non-readers to be dropped")
    for nr in nrs:
        H.check(nr.wait_closed(10), "non-reader %s: socket still open" % nr.ip)
    results["3 non-readers (89 MiB asked)"] = "RSS +%.1f MiB; after %.0f s: %s" % (
        growth, time.monotonic() - t_nr, stopped_lines()[0].split(": ", 1)[-1][:60])
    for p in nrs + others:
        p.close()
    me.stop()
    tr.stop()


def flood_part(ws, results):
    src = ws.mkdir("f-src")
    H.write_random_file(os.path.join(src, "data.bin"), SIZE // 2, seed=53)
    tr = F.MiniTracker().start()
    tor = ws.path("flood.torrent")
    ih_hex, size, _ = H.make_torrent(os.path.join(src, "data.bin"), tor, PIECE, tr.announce)
    ih = bytes.fromhex(ih_hex)
    seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, upload_limit=700_000)
    out = ws.mkdir("f-out")
    me_ip = ws.next_ip()
    me = H.Headless(ws, "btl-flood", tor, me_ip, save_in=out)
    H.wait_until(lambda: me.status().get("downloaded", 0) > 0, 30, "the download to start")
    base_rss = rss_kib(me.proc.pid)
    socks = []
    stop = []
    peak = {"sockets": 0, "rss": 0}

    def sample():
        while not stop:
            try:
                peak["sockets"] = max(peak["sockets"], open_sockets(me.proc.pid))
                peak["rss"] = max(peak["rss"], rss_kib(me.proc.pid))
            except OSError:
                pass
            time.sleep(0.2)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    hs = bytes([19]) + F.PSTR + bytes(7) + b"\x04" + ih
    accepted = 0
    for i in range(600):
        ip = "127.0.%d.%d" % (1 + i // 200, 10 + i % 200)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((ip, 0))
        s.settimeout(2)
        try:
            s.connect((me_ip, me.port))
            accepted += 1
            if i % 3 == 0:
                s.sendall(hs + b"-FL0001-%012d" % i + F.frame(F.HAVE_NONE))
            elif i % 3 == 1:
                s.sendall(os.urandom(200))
        except OSError:
            pass
        socks.append(s)
    H.log("flood: %d of 600 connects completed" % accepted)
    time.sleep(5)
    me.wait_state(["seeding"], 150)
    stop.append(1)
    sampler.join(5)
    for s in socks:
        s.close()
    H.assert_same_data(os.path.join(src, "data.bin"), os.path.join(out, "data.bin"), "download during a flood")
    H.check(peak["sockets"] <= MAX_CONNECTIONS + 5,
            "%d sockets open, the cap is %d" % (peak["sockets"], MAX_CONNECTIONS))
    growth = (peak["rss"] - base_rss) / 1024.0
    H.check(growth < 64, "RSS grew by %.1f MiB during the flood" % growth)
    results["600 connections"] = "peak %d sockets open (cap %d), RSS +%.1f MiB, download complete" % (
        peak["sockets"], MAX_CONNECTIONS, growth)
    me.stop()
    seeder.stop()
    tr.stop()


def main():
    H.require_headless()
    results = {}
    with H.Workspace("hostile-load", timeout=420) as ws:
        finish_seeding_part = seeding_part(ws, results)
        flood_part(ws, results)
        finish_seeding_part()
    print("%-32s %s" % ("case", "what happened"))
    for k, v in results.items():
        print("%-32s %s" % (k, v))


if __name__ == "__main__":
    H.run_main(main)
