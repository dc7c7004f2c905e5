#!/usr/bin/python3
"""One libtorrent seed for the re-dial and duplicate-connection tests (not a
test itself): like btl_harness.py lt-peer, plus what those tests need and
lt-peer has not:

  --num-want N       peers asked of the tracker (0: the seed never learns
                     our address, so only our dial can connect the two)
  --connect-after S  dial IP:PORT (--connect) only S seconds after start,
                     once our client's own dial is up: both sides dialled

Writes a status JSON (peers, uploaded, seeding, announces) every 0.1 s."""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402


def main(argv):
    import libtorrent as lt
    ap = argparse.ArgumentParser()
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--save", required=True)
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--upload-limit", type=int, default=0)
    ap.add_argument("--num-want", type=int, default=200)
    ap.add_argument("--connect", default="")
    ap.add_argument("--connect-after", type=float, default=0)
    a = ap.parse_args(argv)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    sp = H.lt_settings(lt, a.ip, a.port, a.upload_limit)
    sp["num_want"] = a.num_want
    ses = lt.session(sp)
    if a.upload_limit:
        H.lt_limit_loopback(lt, ses)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(a.torrent)
    atp.save_path = a.save
    atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)
    t0 = time.monotonic()
    dialled = False
    announces = 0
    max_peers = 0
    while not stop:
        for al in ses.pop_alerts():
            if isinstance(al, lt.tracker_reply_alert):
                announces += 1
        if a.connect and not dialled and time.monotonic() - t0 >= a.connect_after:
            ip, port = a.connect.rsplit(":", 1)
            h.connect_peer((ip, int(port)))
            dialled = True
            print("dialled %s at %.1f s" % (a.connect, time.monotonic() - t0), flush=True)
        s = h.status()
        max_peers = max(max_peers, s.num_peers)
        st = {"peers": s.num_peers, "max_peers": max_peers, "uploaded": s.total_payload_upload,
              "seeding": bool(s.is_seeding), "announces": announces, "dialled": dialled}
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, a.status)
        ses.wait_for_alert(100)
    ses.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
