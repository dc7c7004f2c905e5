#!/usr/bin/python3
"""One libtorrent session with many torrents (the soak's libtorrent seed,
and its sweeping leecher): every .torrent named on the command line, data
under --save, TCP only, its own loopback address.  Seeds in seed mode (no
full check); with --only-peer IP:PORT it leeches every torrent from that
peer alone (an IP filter keeps every other peer out).  Writes --status every
second: {"torrents": N, "seeding": N, "announces": N, "peers": N}.
Ends on SIGTERM."""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import btl_harness as H  # noqa: E402


def main():
    import libtorrent as lt
    ap = argparse.ArgumentParser(prog="lt_multi.py")
    ap.add_argument("--save", required=True)
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--only-peer", default="", help="IP:PORT: leech from this peer only")
    ap.add_argument("torrents", nargs="+")
    a = ap.parse_args()
    s = H.lt_settings(lt, a.ip, a.port)
    s["active_seeds"] = -1          # every torrent seeds and announces
    s["active_limit"] = -1
    s["active_tracker_limit"] = -1
    s["connections_limit"] = 2000
    s["apply_ip_filter_to_trackers"] = False
    ses = lt.session(s)
    only = None
    if a.only_peer:
        ip, port = a.only_peer.rsplit(":", 1)
        only = (ip, int(port))
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255", 1)   # blocked...
        f.add_rule(ip, ip, 0)                          # ...but that one
        ses.set_ip_filter(f)
    handles = []
    for t in a.torrents:
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(t)
        p.save_path = a.save
        if not only:
            p.flags |= lt.torrent_flags.seed_mode
        p.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        h = ses.add_torrent(p)
        if only:
            h.connect_peer(only)
        handles.append(h)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    announces = 0
    while not stop:
        for al in ses.pop_alerts():
            if isinstance(al, lt.tracker_reply_alert):
                announces += 1
        sts = [h.status() for h in handles]
        doc = {"torrents": len(sts), "seeding": sum(1 for x in sts if x.is_seeding),
               "announces": announces, "peers": sum(x.num_peers for x in sts)}
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, a.status)
        time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
