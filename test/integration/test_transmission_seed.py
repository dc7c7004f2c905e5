#!/usr/bin/python3
"""Issue 12, defect 4: downloading from a Transmission 3.00 seed does not
stall.  Transmission advertises reqq 512, queues 511 requests and answers
the excess with a batch of rejects about 8 s late; queueing up to 1,000
requests per peer stalled every download from it for 6-12 s.

transmission-daemon seeds a 64 MiB file it has verified (peer port on
127.0.0.1, RPC on 127.0.0.1 for transmission-remote, no DHT/LPD/PEX/uTP/
port mapping, plain connections tolerated) and announces to opentracker;
our btdownloadheadless (127.0.0.3) learns its address there and dials it
(3.00 never dials 127/8 itself, but accepts us).  The download must
complete, byte-identical, and no gap without progress may exceed
MAX_GAP_S.  Our log (--verbose) must show Transmission's extended handshake
with its reqq of 512, which caps our queue to it at 511 (BEP 10).  The download time and the longest gap are printed (the
before/after figures of the issue's note).

BTL_BIN=/path/to/other/build/bin runs it against another build."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

SIZE = 64 * H.MiB
PIECE = 256 * H.KiB
MAX_GAP_S = 4.0  # the stall was 6-12 s; a healthy loopback download has none over 1 s


def tr_remote(rpc, *args):
    r = subprocess.run(["transmission-remote", "127.0.0.1:%d" % rpc] + list(args),
                       capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr


def start_transmission(ws, torrent, data_dir, peer_port, rpc_port):
    conf = ws.mkdir("tr-conf")
    watch = ws.mkdir("tr-watch")
    settings = {
        "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
        "peer-port": peer_port, "peer-port-random-on-start": False,
        "rpc-enabled": True, "rpc-bind-address": "127.0.0.1", "rpc-port": rpc_port,
        "rpc-authentication-required": False, "rpc-whitelist-enabled": True,
        "rpc-whitelist": "127.0.0.1", "rpc-host-whitelist-enabled": False,
        "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
        "port-forwarding-enabled": False, "encryption": 0, "blocklist-enabled": False,
        "download-dir": data_dir, "incomplete-dir-enabled": False,
        "watch-dir-enabled": False, "start-added-torrents": True,
        "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
        "alt-speed-enabled": False, "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
        "message-level": 2,
    }
    with open(os.path.join(conf, "settings.json"), "w") as f:
        json.dump(settings, f)
    proc = ws.start("transmission", ["transmission-daemon", "-f", "-g", conf, "-w", data_dir,
                                     "-P", str(peer_port), "-i", "127.0.0.1", "-p", str(rpc_port),
                                     "-r", "127.0.0.1", "-T", "-O", "-Y", "-M", "--no-utp", "-et",
                                     "-C", "--log-info"])
    H.wait_listening("127.0.0.1", rpc_port, 15, proc)
    out = tr_remote(rpc_port, "-a", torrent)
    H.check("success" in out, "transmission-remote -a: %s" % out)
    tr_remote(rpc_port, "-t", "all", "--verify")
    # Verified and seeding: "100%" and "Seeding" (or "Idle") in the list.
    H.wait_until(lambda: ("100%" in tr_remote(rpc_port, "-l")
                          and ("Seeding" in tr_remote(rpc_port, "-l") or "Idle" in tr_remote(rpc_port, "-l"))),
                 60, "transmission to verify and seed", interval=0.5, procs=[proc])
    H.log("transmission: %s" % tr_remote(rpc_port, "-l").strip())
    return proc


def main():
    H.require_headless()
    with H.Workspace("transmission-seed", timeout=240) as ws:
        seed_dir = ws.mkdir("seed")
        H.write_random_file(os.path.join(seed_dir, "big.bin"), SIZE, 41)
        tr = H.Tracker(ws)
        tor = ws.path("big.torrent")
        ih, size, npieces = H.make_torrent(os.path.join(seed_dir, "big.bin"), tor, PIECE, tr.announce)
        tr.start([ih])
        peer_port, rpc_port = H.free_port("127.0.0.1"), H.free_port("127.0.0.1")
        start_transmission(ws, tor, seed_dir, peer_port, rpc_port)
        # Transmission announces when it starts seeding; wait for the tracker
        # to know the seed, so our download starts against it at once.
        H.wait_until(lambda: tr.scrape(ih).get("complete", 0) >= 1, 60,
                     "transmission's announce to reach opentracker", interval=0.5)

        out = ws.mkdir("leech")
        t0 = time.monotonic()
        me = H.Headless(ws, "btl-leech", tor, "127.0.0.3", save_in=out, seed_time=0,
                        display_interval=0.2, extra=["--verbose"])
        last_have, last_change, longest, first_byte = -1, t0, 0.0, None
        while me.proc.poll() is None:
            H.check(time.monotonic() - t0 < 150, "download from transmission did not finish in 150 s")
            have = me.status().get("have_bytes", 0)
            now = time.monotonic()
            if have != last_have:
                if last_have > 0:
                    longest = max(longest, now - last_change)
                if first_byte is None and have > 0:
                    first_byte = now
                last_have, last_change = have, now
            time.sleep(0.05)
        rc = me.proc.wait(5)
        dt = time.monotonic() - t0
        H.check(rc == 0, "btdownloadheadless --seed_time 0 exited %s, expected 0" % rc)
        H.check(first_byte is not None, "no progress was ever seen")
        print("RESULT transmission seed %d MiB: download %.1f s (first byte after %.1f s), "
              "longest gap without progress %.1f s" % (SIZE // H.MiB, dt, first_byte - t0, longest), flush=True)
        H.assert_same_data(os.path.join(seed_dir, "big.bin"), os.path.join(out, "big.bin"),
                           "download from transmission")
        with open(me.proc.logpath, errors="replace") as f:
            reqq = [l.strip() for l in f if "extensions" in l and "reqq" in l]
        H.log("extended handshakes: %s" % reqq)
        H.check(any("reqq 512" in l for l in reqq),
                "no extended handshake with Transmission's reqq 512 in our log")
        H.check(longest <= MAX_GAP_S, "the download stalled: %.1f s without progress (bound %.1f s)"
                % (longest, MAX_GAP_S))


if __name__ == "__main__":
    H.run_main(main)
