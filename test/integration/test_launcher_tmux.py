#!/usr/bin/python3
"""btlaunchmany's curses view driven through tmux like a person would.

Rows appear for dropped torrents and reach 100% / "seeding"; a corrupt
torrent shows its error; `rm` removes its row; a resize to 90x20 redraws
without garbage (every captured line fits the width, the header is intact);
`q` then `y` exits with rc=0.  Private tmux socket, killed at the end;
LANG=C.UTF-8 inside the session."""

import os
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PIECE = 64 * H.KiB
SOCK = "btl-launcher-%d" % os.getpid()
SESSION = "btl"


def tmux(*args, check=True):
    r = subprocess.run(["tmux", "-L", SOCK] + list(args), capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        raise H.Fail("tmux %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def screen():
    return tmux("capture-pane", "-p", "-t", SESSION).splitlines()


def wait_screen(pred, timeout, what):
    last = []

    def probe():
        last[:] = screen()
        return pred(last)
    try:
        return H.wait_until(probe, timeout, what, interval=0.2)
    except H.Fail:
        print("---- screen ----\n" + "\n".join(last) + "\n----------------", flush=True)
        raise


def line_of(lines, text):
    """The first table line containing text (the footer's two lines, which
    echo log messages, are not part of the table)."""
    return next((l for l in lines[:-2] if text in l), None)


def check_geometry(lines, width, what):
    H.check(lines and lines[0].lstrip().startswith("NAME") and "STATE" in lines[0],
            "%s: header damaged: %r" % (what, lines[0] if lines else None))
    for l in lines:
        # Every glyph here is one column wide (ASCII names), so len == columns.
        H.check(len(l) <= width, "%s: line wider than %d: %r" % (what, width, l))


def main():
    launcher = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    H.check(os.access(launcher, os.X_OK), "btlaunchmany not found in %s" % H.btl_bin_dir())
    with H.Workspace("launcher-tmux", timeout=240) as ws:
        try:
            run(ws, launcher)
        finally:
            pids = tmux("list-panes", "-a", "-F", "#{pane_pid}", check=False).split()
            tmux("kill-server", check=False)
            for p in pids:  # the pane's shell; its process group holds btlaunchmany
                try:
                    os.killpg(int(p), 9)
                except (ProcessLookupError, ValueError, PermissionError):
                    pass


def run(ws, launcher):
    src = ws.mkdir("seed")
    tr = H.Tracker(ws)
    names = {"one": 2 * H.MiB + 7, "two": 1 * H.MiB + 99}
    tors = {}
    for i, (n, size) in enumerate(names.items()):
        H.write_random_file(os.path.join(src, n + ".bin"), size, 300 + i)
        tpath = ws.path(n + ".torrent")
        tors[n] = H.make_torrent(os.path.join(src, n + ".bin"), tpath, PIECE, tr.announce)[0]
    tr.start(list(tors.values()))
    seed_ip = ws.next_ip()
    for n in names:
        H.LtPeer(ws, "lt-" + n, ws.path(n + ".torrent"), src, seed_ip, seed=True).wait_ready(30)

    watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("btl-data")
    ip = ws.next_ip()
    port = H.free_port(ip)
    rc_file = ws.path("rc")
    cmd = " ".join(shlex.quote(a) for a in [
        launcher, watch, "--save_in", out, "--data_dir", data, "--bind", ip, "--ip", ip,
        "--minport", str(port), "--maxport", str(port), "--display_interval", "0.5"])
    shell = "export LANG=C.UTF-8 TERM=tmux-256color; %s; echo rc=$? > %s" % (cmd, shlex.quote(rc_file))
    tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "40", shell)
    wait_screen(lambda s: s and s[0].lstrip().startswith("NAME"), 10, "the header")
    H.check(not os.path.exists(rc_file), "btlaunchmany exited at start: %s" % (
        open(rc_file).read() if os.path.exists(rc_file) else ""))

    for n in names:
        os.link(ws.path(n + ".torrent"), os.path.join(watch, n + ".torrent"))
    with open(os.path.join(watch, "corrupt.torrent"), "wb") as f:
        f.write(b"this is not bencode")

    def seeding(s):
        return all((l := line_of(s, n + ".bin")) and "100.0%" in l and "seeding" in l for n in names)
    lines = wait_screen(lambda s: seeding(s) and s, 90, "both torrents at 100% and seeding")
    check_geometry(lines, 160, "160x40")
    err = wait_screen(lambda s: line_of(s, "corrupt.torrent"), 10, "the corrupt torrent's row")
    H.check("error" in err and "invalid" in err, "corrupt row shows no error: %r" % err)
    for n in names:
        H.assert_same_data(os.path.join(src, n + ".bin"), os.path.join(out, n + ".bin"), n)

    os.remove(os.path.join(watch, "two.torrent"))
    wait_screen(lambda s: line_of(s, "two.bin") is None and line_of(s, "one.bin"), 10, "two's row to go")

    tmux("resize-window", "-t", SESSION, "-x", "90", "-y", "20")
    lines = wait_screen(lambda s: len(s) == 20 and s[0].lstrip().startswith("NAME") and line_of(s, "one.bin")
                        and s, 10, "a redraw at 90x20")
    time.sleep(0.7)  # one more frame, then look again: nothing left over
    lines = screen()
    check_geometry(lines, 90, "90x20")
    H.check(line_of(lines, "one.bin") and "seeding" in line_of(lines, "one.bin"), "row lost after resize")
    H.check(sum(1 for l in lines if "NAME" in l) == 1, "more than one header after resize: %s" % lines)

    tmux("send-keys", "-t", SESSION, "q")
    wait_screen(lambda s: any("(y/n)" in l for l in s), 5, "the quit prompt")
    tmux("send-keys", "-t", SESSION, "y")
    H.wait_until(lambda: os.path.exists(rc_file) and open(rc_file).read().strip(), 30, "btlaunchmany to exit")
    rc = open(rc_file).read().strip()
    H.check(rc == "rc=0", "exit status %s, expected rc=0" % rc)


if __name__ == "__main__":
    H.run_main(main)
