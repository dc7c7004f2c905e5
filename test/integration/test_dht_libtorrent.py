#!/usr/bin/python3
"""The DHT against libtorrent's, on loopback, trackerless torrents only (no
tracker, no PEX: the DHT is the only way peers meet):
  1. our btdownloadheadless downloads a torrent from a libtorrent seed it
     finds only through the DHT (bootstrap: one libtorrent node);
  2. restarted with the same data dir and an empty --dht_bootstrap, it joins
     from its saved routing table and downloads a second torrent;
  3. a libtorrent leecher finds our seed through the DHT and completes;
  4. a bare magnet link (info-hash only: no tracker, no peer hint) finds the
     libtorrent seed through the DHT, fetches the metadata and completes.
Nodes: libtorrent router 127.0.0.2, libtorrent seed .3, us .4, libtorrent
leecher .5."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB


class LtNode:
    """A libtorrent DHT node (lt_dht_node.py) on `ip`, IPv4 or IPv6; `nodes` are (ip, port) it bootstraps from."""

    def __init__(self, ws, name, ip, nodes=(), torrents=(), save=None, seed=False):
        self.ip, self.port = ip, H.free_port(ip)
        self.status_path = ws.path("%s.json" % name)
        argv = [H.PY, os.path.join(H.HERE, "lt_dht_node.py"), "--ip", ip, "--port", str(self.port),
                "--status", self.status_path]
        for n in nodes:
            argv += ["--node", ("[%s]:%d" if ":" in n[0] else "%s:%d") % n]
        for t in torrents:
            argv += ["--torrent", t]
        if save:
            argv += ["--save", save]
        if seed:
            argv.append("--seed")
        self.proc = ws.start(name, argv)

    def status(self):
        return H.read_json(self.status_path) or {}

    @property
    def addr(self):
        return (self.ip, self.port)


def make(ws, name, size, seed):
    src = ws.mkdir("src-" + name)
    H.write_random_file(os.path.join(src, name), size, seed)
    tor = ws.path(name + ".torrent")
    ih, total, _ = H.make_torrent(os.path.join(src, name), tor, PIECE, None)
    return src, tor, ih


def main():
    H.require_headless()
    with H.Workspace("dht-libtorrent", timeout=170) as ws:
        src1, tor1, ih1 = make(ws, "one.bin", 3 * H.MiB + 123, 1)
        src2, tor2, ih2 = make(ws, "two.bin", 2 * H.MiB + 7, 2)
        router = LtNode(ws, "lt-router", ws.next_ip())
        seed_ip = ws.next_ip()
        # The seed holds both payloads in one directory.
        seed_dir = ws.mkdir("seed")
        for s, n in ((src1, "one.bin"), (src2, "two.bin")):
            os.link(os.path.join(s, n), os.path.join(seed_dir, n))
        seed = LtNode(ws, "lt-seed", seed_ip, nodes=[router.addr], torrents=[tor1, tor2], save=seed_dir, seed=True)
        H.wait_until(lambda: seed.status().get("dht_nodes", 0) >= 1, 20, "the libtorrent seed to join the router",
                     procs=[seed.proc])

        # 1. Download through the DHT only.
        me_ip = ws.next_ip()
        data_dir = ws.mkdir("me.data")
        out1 = ws.mkdir("out1")
        t0 = time.monotonic()
        me = H.Headless(ws, "btl-1", tor1, me_ip, save_in=out1, seed_time=0, data_dir=data_dir, dht=True,
                        extra=["--dht_bootstrap", "%s:%d" % router.addr])
        rc = me.proc.wait(60)
        H.log("first download: rc %s after %.1f s" % (rc, time.monotonic() - t0))
        H.check(rc == 0, "btdownloadheadless (DHT only) exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src1, "one.bin"), os.path.join(out1, "one.bin"), "DHT download")
        H.check(os.path.getsize(os.path.join(data_dir, "dht.dat")) > 26, "no routing table saved in the data dir")

        # 2. Restart: no bootstrap nodes, only the saved table.
        out2 = ws.mkdir("out2")
        t0 = time.monotonic()
        me2 = H.Headless(ws, "btl-2", tor2, me_ip, save_in=out2, seed_time=0, data_dir=data_dir, dht=True,
                         extra=["--dht_bootstrap="])
        rc = me2.proc.wait(60)
        H.log("second download (saved table): rc %s after %.1f s" % (rc, time.monotonic() - t0))
        H.check(rc == 0, "restarted btdownloadheadless exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src2, "two.bin"), os.path.join(out2, "two.bin"), "DHT download after restart")
        with open(ws.path("btl-2.log"), errors="replace") as f:
            log = f.read()
        H.check("saved nodes" in log, "the restarted client did not say it joined from its saved nodes")

        # 4. A bare magnet: the DHT is the only way to the seed and the metadata.
        out4 = ws.mkdir("out4")
        t0 = time.monotonic()
        me4 = H.Headless(ws, "btl-magnet", "magnet:?xt=urn:btih:" + ih1, me_ip, save_in=out4, seed_time=0,
                         data_dir=ws.mkdir("magnet.data"), dht=True,
                         extra=["--dht_bootstrap", "%s:%d" % router.addr])
        rc = me4.proc.wait(60)
        H.log("bare magnet through the DHT: rc %s after %.1f s" % (rc, time.monotonic() - t0))
        H.check(rc == 0, "btdownloadheadless with a bare magnet exited %s, expected 0" % rc)
        H.assert_same_data(os.path.join(src1, "one.bin"), os.path.join(out4, "one.bin"), "bare magnet download")

        # 3. A libtorrent leecher finds our seed through the DHT.
        seed.proc.kill_group()
        src3, tor3, ih3 = make(ws, "three.bin", 2 * H.MiB + 99, 3)
        ours = H.Headless(ws, "btl-seed", tor3, me_ip, save_in=src3, data_dir=data_dir, dht=True,
                          extra=["--dht_bootstrap", "%s:%d" % router.addr])
        ours.wait_state(("seeding",), 30)
        leech_dir = ws.mkdir("leech")
        t0 = time.monotonic()
        leech = LtNode(ws, "lt-leech", ws.next_ip(), nodes=[router.addr], torrents=[tor3], save=leech_dir)
        H.wait_until(lambda: (leech.status().get("torrents") or [{}])[0].get("seeding"), 60,
                     "the libtorrent leecher to find our seed through the DHT and complete",
                     procs=[leech.proc, ours.proc])
        H.log("libtorrent leecher complete after %.1f s" % (time.monotonic() - t0))
        H.assert_same_data(os.path.join(src3, "three.bin"), os.path.join(leech_dir, "three.bin"),
                           "libtorrent leecher")
        st = H.read_json(ours.status_path) or {}
        H.check((st.get("totals") or {}).get("dht_nodes", -1) >= 1, "status JSON totals.dht_nodes: %s" % st.get("totals"))
        ours.stop()


if __name__ == "__main__":
    H.run_main(main)
