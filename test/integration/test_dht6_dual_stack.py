#!/usr/bin/python3
"""The DHT on both stacks at once (BEP 32), in a network namespace the test
makes itself (our client binds no address, so it listens on 0.0.0.0 and
[::]: nothing it sends can leave the namespace).

Two separate libtorrent DHTs: an IPv4 one (router 10.77.0.2, seed
10.77.0.3) and an IPv6 one on ::1 (router, seed).  Both seeds seed the same
torrent; neither DHT knows the other's nodes.  Our btdownloadheadless, with
no --bind and --dht_bootstrap naming one router of each family (the IPv6
one by a host name that has only an AAAA record, from an /etc/hosts
bind-mounted in the test's own mount namespace), gets a bare
magnet link (no tracker, LSD and PEX off).  Its lookups must run on both
tables: its log shows the IPv4 seed found over the IPv4 DHT and the IPv6 seed
over the IPv6 DHT, the download completes, the status JSON counts nodes in
both tables, and dht.dat keeps both (nodes, nodes6)."""

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import netns_util  # noqa: E402
from test_dht_libtorrent import LtNode  # noqa: E402

R4, S4 = "10.77.0.2", "10.77.0.3"
LO6 = "::1"
NAME6 = "dht6-router.test"  # AAAA ::1 only


def enter_namespaces():
    """A network namespace (netns_util) that is also a mount namespace, so
    /etc/hosts can name the IPv6 router without touching the host's."""
    if os.environ.get(netns_util.MARK) != "1":
        env = dict(os.environ, **{netns_util.MARK: "1"})
        os.execvpe("unshare", ["unshare", "-n", "-m", sys.executable] + sys.argv, env)
    netns_util.enter([R4, S4])
    fd, hosts = tempfile.mkstemp(prefix="btl-dht6-hosts-")
    with os.fdopen(fd, "w") as f:
        f.write("127.0.0.1 localhost\n%s %s\n" % (LO6, NAME6))
    r = subprocess.run(["mount", "--bind", hosts, "/etc/hosts"], capture_output=True, text=True, timeout=10)
    os.unlink(hosts)
    if r.returncode != 0:
        raise H.Fail("bind-mounting /etc/hosts in the test's mount namespace: %s" % r.stderr.strip())
    H.check(H.socket.getaddrinfo(NAME6, 1)[0][4][0] == LO6, "%s does not resolve to %s" % (NAME6, LO6))


def node_arg(ip, port):
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def main():
    enter_namespaces()
    H.require_headless()
    with H.Workspace("dht6-dual", timeout=120) as ws:
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "dual.bin"), 4 * H.MiB + 46, 46)
        tor = ws.path("dual.torrent")
        ih, total, _ = H.make_torrent(os.path.join(src, "dual.bin"), tor, 64 * H.KiB, None)

        r4 = LtNode(ws, "lt-router4", ip=R4)
        r6 = LtNode(ws, "lt-router6", ip=LO6)
        s4 = LtNode(ws, "lt-seed4", ip=S4, nodes=[r4.addr], torrents=[tor], save=src, seed=True)
        s6 = LtNode(ws, "lt-seed6", ip=LO6, nodes=[r6.addr], torrents=[tor], save=src, seed=True)
        for n in (s4, s6):
            H.wait_until(lambda: n.status().get("dht_nodes", 0) >= 1, 20, "%s to join its router" % n.ip,
                         procs=[n.proc])

        port = H.free_port("::")
        status = ws.path("btl.status.json")
        data_dir = ws.mkdir("btl.data")
        out = ws.mkdir("out")
        argv = [H.require_headless(), "magnet:?xt=urn:btih:" + ih, "--minport", str(port), "--maxport", str(port),
                "--data_dir", data_dir, "--display_interval", "1", "--status_json", status,
                "--save_in", out, "--seed_time", "120", "--pex", "0", "--verbose",
                "--dht_bootstrap", "%s,%s:%d" % (node_arg(*r4.addr), NAME6, r6.port)] + H.NO_REACH
        t0 = time.monotonic()
        me = ws.start("btl", argv)

        def torrent():
            d = H.read_json(status) or {}
            return (d.get("torrents") or [{}])[0]

        H.wait_until(lambda: torrent().get("state") == "seeding", 80, "the bare magnet to complete",
                     procs=[me])
        H.log("complete after %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src, "dual.bin"), os.path.join(out, "dual.bin"), "dual-stack DHT download")

        def found(fam, peer):
            with open(ws.path("btl.log"), errors="replace") as f:
                return any("DHT (%s):" % fam in ln and ih in ln and peer in ln for ln in f)

        # The IPv4 seed is in the IPv4 DHT only, the IPv6 seed in the IPv6 one.
        H.wait_until(lambda: found("IPv4", "%s:%d" % s4.addr) and found("IPv6", "[::1]:%d" % s6.port), 30,
                     "our lookups to find the IPv4 seed over IPv4 and the IPv6 seed over IPv6", procs=[me])
        totals = (H.read_json(status) or {}).get("totals") or {}
        H.log("status totals: %s" % totals)
        n6, n = totals.get("dht_nodes6", -1), totals.get("dht_nodes", -1)
        H.check(n6 >= 1 and n - n6 >= 1, "status JSON: dht_nodes %s, dht_nodes6 %s: both tables must hold nodes"
                % (n, n6))
        with open(ws.path("btl.log"), errors="replace") as f:
            H.check("(IPv4 and IPv6)" in f.read(), "the DHT did not say it runs on both stacks")
        me.signal(H.signal.SIGTERM)
        rc = me.wait(15)
        H.check(rc == 0, "btdownloadheadless exited %s on SIGTERM" % rc)
        with open(os.path.join(data_dir, "dht.dat"), "rb") as f:
            saved = f.read()
        H.check(b"6:nodes6" in saved and b"5:nodes" in saved, "dht.dat lacks one of the tables: %r" % saved[:80])


if __name__ == "__main__":
    H.run_main(main)
