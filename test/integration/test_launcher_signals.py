#!/usr/bin/python3
"""Signals, for btlaunchmany and btdownloadheadless.

- SIGPIPE: both processes ignore it (/proc/PID/status SigIgn), and a peer
  that requests blocks and then resets the connection, five times, does not
  kill a seeding btlaunchmany (it keeps answering).
- SIGHUP reloads the config file: max_download_rate 150 -> 2000 -> 100 kB/s,
  each time the measured download rate (have_bytes over a few seconds)
  follows; a config with a bad value is refused with a log line and the
  process carries on; 0 lifts the limit and the download completes.
- SIGTERM is clean: exit 0, the tracker (a recording python tracker) got
  `stopped` from the process, the resume file claims exactly the pieces the
  final status showed and they hash correctly on disk, and the locks are
  released (files gone, nobody holds them).  btdownloadheadless is stopped
  mid-download, btlaunchmany while seeding.  btdownloadheadless treats
  SIGHUP (its terminal went away) as the same clean stop.
Seeder 127.0.0.2, btlaunchmany 127.0.0.3, btdownloadheadless 127.0.0.4."""

import os
import random
import shutil
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

PIECE = 32 * H.KiB
SIZE = 16 * H.MiB


def measure_rate(btl, name, seconds):
    a = btl.rows()[name]["have_bytes"]
    t0 = time.monotonic()
    time.sleep(seconds)
    b = btl.rows()[name]["have_bytes"]
    return (b - a) / (time.monotonic() - t0)


