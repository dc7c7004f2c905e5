#!/usr/bin/python3
"""Files damaged under a seeding torrent: nothing wrong is ever uploaded.

1. btlaunchmany (curses, driven through tmux) seeds "data" (three files) to
   a rate-limited libtorrent leecher.  Mid-transfer one file is truncated
   and another overwritten in place (same size).  The row must turn to
   error, "file truncated: PATH" or "file changed: PATH (...)", with "press r
   to re-check" (status_json: state error and the message); uploading stops.
   `r` re-checks, the torrent downloads what was lost from a libtorrent
   seed, and ends byte-identical; the leecher completes and never received
   a byte that failed its hash check.
2. btdownloadheadless seeding one file that is deleted mid-transfer (its fd
   still open in our pool): it exits non-zero saying "file missing: PATH",
   and the leecher got no bad data.
Us 127.0.0.2, leechers .3/.5, seed .4, opentracker 127.0.0.1."""

import os
import shlex
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402
import tmux_util  # noqa: E402

PIECE = 256 * H.KiB
TERM = tmux_util.Tmux(None, "disk-changed")
SESSION = "btl"
tmux, screen, wait_screen = tmux_util.bind(TERM, SESSION)


def rows(path):
    d = H.read_json(path)
    return {r["file"]: r for r in (d or {}).get("torrents", [])}


def no_bad_data(peer):
    st = peer.status()
    H.check(st.get("failed_bytes") == 0, "%s received data that failed its hash check: %s" % (peer.name, st))


