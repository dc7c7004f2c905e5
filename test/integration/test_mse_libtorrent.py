#!/usr/bin/python3
"""MSE/PE against libtorrent with encryption forced (RC4 only, both ways):
a libtorrent seed -> our leecher under the default (--encryption prefer)
and under --encryption require; then, with that seed gone, a forced-RC4
libtorrent leecher <- our seed under require.  Under require a plain-text
peer is refused: a plain BitTorrent handshake is closed unanswered, and a
libtorrent leecher with encryption disabled gets nothing."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import fake_peer  # noqa: E402

PIECE = 256 * 1024
SIZE = 6 * H.MiB + 54_321


def plain_handshake_closed(ip, port, ih_hex):
    """True if a plain-text handshake gets the connection closed with no reply."""
    hs = b"\x13BitTorrent protocol" + bytes(8) + bytes.fromhex(ih_hex) + b"-XX0000-plainplainpl"
    return fake_peer.closes_silently(ip, port, hs)


def main():
    H.require_headless()
    with H.Workspace("mse-libtorrent", timeout=100) as ws:
        src = ws.mkdir("seed")
        data = os.path.join(src, "payload.bin")
        H.write_random_file(data, SIZE, 15)
        tr = H.Tracker(ws)
        tor = ws.path("payload.torrent")
        ih, size, npieces = H.make_torrent(data, tor, PIECE, tr.announce)
        tr.start([ih])

        seed = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True, encryption="forced")
        seed.wait_ready()
        d_prefer, d_require = ws.mkdir("prefer"), ws.mkdir("require")
        t0 = time.monotonic()
        prefer = H.Headless(ws, "btl-prefer", tor, ws.next_ip(), save_in=d_prefer)
        require = H.Headless(ws, "btl-require", tor, ws.next_ip(), save_in=d_require,
                             extra=("--encryption", "require"))
        prefer.wait_state(("seeding",), 40)
        require.wait_state(("seeding",), 40)
        H.log("both our leechers finished from the forced-RC4 seed in %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(data, os.path.join(d_prefer, "payload.bin"), "leecher under prefer")
        H.assert_same_data(data, os.path.join(d_require, "payload.bin"), "leecher under require")
        H.check(seed.uploaded(size) >= size, "the libtorrent seed uploaded %r" % seed.status())

        # From here on only our seed under require has the data.
        H.check(seed.stop() == 0, "libtorrent seed did not exit cleanly")
        H.check(prefer.stop() == 0, "our prefer leecher did not exit cleanly")

        H.check(plain_handshake_closed(require.ip, require.port, ih),
                "our seed under require answered a plain-text handshake")
        H.log("a plain-text handshake was closed unanswered")

        plain_dir = ws.mkdir("lt-plain")
        plain = H.LtPeer(ws, "lt-plain", tor, plain_dir, ws.next_ip(), encryption="disabled",
                         connect=[(require.ip, require.port)])
        enc_dir = ws.mkdir("lt-enc")
        leech = H.LtPeer(ws, "lt-enc", tor, enc_dir, ws.next_ip(), encryption="forced",
                         exit_when_done=True, connect=[(require.ip, require.port)])
        rc = leech.proc.wait(40)
        H.check(rc == 0, "forced-RC4 libtorrent leecher exited %s" % rc)
        H.assert_same_data(data, os.path.join(enc_dir, "payload.bin"), "forced-RC4 libtorrent leecher")
        time.sleep(2)
        st = plain.status()
        H.log("plain-text libtorrent leecher after %.1f s: %s" % (time.monotonic() - t0, st))
        H.check(st.get("downloaded", -1) == 0 and st.get("progress", 1) == 0,
                "a plain-text libtorrent leecher got data from our seed under require: %r" % st)
        H.check(require.stop() == 0, "our require seed did not exit cleanly")


if __name__ == "__main__":
    H.run_main(main)
