#!/usr/bin/env python3
"""Local Service Discovery over IPv6 (BEP 14: [ff15::efc0:988f]:6771), with
no tracker, in network namespaces the test makes itself: ours run in one
(veth0 holds fd00::2 and fd00::3), libtorrent in a second one at the other
end of the veth pair (veth1, fd00::4), as two hosts on a LAN.

  - Ours against ours: a seed (--bind fd00::2) and a leecher (--bind
    fd00::3) of a public torrent find each other by IPv6 LSD alone and the
    download completes intact.
  - Packet level: a listener on veth0 hears each of ours
    announce the torrent with the IPv6 Host header, a cookie and its own
    port, sent FROM its --bind address (so the address a peer dials is the
    one it listens on), and no IPv4 announce from an IPv6-bound client.
  - libtorrent (listen_interfaces [fd00::4]) with enable_lsd seeds a second
    torrent: our leecher hears its IPv6 announce and downloads from it; it
    also leeches the first, hears ours (lsd_peer alerts) and completes.
  - A sender known only by its link-local address (a packet from the test)
    is dialled with its scope, fe80::...%veth0.
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import netns_util  # noqa: E402

LT_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lt_lsd_peer.py")

SEED, LEECH, LT = "fd00::2", "fd00::3", "fd00::4"
GROUP = "ff15::efc0:988f"
DEAD_TRACKER = "http://127.0.0.1:1/announce"
LSD = ["--lsd", "1", "--verbose"]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise H.Fail("network namespace setup: %s: %s" % (" ".join(cmd), (r.stderr or r.stdout).strip()))


def setup_namespaces(ws):
    """Ours here on veth0; returns the argv prefix that runs a command in
    the other host's namespace (veth1), held open by a sleeping child."""
    holder = subprocess.Popen(["unshare", "-n", "sleep", "3600"])
    ws.add_cleanup(lambda: (holder.kill(), holder.wait()))
    for _ in range(100):
        if os.readlink("/proc/%d/ns/net" % holder.pid) != os.readlink("/proc/self/ns/net"):
            break
        time.sleep(0.02)
    other = ["nsenter", "-t", str(holder.pid), "-n"]
    run(["ip", "link", "set", "lo", "up"])
    run(["ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", str(holder.pid)])
    for a in (SEED, LEECH):
        run(["ip", "addr", "add", a + "/64", "dev", "veth0", "nodad"])
    run(["ip", "link", "set", "veth0", "up"])
    run(other + ["ip", "link", "set", "lo", "up"])
    run(other + ["ip", "addr", "add", LT + "/64", "dev", "veth1", "nodad"])
    run(other + ["ip", "link", "set", "veth1", "up"])
    # Joining a group fails (ENODEV) until the kernel has added the link's
    # multicast route, a moment after both ends are up.
    for prefix, dev in (([], "veth0"), (other, "veth1")):
        H.wait_until(lambda: "multicast ff00::/8 dev %s" % dev in subprocess.run(
            prefix + ["ip", "-6", "route", "show", "table", "local"], capture_output=True, text=True,
            timeout=10).stdout, 10, "the multicast route on %s" % dev)
    return other


def listen_lsd(packets, stop, ready):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", 6771))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                 socket.inet_pton(socket.AF_INET6, GROUP) + struct.pack("I", socket.if_nametoindex("veth0")))
    v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # any IPv4 announce at all is a failure
    v4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    v4.bind(("0.0.0.0", 6771))
    s.settimeout(0.1)
    v4.settimeout(0.1)
    ready.set()
    while not stop.is_set():
        for sock in (s, v4):
            try:
                data, src = sock.recvfrom(4096)
            except socket.timeout:
                continue
            packets.append((time.monotonic(), src[0], data.decode("latin-1")))


def link_local(dev):
    """The (non-tentative) link-local address of `dev`."""
    def get():
        out = subprocess.run(["ip", "-6", "-o", "addr", "show", "dev", dev, "scope", "link"], capture_output=True,
                             text=True, timeout=10).stdout
        return out.split()[3].split("/")[0] if out and "tentative" not in out else None
    return H.wait_until(get, 10, "a link-local address on %s" % dev)


