#!/usr/bin/env python3
"""Local Service Discovery (BEP 14) between two of our clients, with no
tracker, in a network namespace the test makes itself (loopback with
10.77.0.2 and .3, multicast routed to it).

  - a seed and a leecher of a public torrent whose tracker cannot be
    reached find each other by LSD and the download completes intact;
  - a listener on 239.192.152.143:6771 sees the public info-hash announced
    by each client with a cookie, at most once in the first minute; the
    private torrent the seed also runs is never announced.
"""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import netns_util  # noqa: E402

A, B = "10.77.0.2", "10.77.0.3"
DEAD_TRACKER = "http://10.77.0.9:1/announce"
LSD = ["--lsd", "1"]


def make_private(content, out):
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, content)
    ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
    ct.add_tracker(DEAD_TRACKER)
    ct.set_priv(True)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(content)))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return str(lt.torrent_info(out).info_hash())


def listen_lsd(packets, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 6771))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 struct.pack("4s4s", socket.inet_aton("239.192.152.143"), socket.inet_aton(A)))
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            data, src = s.recvfrom(4096)
        except socket.timeout:
            continue
        packets.append((time.monotonic(), src[0], data.decode("latin-1")))


def main():
    netns_util.enter([A, B])
    H.require_headless()
    with H.Workspace("lsd-ours", timeout=90) as ws:
        packets, stop = [], threading.Event()
        t = threading.Thread(target=listen_lsd, args=(packets, stop), daemon=True)
        t.start()
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "pub.bin"), 3 * 1024 * 1024, 11)
        H.write_random_file(os.path.join(src, "priv.bin"), 256 * 1024, 12)
        pub_t, priv_t = ws.path("pub.torrent"), ws.path("priv.torrent")
        pub_ih, _, _ = H.make_torrent(os.path.join(src, "pub.bin"), pub_t, 65536, DEAD_TRACKER)
        priv_ih = make_private(os.path.join(src, "priv.bin"), priv_t)

        t0 = time.monotonic()
        seed = H.Headless(ws, "seed", pub_t, A, save_in=src, extra=LSD)
        seed_priv = H.Headless(ws, "seed-priv", priv_t, A, save_in=src, extra=LSD)
        seed.wait_state(["seeding"], 20)
        out = ws.mkdir("out")
        leech = H.Headless(ws, "leech", pub_t, B, save_in=out, extra=LSD)
        leech.wait_state(["seeding"], 40)
        H.log("downloaded by LSD alone in %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "pub.bin"), os.path.join(out, "pub.bin"), "the LSD leecher")

        time.sleep(max(0.0, t0 + 12 - time.monotonic()))
        stop.set()
        t.join(2)
        pub = [p for p in packets if pub_ih in p[2].lower()]
        H.log("%d LSD datagrams heard, %d naming the public torrent" % (len(packets), len(pub)))
        H.check(all(priv_ih not in p[2].lower() for p in packets), "the private torrent was announced by LSD")
        H.check(packets and all(p[2].startswith("BT-SEARCH * HTTP/1.1\r\n") for p in packets), "not LSD: %r" % packets)
        for ip in (A, B):
            mine = [p for p in pub if p[1] == ip]
            H.check(len(mine) == 1, "%s announced the public torrent %d times in 12 s (once a minute at most)"
                    % (ip, len(mine)))
            H.check("\r\ncookie: " in mine[0][2], "no cookie in %r" % mine[0][2])
        for p in (seed, seed_priv, leech):
            H.check(p.stop() == 0, "%s did not exit cleanly" % p.name)


if __name__ == "__main__":
    H.run_main(main)
