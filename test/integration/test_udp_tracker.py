#!/usr/bin/python3
"""UDP trackers (BEP 15) end to end, against opentracker's UDP port.

(a) A libtorrent seeder and our btdownloadheadless leecher share a torrent
    whose only tracker is udp://127.0.0.1:PORT/announce: ours finds the seed
    through it and finishes byte-identical; opentracker's scrape then counts
    it as a seed and a completed download, and after SIGTERM our `stopped`
    (over UDP) takes it off the seed count.
(b) BEP 12 fallback: a second torrent lists three tiers — a closed UDP port,
    a UDP socket that never answers, then the live tracker.  Our leecher
    still completes: the closed port fails at once (ICMP port unreachable),
    the silent one costs one 15 s try (not 15+30+60 s) because another tier
    follows.  Bounded at 60 s.
Seeders 127.0.0.2/.3, our leechers .4/.5."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 3 * H.MiB + 12345


def make_torrent_tiers(content, out, piece, tiers):
    """A v1 torrent with announce-list tiers (list of lists of URLs)."""
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, content)
    ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
    for t, urls in enumerate(tiers):
        for u in urls:
            ct.add_tracker(u, t)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(content)))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return str(lt.torrent_info(out).info_hash())


def closed_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    H.require_headless()
    with H.Workspace("udp-tracker", timeout=200) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "udp.bin")
        H.write_random_file(data, SIZE, 77)
        tr = H.Tracker(ws)
        udp = "udp://127.0.0.1:%d/announce" % tr.port

        tor_a = ws.path("only-udp.torrent")
        ih_a = make_torrent_tiers(data, tor_a, PIECE, [[udp]])

        # A UDP socket that swallows every packet: a tracker that is down
        # behind a firewall, where no ICMP comes back.
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        silent_url = "udp://127.0.0.1:%d/announce" % silent.getsockname()[1]
        dead_url = "udp://127.0.0.1:%d/announce" % closed_udp_port()
        src_b = ws.mkdir("seed-b")
        data_b = os.path.join(src_b, "tiers.bin")
        H.write_random_file(data_b, SIZE, 78)
        tor_b = ws.path("tiers.torrent")
        ih_b = make_torrent_tiers(data_b, tor_b, PIECE, [[dead_url], [silent_url], [udp]])
        tr.start([ih_a, ih_b])

        seed_a = H.LtPeer(ws, "lt-seed-a", tor_a, src, ws.next_ip(), seed=True)
        seed_b = H.LtPeer(ws, "lt-seed-b", tor_b, src_b, ws.next_ip(), seed=True)
        seed_a.wait_ready(30)
        seed_b.wait_ready(60)
        H.check(tr.scrape(ih_a).get("complete") == 1, "seeder A not on the tracker: %s" % tr.scrape(ih_a))

        out_a, out_b = ws.mkdir("leech-a"), ws.mkdir("leech-b")
        t0 = time.monotonic()
        ours_a = H.Headless(ws, "btl-a", tor_a, ws.next_ip(), save_in=out_a)
        ours_b = H.Headless(ws, "btl-b", tor_b, ws.next_ip(), save_in=out_b, seed_time=0)

        # (a) only a UDP tracker: ours must have learned the seed from it.
        ours_a.wait_state(("seeding",), 60)
        H.log("only-udp leecher complete after %.1fs" % (time.monotonic() - t0))
        H.assert_same_data(data, os.path.join(out_a, "udp.bin"), "udp-only leecher")
        # `completed` went over UDP: two seeds and one finished download.
        H.wait_until(lambda: tr.scrape(ih_a).get("complete") == 2, 20,
                     "scrape to count our seed (now %s)" % tr.scrape(ih_a), interval=0.2)
        sc = tr.scrape(ih_a)
        H.check(sc.get("downloaded", 0) >= 1, "completed not counted: %s" % sc)
        H.log("scrape after completion: %s" % sc)

        # (b) tier fallback past a refused and a silent UDP tracker.
        rc = ours_b.proc.wait(60 - (time.monotonic() - t0))
        took_b = time.monotonic() - t0
        H.log("tier-fallback leecher done after %.1fs" % took_b)
        H.check(rc == 0, "tier-fallback leecher exited %s" % rc)
        H.assert_same_data(data_b, os.path.join(out_b, "tiers.bin"), "tier-fallback leecher")
        H.check(took_b < 45, "fallback took %.1fs: a dead tier cost more than one try" % took_b)
        log_b = open(ours_b.proc.logpath, errors="replace").read()
        H.check("refused" in log_b and "no answer" in log_b,
                "dead trackers not reported in the log:\n%s" % ours_b.proc.tail(20))

        # `stopped` over UDP: the seed count drops back to the libtorrent seed.
        rc = ours_a.stop(15)
        H.check(rc == 0, "our leecher exited %s on SIGTERM" % rc)
        H.wait_until(lambda: tr.scrape(ih_a).get("complete") == 1, 10,
                     "stopped to reach the tracker (scrape %s)" % tr.scrape(ih_a), interval=0.2)
        silent.close()


if __name__ == "__main__":
    H.run_main(main)
