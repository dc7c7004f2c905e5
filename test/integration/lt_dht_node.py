#!/usr/bin/python3
"""A libtorrent session with its DHT on, for the DHT tests: every address is
on loopback, no bootstrap routers (libtorrent's default would reach out),
joined to other nodes with add_dht_node (INTEROP.md "libtorrent DHT on
loopback").  Optionally seeds or downloads trackerless torrents.  Writes a
status JSON: dht_nodes, and per torrent progress/seeding/peers."""

import argparse
import json
import os
import signal
import sys
import time

import libtorrent as lt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--node", action="append", default=[], help="IP:PORT of a DHT node to join")
    ap.add_argument("--torrent", action="append", default=[], help=".torrent file or magnet URI")
    ap.add_argument("--save", default=".")
    ap.add_argument("--seed", action="store_true")
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    host = "[%s]" % a.ip if ":" in a.ip else a.ip  # IPv6: the DHT runs over it (BEP 32)
    ses = lt.session({
        "listen_interfaces": "%s:%d" % (host, a.port), "outgoing_interfaces": a.ip,
        "enable_dht": True, "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False, "dht_block_ratelimit": 1000,
        "dht_upload_rate_limit": 1_000_000, "dht_announce_interval": 3,
        "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.dht_notification | lt.alert.category_t.error_notification,
    })
    def nodes():
        for n in a.node:  # "IP:PORT" or "[IPv6]:PORT"
            ip, port = n.rsplit(":", 1)
            yield ip.strip("[]"), int(port)

    for n in nodes():
        ses.add_dht_node(n)
    handles = []
    for t in a.torrent:
        if t.startswith("magnet:"):  # metadata from peers found through the DHT
            atp = lt.parse_magnet_uri(t)
        else:
            atp = lt.add_torrent_params()
            atp.ti = lt.torrent_info(t)
        atp.save_path = a.save
        if a.seed:
            atp.flags |= lt.torrent_flags.seed_mode
        handles.append(ses.add_torrent(atp))
    t0 = time.monotonic()
    last_nodes = 0
    while not stop:
        ses.pop_alerts()
        ss = ses.status()
        if time.monotonic() - t0 > 1 and ss.dht_nodes > last_nodes:
            last_nodes = ss.dht_nodes
        # Re-adding the nodes keeps a lone libtorrent table from emptying
        # while the others are still starting.
        if ss.dht_nodes == 0 and int(time.monotonic() - t0) % 2 == 0:
            for n in nodes():
                ses.add_dht_node(n)
        st = {"dht_nodes": ss.dht_nodes, "listen_port": ses.listen_port(), "torrents": []}
        for h in handles:
            s = h.status()
            st["torrents"].append({"info_hash": str(s.info_hashes.v1) if hasattr(s, "info_hashes") else str(s.info_hash),
                                   "progress": s.progress, "seeding": bool(s.is_seeding),
                                   "peers": s.num_peers, "done_after": None})
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, a.status)
        time.sleep(0.2)
    ses.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
