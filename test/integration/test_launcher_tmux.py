#!/usr/bin/python3
"""btlaunchmany's curses view driven through tmux like a person would.

Rows appear for dropped torrents and reach 100% / "seeding"; a corrupt
torrent shows its error; `rm` removes its row; a resize to 90x20 redraws
without garbage (every captured line fits the width, the header is intact);
`q` then `y` exits with rc=0.  The daily keys (issue 12): an unknown key
hints "? for help", the footer shows the position "1/5"; `/` filters by
name; `p` shows "paused"; Enter, Tab, End/Home scroll the detail pane with
"N more" markers; `-` and `R` change the global limits shown in the footer;
`d` then `D` removes a torrent with its data, `d` then `y` without it (its
.torrent becomes NAME.torrent.removed and does not come back), `d` then
another key cancels.  `--display curses` keeps the engine in the view's
process (without it, a terminal gets the detached engine and an attached
view: test_attach_engine.py).  Private tmux socket, killed at the end;
LANG=C.UTF-8 inside the session."""

import os
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402
import tmux_util  # noqa: E402

PIECE = 64 * H.KiB
TERM = tmux_util.Tmux(None, "launcher")
SESSION = "btl"
tmux, screen, wait_screen = tmux_util.bind(TERM, SESSION)


def line_of(lines, text):
    """The first table line containing text (the footer's three lines, which
    echo the selected row and log messages, are not part of the table)."""
    return next((l for l in lines[:-3] if text in l), None)


def key(*keys):
    tmux("send-keys", "-t", SESSION, *keys)


def type_text(text):
    tmux("send-keys", "-t", SESSION, "-l", text)


def filter_rows(text):
    key("/")
    type_text(text)
    key("Enter")


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
            TERM.close()
            LU.kill_engine(ws.path("btl-data"))  # a detached engine is in a session of its own


def run(ws, launcher):
    src = ws.mkdir("seed")
    tr = H.Tracker(ws)
    names = {"one": 2 * H.MiB + 7, "two": 1 * H.MiB + 99, "three": 1 * H.MiB + 5}
    tors = {}
    for i, (n, size) in enumerate(names.items()):
        H.write_random_file(os.path.join(src, n + ".bin"), size, 300 + i)
        tpath = ws.path(n + ".torrent")
        tors[n] = H.make_torrent(os.path.join(src, n + ".bin"), tpath, PIECE, tr.announce)[0]
    # Forty small files nobody seeds: a detail pane long enough to scroll.
    many = os.path.join(src, "many")
    for i in range(40):
        H.write_random_file(os.path.join(many, "f%02d.bin" % i), 1000 + i, 900 + i)
    tors["many"] = H.make_torrent(many, ws.path("many.torrent"), PIECE, tr.announce)[0]
    tr.start(list(tors.values()))
    seed_ip = ws.next_ip()
    for n in names:
        H.LtPeer(ws, "lt-" + n, ws.path(n + ".torrent"), src, seed_ip, seed=True).wait_ready(30)

    watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("btl-data")
    ip = ws.next_ip()
    port = H.free_port(ip)
    rc_file = ws.path("rc")
    cmd = " ".join(shlex.quote(a) for a in [
        launcher, "--dht", "0", watch, "--display", "curses", "--save_in", out, "--data_dir", data, "--bind", ip, "--ip", ip,
        "--minport", str(port), "--maxport", str(port), "--display_interval", "0.5", "--rpc_port", "0"] + H.NO_REACH)
    shell = "export LANG=C.UTF-8 TERM=tmux-256color; %s; echo rc=$? > %s" % (cmd, shlex.quote(rc_file))
    tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "40", shell)
    wait_screen(lambda s: s and s[0].lstrip().startswith("NAME"), 10, "the header")
    H.check(not os.path.exists(rc_file), "btlaunchmany exited at start: %s" % (
        open(rc_file).read() if os.path.exists(rc_file) else ""))

    for n in list(names) + ["many"]:
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

    daily_keys(watch, out)

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

    # d, y: removed, data kept, and the .torrent does not come back.
    filter_rows("one")
    wait_screen(lambda s: "1/1" in s[-2], 5, "the filter on one")
    key("d")
    wait_screen(lambda s: "Remove one.bin?" in s[-1], 5, "the remove prompt for one")
    key("y")
    wait_screen(lambda s: line_of(s, "one.bin") is None and "0/0" in s[-2], 10, "one's row to go")
    H.wait_until(lambda: os.path.exists(os.path.join(watch, "one.torrent.removed")), 10, "one.torrent.removed")
    H.check(not os.path.exists(os.path.join(watch, "one.torrent")), "one.torrent still in the watch dir")
    H.assert_same_data(os.path.join(src, "one.bin"), os.path.join(out, "one.bin"), "one (data kept)")
    key("Escape")
    time.sleep(2.5)  # a rescan and a quiet interval: it must not load again
    lines = wait_screen(lambda s: "/2" in s[-2] and s, 5, "the two rows left (corrupt, many)")
    H.check(line_of(lines, "one.bin") is None, "one came back: %s" % lines)

    tmux("send-keys", "-t", SESSION, "q")
    wait_screen(lambda s: any("(y/n)" in l for l in s), 5, "the quit prompt")
    tmux("send-keys", "-t", SESSION, "y")
    H.wait_until(lambda: os.path.exists(rc_file) and open(rc_file).read().strip(), 30, "btlaunchmany to exit")
    rc = open(rc_file).read().strip()
    H.check(rc == "rc=0", "exit status %s, expected rc=0" % rc)


