#!/usr/bin/python3
"""One libtorrent session with Local Service Discovery on, for the LSD tests
(not a test itself): it seeds one torrent and leeches another, with no
tracker, so only LSD can bring it and our clients together.

  lt_lsd_peer.py SEED_TORRENT SEED_DIR LEECH_TORRENT LEECH_DIR IP PORT STATUS

Writes STATUS (JSON) every 0.2 s: "lsd_peers_from" (the messages of its
lsd_peer alerts: the binding has no class for them, their text names the
peer) and, for "seed" and "leech", progress, seeding, peers and uploaded."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402


def main(argv):
    import libtorrent as lt
    seed_t, seed_dir, leech_t, leech_dir, ip, port, status = argv
    s = H.lt_settings(lt, ip, int(port))
    s["enable_lsd"] = True
    s["alert_mask"] = lt.alert.category_t.all_categories
    ses = lt.session(s)
    lsd_from = set()
    handles = {"seed": ses.add_torrent({"ti": lt.torrent_info(seed_t), "save_path": seed_dir,
                                        "flags": lt.torrent_flags.seed_mode}),
               "leech": ses.add_torrent({"ti": lt.torrent_info(leech_t), "save_path": leech_dir})}
    while True:
        for a in ses.pop_alerts():
            if os.environ.get("LT_ALERTS"):
                print(a.what(), a.message(), flush=True)
            if a.what() == "lsd_peer":
                lsd_from.add(a.message())
        doc = {"lsd_peers_from": sorted(lsd_from)}
        for name, h in handles.items():
            st = h.status()
            doc[name] = {"progress": st.progress, "seeding": st.is_seeding, "peers": st.num_peers,
                         "uploaded": st.total_payload_upload}
        tmp = status + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, status)
        time.sleep(0.2)


if __name__ == "__main__":
    main(sys.argv[1:])
