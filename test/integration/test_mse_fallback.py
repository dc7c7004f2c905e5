#!/usr/bin/python3
"""MSE/PE fallback when we dial: our leecher under --encryption allow
reaches a libtorrent seed that forces encryption (plain text first, refused,
then encrypted), and our leecher under prefer reaches a libtorrent seed with
encryption disabled (encrypted first, refused, then plain text).  Each seed
has announced before our leecher exists, so it never dials us: only our
second try in the other mode can connect, and without it the download
would not finish."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import fake_peer  # noqa: E402

PIECE = 256 * 1024
SIZE = 3 * H.MiB + 4_321


def one(ws, tor, src, data, ih, seed_enc, our_mode):
    seed = H.LtPeer(ws, "lt-%s" % seed_enc, tor, src, ws.next_ip(), seed=True, encryption=seed_enc)
    seed.wait_ready()
    port = seed.status()["listen_port"]
    # The control: the seed really refuses the mode we dial first.
    if seed_enc == "forced":
        first = b"\x13BitTorrent protocol" + bytes(8) + bytes.fromhex(ih) + b"-XX0000-plainplainpl"
    else:
        first = bytes(range(1, 97)) + b"pad"  # an MSE public key and PadA
    H.check(fake_peer.closes_silently(seed.ip, port, first, silence_counts=True), "the %s libtorrent seed answered the mode it should refuse" % seed_enc)
    dst = ws.mkdir("ours-%s" % our_mode)
    t0 = time.monotonic()
    me = H.Headless(ws, "btl-%s" % our_mode, tor, ws.next_ip(), save_in=dst, extra=("--encryption", our_mode))
    # Under 10 s: the first PeerBook backoff after a failed dial is 10 s,
    # so finishing sooner shows the retry in the other mode came at once.
    me.wait_state(("seeding",), 9)
    H.log("--encryption %s against a libtorrent seed with encryption %s: done in %.1f s"
          % (our_mode, seed_enc, time.monotonic() - t0))
    H.assert_same_data(data, os.path.join(dst, "payload.bin"), "our leecher under %s" % our_mode)
    H.check(me.stop() == 0, "our leecher did not exit cleanly")
    H.check(seed.stop() == 0, "libtorrent seed did not exit cleanly")


def main():
    H.require_headless()
    with H.Workspace("mse-fallback", timeout=60) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "payload.bin")
        H.write_random_file(data, SIZE, 17)
        tr = H.Tracker(ws)
        tor = ws.path("payload.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])
        one(ws, tor, src, data, ih, "forced", "allow")
        one(ws, tor, src, data, ih, "disabled", "prefer")


if __name__ == "__main__":
    H.run_main(main)