def daily_keys(watch, out):
    """Issue 12's keys at 160x40 with five rows: corrupt.torrent, many,
    one.bin, three.bin, two.bin (name order)."""
    key("x")
    wait_screen(lambda s: "? for help" in s[-1], 5, "the unknown-key hint")
    key("g")  # the first row: rows came in parse order, the selection followed its torrent
    wait_screen(lambda s: " 1/5 " in s[-2] and "corrupt.torrent" in s[-3], 5, "the position 1/5 in the footer")

    filter_rows("many")
    lines = wait_screen(lambda s: "1/1" in s[-2] and s, 5, "the filter to leave one row")
    H.check(line_of(lines, "one.bin") is None and line_of(lines, "many"), "filter shows: %s" % lines)
    key("p")
    wait_screen(lambda s: "paused" in (line_of(s, "many") or ""), 10, "many to say paused")
    key("p")
    wait_screen(lambda s: "paused" not in (line_of(s, "many") or "paused"), 10, "many to resume")

    key("Enter")
    key("Tab")
    wait_screen(lambda s: any("[focus" in l for l in s) and any("more below" in l for l in s), 5,
                "the focused detail pane with a more-below marker")
    key("End")
    lines = wait_screen(lambda s: any("more above" in l for l in s) and s, 5, "End to scroll the detail pane")
    H.check(any("f39.bin" in l for l in lines), "the last file is not shown at End: %s" % lines)
    H.check(not any("more below" in l for l in lines), "a more-below marker at the end: %s" % lines)
    key("Home")
    wait_screen(lambda s: not any("more above" in l for l in s) and any("more below" in l for l in s), 5,
                "Home to scroll back")
    key("Enter")
    wait_screen(lambda s: not any("more below" in l for l in s), 5, "Enter to close the detail pane")
    key("Escape")
    wait_screen(lambda s: " 2/5 " in s[-2], 5, "Esc to clear the filter (the selection stays on many)")

    key("-")
    wait_screen(lambda s: "(max 100.0 MB/s)" in s[-2], 5, "- to cap the download rate")
    key("R")
    wait_screen(lambda s: "DOWN [UP]" in s[-1], 5, "the rates prompt")
    type_text("500 100")
    key("Enter")
    wait_screen(lambda s: "(max 500.0 kB/s)" in s[-2] and "(max 100.0 kB/s)" in s[-2], 5, "the typed limits")
    key("R")
    type_text("0 0")
    key("Enter")
    wait_screen(lambda s: "max" not in s[-2], 5, "the limits back to unlimited")

    key("g")
    key("d")
    wait_screen(lambda s: "Remove corrupt.torrent?" in s[-1], 5, "the remove prompt")
    key("n")
    wait_screen(lambda s: "not removed" in s[-1] and " 1/5 " in s[-2], 5, "another key to cancel")

    # d, D: removed with its data.
    filter_rows("three")
    wait_screen(lambda s: "1/1" in s[-2], 5, "the filter on three")
    key("d")
    wait_screen(lambda s: "Remove three.bin?" in s[-1], 5, "the remove prompt for three")
    key("D")
    wait_screen(lambda s: line_of(s, "three.bin") is None and "0/0" in s[-2], 10, "three's row to go")
    H.wait_until(lambda: not os.path.exists(os.path.join(out, "three.bin")), 10, "three's data to be deleted")
    H.check(os.path.exists(os.path.join(watch, "three.torrent.removed")), "three.torrent.removed missing")
    H.check(not os.path.exists(os.path.join(watch, "three.torrent")), "three.torrent still in the watch dir")
    H.check(os.path.exists(os.path.join(out, "two.bin")), "deleting three's data touched two's")
    key("Escape")
    wait_screen(lambda s: "/4 " in s[-2], 5, "four rows after the removal")


if __name__ == "__main__":
    H.run_main(main)
