#!/usr/bin/python3
"""BEP 7 ipv6= end to end: our client announces to bttrack over IPv4 and
names its IPv6 address with ipv6=; a second announcer (IPv4 too) finds it
in compact `peers6` as well as in `peers`, and the IPv6 endpoint accepts
connections.

Runs in a network namespace the test makes (unshare -n): a veth pair whose
one end holds the documentation address 2001:db8::5, so our client (no
--bind: both stacks) has a global IPv6 address to tell trackers about,
while the tracker and both announcers talk over 127.0.0.1.  Bounded well
under 60 s."""

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import netns_util  # noqa: E402

V6 = "2001:db8::5"


def setup_namespace():
    netns_util.reexec()
    for c in (["ip", "link", "set", "lo", "up"],
              ["ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1"],
              ["ip", "addr", "add", V6 + "/64", "dev", "veth0", "nodad"],
              ["ip", "link", "set", "veth0", "up"], ["ip", "link", "set", "veth1", "up"]):
        r = subprocess.run(c, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise H.Fail("network namespace setup: %s: %s" % (" ".join(c), (r.stderr or r.stdout).strip()))


def announce(port, ih, peer_id, peer_port):
    q = urllib.parse.urlencode({"info_hash": ih, "peer_id": peer_id, "port": peer_port, "uploaded": 0,
                                "downloaded": 0, "left": 100, "compact": 1})
    with urllib.request.urlopen("http://127.0.0.1:%d/announce?%s" % (port, q), timeout=5) as r:
        return H.bdecode(r.read())


def endpoints(blob, size):
    fam = socket.AF_INET if size == 6 else socket.AF_INET6
    return {(socket.inet_ntop(fam, blob[i:i + size - 2]), int.from_bytes(blob[i + size - 2:i + size], "big"))
            for i in range(0, len(blob), size)}


def main():
    setup_namespace()
    H.require_headless()
    with H.Workspace("ipv6-param", timeout=60) as ws:
        tport = H.free_port()
        bttrack = os.path.join(H.btl_bin_dir(), "bttrack")
        tracker = ws.start("bttrack", [bttrack, "--port", str(tport), "--bind", "127.0.0.1",
                                       "--dfile", ws.path("bttrack.dfile")])
        H.wait_listening("127.0.0.1", tport, 10, tracker)
        src = ws.mkdir("seed")
        data = os.path.join(src, "p.bin")
        H.write_random_file(data, 256 * H.KiB, 71)
        tor = ws.path("p.torrent")
        ih_hex, _, _ = H.make_torrent(data, tor, 64 * H.KiB, "http://127.0.0.1:%d/announce" % tport)
        ih = bytes.fromhex(ih_hex)

        port = H.free_port("::")
        status = ws.path("ours.status.json")
        ours = ws.start("ours", [H.require_headless(), tor, "--minport", str(port), "--maxport", str(port),
                                 "--data_dir", ws.mkdir("ours.data"), "--save_in", src, "--display_interval", "1",
                                 "--status_json", status, "--dht", "0", "--verbose"] + H.NO_REACH)
        want6 = (V6, port)
        got = {}

        def listed():
            got.clear()
            got.update(announce(tport, ih, b"-XX0001-zzzzzzzzzzzz", 7777))
            return want6 in endpoints(got.get(b"peers6", b""), 18)

        H.wait_until(listed, 20, "our client's ipv6= address in peers6", interval=0.5, procs=[ours, tracker])
        H.log("second announcer got peers %s, peers6 %s" % (endpoints(got.get(b"peers", b""), 6),
                                                          endpoints(got.get(b"peers6", b""), 18)))
        H.check(("127.0.0.1", port) in endpoints(got.get(b"peers", b""), 6),
                "the IPv4 endpoint is missing beside the IPv6 one: %r" % got)
        H.check(len(got.get(b"peers6", b"")) == 18 and len(got.get(b"peers", b"")) == 6,
                "one peer should give one entry in each list: %r" % got)
        with socket.create_connection((V6, port), timeout=5):
            pass  # the endpoint bttrack handed out is really ours
        log = open(ours.logpath, errors="replace").read()
        H.check("(IPv4 and IPv6)" in log, "our client does not listen on both stacks:\n%s" % ours.tail(20))
        # The dfile keeps the second address across a restart of the tracker.
        tracker.signal()
        H.check(tracker.wait(10) == 0, "bttrack did not exit cleanly")
        tracker = ws.start("bttrack2", [bttrack, "--port", str(tport), "--bind", "127.0.0.1",
                                        "--dfile", ws.path("bttrack.dfile")])
        H.wait_listening("127.0.0.1", tport, 10, tracker)
        H.check(want6 in endpoints(announce(tport, ih, b"-XX0001-yyyyyyyyyyyy", 7778).get(b"peers6", b""), 18),
                "the restarted tracker lost the IPv6 endpoint")
        ours.signal()
        H.check(ours.wait(15) == 0, "our client did not exit cleanly")


if __name__ == "__main__":
    H.run_main(main)