def launcher_part(ws, tr, src, data_t):
    launcher = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    H.check(os.access(launcher, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
    watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("btl-data")
    shutil.copytree(os.path.join(src, "data"), os.path.join(out, "data"))
    ip = ws.next_ip()
    port = H.free_port(ip)
    status = ws.path("btl.status.json")
    rc_file = ws.path("rc")
    cmd = " ".join(shlex.quote(a) for a in [
        launcher, "--dht", "0", watch, "--save_in", out, "--data_dir", data, "--bind", ip, "--ip", ip,
        "--minport", str(port), "--maxport", str(port), "--display_interval", "0.3",
        "--status_json", status, "--rpc_port", "0"] + H.NO_REACH)
    shell = "export LANG=C.UTF-8 TERM=tmux-256color; %s 2>%s; echo rc=$? > %s" % (
        cmd, shlex.quote(ws.path("btl.stderr")), shlex.quote(rc_file))
    tmux("new-session", "-d", "-s", SESSION, "-x", "200", "-y", "40", shell)
    wait_screen(lambda s: s and s[0].lstrip().startswith("NAME"), 10, "the header")
    os.link(data_t, os.path.join(watch, "data.torrent"))
    H.wait_until(lambda: rows(status).get("data.torrent", {}).get("state") == "seeding", 60,
                 "our copy to be checked and seed")

    # At most 32 blocks requested ahead: libtorrent's default (500 blocks,
    # 8 MiB) lets our seed read, verify and queue most of this 12 MiB
    # torrent before the damage, and then serve it all intact without ever
    # reading a damaged piece (seen in about 1 run in 8).
    leecher = H.LtPeer(ws, "lt-leecher", data_t, ws.mkdir("leecher"), ws.next_ip(),
                       download_limit=1_500_000, connect=[(ip, port)], max_requests=32)
    H.wait_until(lambda: leecher.status().get("progress", 0) >= 0.15, 60,
                 "the leecher to get 15% from us", procs=[leecher.proc])
    # Damage two files behind our back: truncate one, overwrite the middle of
    # another in place (same size; only its content changes).
    f1 = os.path.join(out, "data", "f1.bin")
    f2 = os.path.join(out, "data", "f2.bin")
    os.truncate(f1, 1 * H.MiB)
    with open(f2, "r+b") as f:
        f.seek(2 * H.MiB + 12345)
        f.write(os.urandom(4096))
    H.log("damaged f1 (truncated) and f2 (overwritten) at leecher progress %.2f" % leecher.status()["progress"])

    row = H.wait_until(lambda: rows(status).get("data.torrent", {}).get("state") == "error"
                       and rows(status)["data.torrent"], 60, "the torrent to notice the damage")
    msg = row["error"]
    H.log("error: %s" % msg)
    H.check(msg == "file truncated: " + f1 or (msg.startswith("file changed: %s (piece " % f2) and msg.endswith(
        " fails its hash check)")), "unexpected error message: %r" % msg)
    line = wait_screen(lambda s: next((x for x in s if "data" in x and "press r to re-check" in x), None), 10,
                       "the row to say 'press r to re-check'")
    H.check("error" in line, "row shows no error state: %r" % line)
    # Uploading stopped: the leecher gets nothing more (there is no one else).
    time.sleep(1.0)
    got = leecher.status().get("downloaded", 0)
    time.sleep(2.0)
    H.check(leecher.status().get("downloaded", 0) == got, "the leecher still receives data from a damaged seed")
    H.check(leecher.status().get("progress", 0) < 1, "the leecher completed from damaged data")
    no_bad_data(leecher)

    # r: re-check, then download what was lost from a real seed.
    tmux("send-keys", "-t", SESSION, "r")
    row = H.wait_until(lambda: (r := rows(status).get("data.torrent", {})).get("state") in ("downloading", "stalled")
                       and r, 60, "the re-check to find the damage")
    H.check(row["progress"] < 1, "the re-check found nothing missing: %s" % row)
    H.log("after the re-check: progress %.3f" % row["progress"])
    H.LtPeer(ws, "lt-seed", data_t, src, ws.next_ip(), seed=True, connect=[(ip, port)])
    H.wait_until(lambda: rows(status).get("data.torrent", {}).get("state") == "seeding", 90,
                 "the torrent to repair itself and seed")
    H.assert_same_data(os.path.join(src, "data"), os.path.join(out, "data"), "our repaired copy")
    leecher.wait_seeding(90)
    no_bad_data(leecher)
    H.assert_same_data(os.path.join(src, "data"), os.path.join(ws.path("leecher"), "data"), "leecher")

    tmux("send-keys", "-t", SESSION, "q")
    wait_screen(lambda s: any("(y/n)" in x for x in s), 5, "the quit prompt")
    tmux("send-keys", "-t", SESSION, "y")
    H.wait_until(lambda: os.path.exists(rc_file) and open(rc_file).read().strip(), 30, "btlaunchmany to exit")
    H.check(open(rc_file).read().strip() == "rc=0", "btlaunchmany exit status %s" % open(rc_file).read())


def headless_part(ws, src, one_t):
    save = ws.mkdir("headless-out")
    shutil.copy(os.path.join(src, "one.bin"), os.path.join(save, "one.bin"))
    ip = ws.next_ip()
    us = H.Headless(ws, "btl-headless", one_t, ip, save_in=save)
    us.wait_state(("seeding",), 60)
    leecher = H.LtPeer(ws, "lt-leecher-one", one_t, ws.mkdir("leecher-one"), ws.next_ip(),
                       download_limit=1_500_000, connect=[(ip, us.port)], max_requests=32)
    H.wait_until(lambda: leecher.status().get("progress", 0) >= 0.15, 60,
                 "the headless leecher to get 15%", procs=[leecher.proc, us.proc])
    os.remove(os.path.join(save, "one.bin"))
    rc = us.proc.wait(60)
    out = open(us.proc.logpath, "rb").read().decode("utf-8", "replace")
    want = "file missing: " + os.path.join(save, "one.bin")
    H.check(rc != 0, "btdownloadheadless exited 0 after its file was deleted")
    H.check(("btdownloadheadless: one.bin: " + want) in out,
            "btdownloadheadless did not say %r; output tail:\n%s" % (want, us.proc.tail(10)))
    H.check(leecher.status().get("progress", 0) < 1, "the leecher completed from a deleted file")
    no_bad_data(leecher)
    leecher.proc.signal(signal.SIGTERM)


def main():
    with H.Workspace("disk-file-changed", timeout=300) as ws:
        try:
            src = ws.mkdir("src")
            tr = H.Tracker(ws)
            H.make_tree(os.path.join(src, "data"), [("f%d.bin" % i, 4 * H.MiB + 333 * i) for i in range(3)], seed=51)
            data_t = ws.path("data.torrent")
            data_ih, _, _ = H.make_torrent(os.path.join(src, "data"), data_t, PIECE, tr.announce)
            H.write_random_file(os.path.join(src, "one.bin"), 8 * H.MiB + 3, 52)
            one_t = ws.path("one.torrent")
            one_ih, _, _ = H.make_torrent(os.path.join(src, "one.bin"), one_t, PIECE, tr.announce)
            tr.start([data_ih, one_ih])
            launcher_part(ws, tr, src, data_t)
            headless_part(ws, src, one_t)
        finally:
            TERM.close()
            LU.kill_engine(ws.path("btl-data"))  # a detached engine is in a session of its own


if __name__ == "__main__":
    H.run_main(main)