def rst_peer(ip, port, info_hash_hex, n_requests=200):
    """Handshake, interested, wait for unchoke, request blocks, then close
    with RST while the other side is writing.  Returns True if unchoked."""
    s = socket.create_connection((ip, port), timeout=15)
    s.sendall(b"\x13BitTorrent protocol" + b"\0" * 8 + bytes.fromhex(info_hash_hex) + b"-PY0001-"
              + bytes(random.getrandbits(8) for _ in range(12)))
    buf = b""
    while len(buf) < 68:
        c = s.recv(65536)
        H.check(c, "the peer closed during the handshake")
        buf += c
    buf = buf[68:]
    s.sendall(struct.pack(">IB", 1, 2))  # interested
    unchoked = False
    deadline = time.monotonic() + 15
    while not unchoked and time.monotonic() < deadline:
        while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
            n = struct.unpack(">I", buf[:4])[0]
            if n and buf[4] == 1:
                unchoked = True
            buf = buf[4 + n:]
        if unchoked:
            break
        c = s.recv(65536)
        H.check(c, "the peer closed before unchoking us")
        buf += c
    if unchoked:
        reqs = b"".join(struct.pack(">IBIII", 13, 6, i % (SIZE // PIECE), (i // (SIZE // PIECE)) * 16384, 16384)
                        for i in range(n_requests))
        s.sendall(reqs)
        s.recv(1000)  # the first answer is on its way: the rest is being written
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return unchoked


def check_clean_stop(tr, ip, data_dir, tf, root, last_status, what):
    stopped = tr.events_for(ip=ip, event="stopped")
    H.check(stopped, "%s: the tracker got no `stopped` (events from %s: %s)"
            % (what, ip, [e["event"] for e in tr.events_for(ip=ip)]))
    d = L.read_resume(data_dir, tf.info_hash)
    H.check(d is not None, "%s: no resume file after SIGTERM" % what)
    claimed = L.claimed_pieces(d)
    H.check(sum(tf.piece_size(i) for i in claimed) == last_status["have_bytes"],
            "%s: resume claims %d pieces but the final status had %d bytes" % (what, len(claimed),
                                                                             last_status["have_bytes"]))
    bad = sorted(claimed - tf.good_pieces(root))
    H.check(not bad, "%s: resume claims pieces that fail their hash: %s" % (what, bad[:5]))
    holder = L.torrent_lock_holder(data_dir, tf.info_hash)
    H.check(holder == 0, "%s: the torrent's lock is still held by pid %d" % (what, holder))
    H.log("%s: clean stop: `stopped` sent (left=%d), %d pieces in the resume file, locks released"
          % (what, stopped[-1]["left"], len(claimed)))


def main():
    L.launcher_path()
    H.require_headless()
    with H.Workspace("launcher-signals", timeout=300) as ws:
        tr = L.MiniTracker()
        src = ws.mkdir("seed")
        H.write_random_file(os.path.join(src, "s.bin"), SIZE, 601)
        tor = ws.path("s.torrent")
        H.make_torrent(os.path.join(src, "s.bin"), tor, PIECE, tr.announce)
        tf = L.TorrentFile(tor)
        seeder = H.LtPeer(ws, "lt-seed", tor, src, ws.next_ip(), seed=True)
        seeder.wait_ready(30)

        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        cfg = ws.path("config")
        with open(cfg, "w") as f:
            f.write("# test config\nmax_download_rate = 150\n")
        shutil.copy(tor, os.path.join(watch, "s.torrent"))
        ip = ws.next_ip()
        port = H.free_port(ip)
        btl = L.Launcher(ws, "btl", watch, out, data, ip, port, extra=["--config", cfg])
        btl.wait(lambda r: r.get("s.torrent", {}).get("have_bytes", 0) > 0, 30, "the download to start")
        H.check(L.sig_ignored(btl.proc.pid, signal.SIGPIPE), "btlaunchmany does not ignore SIGPIPE")

        r1 = measure_rate(btl, "s.torrent", 4)
        H.log("max_download_rate 150: %.0f kB/s" % (r1 / 1000))
        H.check(r1 < 320_000, "the configured 150 kB/s limit did not hold: %.0f kB/s" % (r1 / 1000))

        def reload(text, expect):
            n = btl.log_text().count("SIGHUP:")
            with open(cfg, "w") as f:
                f.write(text)
            btl.proc.signal(signal.SIGHUP)
            H.wait_until(lambda: btl.log_text().count("SIGHUP:") > n, 10, "the SIGHUP log line", procs=[btl.proc])
            line = [x for x in btl.log_text().splitlines() if "SIGHUP:" in x][-1]
            H.log("log: %s" % line)
            H.check(expect in line, "SIGHUP log line %r lacks %r" % (line, expect))

        reload("max_download_rate = 2000\n", "download 2000 kB/s")
        time.sleep(0.5)
        r2 = measure_rate(btl, "s.torrent", 2.5)
        H.log("max_download_rate 2000: %.0f kB/s" % (r2 / 1000))
        H.check(r2 > 700_000 and r2 > 3 * r1, "raising the limit by SIGHUP did not take effect: %.0f kB/s"
                % (r2 / 1000))

        reload("max_download_rate = 100\n", "download 100 kB/s")
        time.sleep(1.5)
        r3 = measure_rate(btl, "s.torrent", 4)
        H.log("max_download_rate 100: %.0f kB/s" % (r3 / 1000))
        H.check(r3 < 250_000, "lowering the limit by SIGHUP did not take effect: %.0f kB/s" % (r3 / 1000))

        reload("max_download_rate = banana\n", "config not reloaded")
        H.check(btl.proc.poll() is None, "a bad config on SIGHUP ended the process")
        r4 = measure_rate(btl, "s.torrent", 3)
        H.check(r4 < 250_000, "a refused config changed the limit: %.0f kB/s" % (r4 / 1000))

        reload("max_download_rate = 0\n", "download unlimited")  # issue 12: 0 reads "unlimited", not "0 kB/s"
        btl.wait(lambda r: r.get("s.torrent", {}).get("state") == "seeding", 60, "the download to complete")
        H.assert_same_data(os.path.join(src, "s.bin"), os.path.join(out, "s.bin"), "btlaunchmany")

        # A peer resetting the connection while we write to it.
        unchoked = 0
        for _ in range(5):
            unchoked += rst_peer(ip, port, tf.info_hash)
        H.check(unchoked >= 1, "btlaunchmany never unchoked the test peer")
        time.sleep(1)
        H.check(btl.proc.poll() is None, "btlaunchmany died after peers reset connections (rc %s)"
                % btl.proc.returncode)
        t_before = os.stat(btl.status_path).st_mtime
        H.wait_until(lambda: os.stat(btl.status_path).st_mtime > t_before + 0.1 or
                     btl.proc.poll() is not None, 10, "a status update")
        H.check(btl.proc.poll() is None, "btlaunchmany died")
        H.log("%d of 5 resetting peers were unchoked and sent requests; btlaunchmany still running" % unchoked)

        # btdownloadheadless: SIGPIPE ignored, SIGTERM mid-download is clean.
        hip = ws.next_ip()
        hdata = ws.mkdir("hdata")
        hl = H.Headless(ws, "headless", tor, hip, save_in=ws.mkdir("hout"), data_dir=hdata,
                        extra=["--max_download_rate", "300"])
        hl.wait_state(("downloading",), 30)
        H.wait_until(lambda: hl.status().get("have_bytes", 0) > 10 * PIECE, 30, "headless to get pieces",
                     procs=[hl.proc])
        H.check(L.sig_ignored(hl.proc.pid, signal.SIGPIPE), "btdownloadheadless does not ignore SIGPIPE")
        H.check(L.torrent_lock_holder(hdata, tf.info_hash) == hl.proc.pid,
                "headless does not hold its torrent lock")
        H.check(hl.stop(20) == 0, "btdownloadheadless did not exit 0 on SIGTERM")
        last = hl.status()
        H.check(0 < last["have_bytes"] < SIZE, "headless status at exit: %s" % last)
        check_clean_stop(tr, hip, hdata, tf, ws.path("hout", "s.bin"), last, "btdownloadheadless")

        # btdownloadheadless: a hangup (terminal gone) is a clean stop too.
        n_stopped = len(tr.events_for(ip=hip, event="stopped"))
        hl2 = H.Headless(ws, "headless-hup", tor, hip, save_in=ws.path("hout"), data_dir=hdata, port=hl.port,
                         extra=["--max_download_rate", "300"])
        H.wait_until(lambda: hl2.status().get("have_bytes", 0) > last["have_bytes"] + 5 * PIECE, 30,
                     "headless to resume and get more pieces", procs=[hl2.proc])
        hl2.proc.signal(signal.SIGHUP)
        H.check(hl2.proc.wait(20) == 0, "btdownloadheadless did not exit 0 on SIGHUP")
        H.check(len(tr.events_for(ip=hip, event="stopped")) > n_stopped, "no `stopped` after SIGHUP")
        check_clean_stop(tr, hip, hdata, tf, ws.path("hout", "s.bin"), hl2.status(), "btdownloadheadless (SIGHUP)")

        # btlaunchmany: SIGTERM while seeding.
        btl.proc.signal(signal.SIGTERM)
        H.check(btl.proc.wait(30) == 0, "btlaunchmany did not exit 0 on SIGTERM")
        check_clean_stop(tr, ip, data, tf, os.path.join(out, "s.bin"), btl.rows()["s.torrent"], "btlaunchmany")
        lk = os.path.join(data, "btlaunchmany.lock")
        H.check(L.lock_is_free(lk) and not os.path.exists(lk), "btlaunchmany.lock survived SIGTERM")
        tr.stop()


if __name__ == "__main__":
    H.run_main(main)