def link_local_sender(ws, c_t, c_ih):
    """A peer known only by its link-local address announces torrent c; our
    leecher of c must dial it with the scope (fe80::...%veth0)."""
    ll, idx = link_local("veth0"), socket.if_nametoindex("veth0")
    lst = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    lst.bind((ll, 0, 0, idx))
    lst.listen(4)
    port = lst.getsockname()[1]
    leech_c = H.Headless(ws, "leech-c", c_t, LEECH, save_in=ws.mkdir("out-c"), extra=LSD)
    leech_c.wait_state(["downloading", "stalled"], 20)
    tx = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    tx.bind((ll, 0, 0, idx))
    tx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    msg = ("BT-SEARCH * HTTP/1.1\r\nHost: [%s]:6771\r\nPort: %d\r\nInfohash: %s\r\n\r\n\r\n"
           % (GROUP, port, c_ih)).encode()
    tx.sendto(msg, (GROUP, 6771, 0, idx))
    lst.settimeout(15)
    try:
        conn, peer = lst.accept()
    except socket.timeout:
        raise H.Fail("our leecher never dialled the link-local LSD peer [%s%%veth0]:%d" % (ll, port))
    conn.close()
    H.log("our leecher dialled the link-local LSD peer from [%s]" % peer[0])
    with open(leech_c.proc.logpath, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    H.check("LSD: peer [%s%%veth0]:%d" % (ll, port) in text, "no scoped LSD peer in our log")
    lst.close()
    tx.close()
    H.check(leech_c.stop() == 0, "leech-c did not exit cleanly")


def main():
    netns_util.reexec()
    H.require_headless()
    with H.Workspace("lsd-ipv6", timeout=90) as ws:
        other = setup_namespaces(ws)
        packets, stop, ready = [], threading.Event(), threading.Event()
        t = threading.Thread(target=listen_lsd, args=(packets, stop, ready), daemon=True)
        t.start()
        ready.wait(5)
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "a.bin"), 2 * H.MiB, 31)
        H.write_random_file(os.path.join(src, "b.bin"), 2 * H.MiB, 32)
        a_t, b_t = ws.path("a.torrent"), ws.path("b.torrent")
        a_ih, _, _ = H.make_torrent(os.path.join(src, "a.bin"), a_t, 65536, DEAD_TRACKER)
        H.make_torrent(os.path.join(src, "b.bin"), b_t, 65536, DEAD_TRACKER)

        # The order makes each direction needed.  Our leecher of b runs
        # first and announces before libtorrent listens: only libtorrent's
        # start-up announce of b can bring them together.  libtorrent also
        # wants a; our seed and leecher of a start after it, and libtorrent
        # says whether it heard their announces (lsd_peer alerts).
        t0 = time.monotonic()
        out, lt_out = ws.mkdir("out"), ws.mkdir("lt-out")
        leech_b = H.Headless(ws, "leech-b", b_t, LEECH, save_in=out, extra=LSD)
        leech_b.wait_state(["downloading", "stalled"], 20)
        time.sleep(1.5)
        status = ws.path("lt.json")
        lt_proc = ws.start("libtorrent", other + [sys.executable, LT_PEER, b_t, src,
                                                  a_t, lt_out, LT, "6881", status])
        H.wait_until(lambda: H.read_json(status), 20, "libtorrent to start", procs=[lt_proc])
        time.sleep(1.0)
        seed = H.Headless(ws, "seed", a_t, SEED, save_in=src, extra=LSD)
        seed.wait_state(["seeding"], 20)
        leech = H.Headless(ws, "leech", a_t, LEECH, save_in=out, extra=LSD)
        leech.wait_state(["seeding"], 40)
        H.log("ours from ours by IPv6 LSD in %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "a.bin"), os.path.join(out, "a.bin"), "the IPv6 LSD leecher")
        leech_b.wait_state(["seeding"], 40)
        H.log("ours from libtorrent by IPv6 LSD in %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "b.bin"), os.path.join(out, "b.bin"), "our leecher of libtorrent's seed")
        H.check((H.read_json(status) or {}).get("seed", {}).get("uploaded", 0) >= 2 * H.MiB,
                "libtorrent's seed did not upload the torrent: %s" % H.read_json(status))
        with open(leech_b.proc.logpath, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        H.check("LSD: peer [%s]:" % LT in text, "our leecher logged no IPv6 LSD peer from libtorrent")
        H.wait_until(lambda: (H.read_json(status) or {}).get("leech", {}).get("seeding"), 40,
                     "libtorrent to download a from ours", procs=[lt_proc])
        H.assert_same_data(os.path.join(src, "a.bin"), os.path.join(lt_out, "a.bin"), "libtorrent's IPv6 LSD leecher")
        H.wait_until(lambda: any(SEED in m or LEECH in m for m in (H.read_json(status) or {}).get("lsd_peers_from", [])),
                     15, "libtorrent to report an LSD peer from ours", procs=[lt_proc])
        H.log("libtorrent's LSD peers:", (H.read_json(status) or {}).get("lsd_peers_from"))
        c_t = ws.path("c.torrent")
        c_ih, _, _ = H.make_torrent(os.path.join(src, "b.bin"), c_t, 32768, DEAD_TRACKER)
        link_local_sender(ws, c_t, c_ih)

        stop.set()
        t.join(2)
        for who, p in ((SEED, seed), (LEECH, leech)):
            mine = [x for x in packets if x[1] == who and a_ih in x[2].lower()]
            H.check(mine, "no IPv6 LSD announce of the torrent from %s (heard: %r)" % (who, [x[1] for x in packets]))
            text = mine[0][2]
            H.check(text.startswith("BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\n"),
                    "not an IPv6 LSD announce: %r" % text)
            H.check("\r\nPort: %d\r\n" % p.port in text and "\r\ncookie: " in text, "port or cookie missing: %r" % text)
        v4 = [x for x in packets if ":" not in x[1]]
        H.check(not v4, "IPv6-bound clients sent IPv4 LSD announces: %r" % v4)
        for p in (seed, leech, leech_b):
            H.check(p.stop() == 0, "%s did not exit cleanly" % p.name)


if __name__ == "__main__":
    H.run_main(main)
