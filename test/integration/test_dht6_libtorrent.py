#!/usr/bin/python3
"""The DHT over IPv6 (BEP 32) against libtorrent's, on ::1 only.

A libtorrent router node and a libtorrent seed (DHT on, both listening on
[::1]; the seed is joined to the router and to our node).  Our
btdownloadheadless, bound to ::1 (so its DHT is IPv6 only), gets a bare
magnet link (no tracker, no peer hint; LSD and PEX off) and a
--dht_bootstrap of "[::1]:PORT": the only way to the seed is a get_peers
over the IPv6 DHT.  It must find the seed's IPv6 address there (its log
names the IPv6 lookup and the peer), fetch the metadata and complete.
Then, at the packet level: libtorrent's find_node answer (want n6) carries
our node in its nodes6, and our node's answer carries libtorrent's."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
from test_dht_libtorrent import LtNode  # noqa: E402

PIECE = 64 * H.KiB
LO6 = "::1"


def bstr(b):
    return str(len(b)).encode() + b":" + b


def find_node6(port, node_id, target):
    """find_node with want ["n4","n6"] to [::1]:port; the raw nodes6 of the answer ([] if none)."""
    q = (b"d1:ad2:id20:" + node_id + b"6:target20:" + target + b"4:wantl2:n42:n6ee"
         b"1:q9:find_node1:t2:z61:y1:qe")
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((LO6, 0))
    s.settimeout(2)
    try:
        for _ in range(3):
            s.sendto(q, (LO6, port))
            try:
                data, _ = s.recvfrom(4096)
            except socket.timeout:
                continue
            key = b"6:nodes6"
            i = data.find(key)
            if i < 0:
                return data, []
            j = data.index(b":", i + len(key))
            n = int(data[i + len(key):j])
            raw = data[j + 1:j + 1 + n]
            out = []
            for k in range(0, len(raw) - len(raw) % 38, 38):
                e = raw[k:k + 38]
                out.append((e[:20], socket.inet_ntop(socket.AF_INET6, e[20:36]), int.from_bytes(e[36:38], "big")))
            return data, out
        return None, []
    finally:
        s.close()


def main():
    H.require_headless()
    with H.Workspace("dht6-libtorrent", timeout=150) as ws:
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "six.bin"), 3 * H.MiB + 66, 6)
        tor = ws.path("six.torrent")
        ih, total, _ = H.make_torrent(os.path.join(src, "six.bin"), tor, PIECE, None)

        router = LtNode(ws, "lt-router6", LO6)
        H.wait_until(lambda: router.status().get("listen_port"), 20, "the libtorrent router on [::1]",
                     procs=[router.proc])

        out = ws.mkdir("out")
        t0 = time.monotonic()
        me = H.Headless(ws, "btl6", "magnet:?xt=urn:btih:" + ih, LO6, save_in=out, seed_time=120, dht=True,
                        extra=["--dht_bootstrap", "[%s]:%d" % router.addr, "--pex", "0", "--verbose"])
        H.wait_until(lambda: ((H.read_json(me.status_path) or {}).get("totals") or {}).get("dht_nodes6", -1) >= 1,
                     30, "our IPv6 DHT node to join the libtorrent router", procs=[me.proc, router.proc])
        seed = LtNode(ws, "lt-seed6", LO6, nodes=[router.addr, (LO6, me.port)], torrents=[tor], save=src, seed=True)

        me.wait_state(("seeding",), 80)
        H.log("bare magnet over the IPv6 DHT complete after %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "six.bin"), os.path.join(out, "six.bin"), "IPv6 DHT download")

        with open(ws.path("btl6.log"), errors="replace") as f:
            log = f.read()
        seed_peer = "[::1]:%d" % seed.port
        found = [ln for ln in log.splitlines() if "DHT (IPv6):" in ln and ih in ln]
        H.log("lookups that found peers: %s" % found[:3])
        H.check(any(seed_peer in ln for ln in found),
                "our log shows no lookup over the IPv6 DHT that found the seed %s" % seed_peer)
        H.check("DHT (IPv4)" not in log, "a lookup ran over IPv4 although we are bound to ::1")
        H.check("(IPv6 only)" in log, "the DHT did not say it runs over IPv6 only")

        totals = (H.read_json(me.status_path) or {}).get("totals") or {}
        H.log("status totals: %s" % totals)
        H.check(totals.get("dht_nodes6", 0) >= 1 and totals.get("dht_nodes") == totals.get("dht_nodes6"),
                "status JSON: dht_nodes %s, dht_nodes6 %s (IPv6 only: they must match, >= 1)"
                % (totals.get("dht_nodes"), totals.get("dht_nodes6")))

        # Packet level: libtorrent answers nodes6 and knows our node; we answer nodes6 and know libtorrent's.
        raw, lt_nodes = find_node6(router.port, b"P" * 20, b"Q" * 20)
        H.log("libtorrent router's nodes6: %s" % [(a, p) for _, a, p in lt_nodes])
        H.check(raw is not None, "the libtorrent router did not answer find_node over IPv6")
        H.check(any(a == LO6 and p == me.port for _, a, p in lt_nodes),
                "libtorrent's nodes6 does not hold our node [::1]:%d" % me.port)
        raw, our_nodes = find_node6(me.port, b"R" * 20, b"S" * 20)
        H.log("our nodes6: %s" % [(a, p) for _, a, p in our_nodes])
        H.check(raw is not None, "our node did not answer find_node over IPv6")
        H.check(b"5:nodes" not in raw.replace(b"6:nodes6", b""), "we answered IPv4 nodes without an IPv4 table")
        H.check(any(a == LO6 and p in (router.port, seed.port) for _, a, p in our_nodes),
                "our nodes6 holds neither libtorrent node")
        rc = me.stop()
        H.check(rc == 0, "btdownloadheadless exited %s on SIGTERM" % rc)
        with open(os.path.join(me.data_dir, "dht.dat"), "rb") as f:
            saved = f.read()
        H.check(b"6:nodes6" in saved, "dht.dat holds no nodes6")


if __name__ == "__main__":
    H.run_main(main)
