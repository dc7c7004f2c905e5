#!/usr/bin/python3
"""One exit-code rule for all five programs (the EXIT STATUS of each man
page): 0 on success (--help and --version here), 2 on a usage error (unknown option, a
missing or extra argument, a bad value) with one line on stderr naming the
problem, 1 on a runtime error (a file that cannot be read, a port in use, a
final save that fails).  Loopback only; nothing here downloads."""

import os
import re
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

PROGRAMS = ["btlaunchmany", "btdownloadheadless", "btshowmetainfo", "btmakemetainfo", "bttrack"]


def binary(name):
    p = os.path.join(H.btl_bin_dir(), name)
    H.check(os.access(p, os.X_OK), "%s not found in BTL_BIN (%s)" % (name, H.btl_bin_dir()))
    return p


def run(ws, args, timeout=30):
    # No config file of the user's, no terminal: what a script would see.
    env = dict(os.environ, XDG_CONFIG_HOME=ws.path("config"), XDG_STATE_HOME=ws.path("state"), HOME=ws.dir)
    r = subprocess.run([binary(args[0])] + args[1:], capture_output=True, text=True, timeout=timeout * H.TIME_SCALE,
                       stdin=subprocess.DEVNULL, env=env, cwd=ws.dir)
    H.log("%s -> %d, stderr %r" % (" ".join(args), r.returncode, r.stderr.strip()[:200]))
    return r


def expect(ws, args, code, stderr_has=None, what=""):
    r = run(ws, args)
    H.check(r.returncode == code, "%s (%s): exit %d, expected %d; stderr %r"
            % (" ".join(args), what, r.returncode, code, r.stderr))
    if code != 0:
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        H.check(len(lines) == 1, "%s (%s): %d stderr lines, expected one: %r" % (" ".join(args), what, len(lines), lines))
        H.check(lines[0].startswith(args[0] + ": ") or args[0] == "btshowmetainfo",
                "%s: the line does not name the program: %r" % (args[0], lines[0]))
        if stderr_has:
            H.check(stderr_has in r.stderr, "%s (%s): stderr %r does not mention %r"
                    % (" ".join(args), what, r.stderr, stderr_has))
        if code == 2:
            H.check("--help" in r.stderr, "%s: a usage error without a hint to --help: %r" % (args[0], r.stderr))
    return r


def check_help_and_usage(ws, torrent, dfile):
    for prog in PROGRAMS:
        r = expect(ws, [prog, "--help"], 0, what="help")
        H.check(r.stdout.startswith("usage: " + prog), "%s --help: no usage line on stdout: %r" % (prog, r.stdout[:80]))
        # --version: "PROG VERSION" on stdout, exit 0, from every program.
        r = expect(ws, [prog, "--version"], 0, what="version")
        H.check(re.fullmatch(re.escape(prog) + r" \d+\.\d+\.\d+\n", r.stdout) is not None,
                "%s --version printed %r" % (prog, r.stdout))
        # Unknown option: named on stderr, dashed and with a value alike.
        expect(ws, [prog, "--no_such_option"], 2, "--no_such_option", "unknown option")
        expect(ws, [prog, "--no-such-option=1"], 2, "--no-such-option", "unknown option with =")
    ok_args = {
        "btlaunchmany": [ws.dir, "--display", "plain", "--dht", "0"],
        "btdownloadheadless": [torrent, "--dht", "0"],
        "btshowmetainfo": [torrent],
        "btmakemetainfo": ["http://127.0.0.1:1/announce", ws.path("payload")],
        "bttrack": ["--dfile", dfile],
    }
    bad_value = {
        "btlaunchmany": (["--minport", "x"], "--minport"),
        "btdownloadheadless": (["--max_uploads", "many"], "--max_uploads"),
        "btshowmetainfo": (["--json=maybe"], "--json"),
        "btmakemetainfo": (["--piece_size_pow2", "99"], "--piece_size_pow2"),
        "bttrack": (["--port", "x"], "--port"),
    }
    for prog, (extra, named) in bad_value.items():
        expect(ws, [prog] + ok_args[prog] + extra, 2, named, "bad value")
    # Missing and extra positional arguments.
    for prog in ("btlaunchmany", "btdownloadheadless", "btshowmetainfo", "btmakemetainfo"):
        expect(ws, [prog], 2, what="missing argument")
    expect(ws, ["btmakemetainfo", "http://127.0.0.1:1/announce"], 2, what="missing PATH")
    for prog in ("btlaunchmany", "btdownloadheadless", "btmakemetainfo", "bttrack"):
        expect(ws, [prog] + ok_args[prog] + ["surplus"], 2, "surplus", "extra argument")
    expect(ws, ["bttrack"], 2, "--dfile", "--dfile missing")
    expect(ws, ["btlaunchmany", ws.dir, "--display", "fancy"], 2, "--display", "bad choice")


def check_runtime_errors(ws, dfile):
    missing = ws.path("missing.torrent")
    expect(ws, ["btshowmetainfo", missing], 1, missing, "missing torrent")
    expect(ws, ["btdownloadheadless", missing, "--data_dir", ws.path("data"), "--dht", "0"], 1, missing, "missing torrent")
    expect(ws, ["btmakemetainfo", "http://127.0.0.1:1/announce", ws.path("no-such-path")], 1, "no-such-path",
           "unreadable path")
    expect(ws, ["btlaunchmany", ws.path("no-such-dir"), "--display", "plain", "--data_dir", ws.path("data"),
                "--dht", "0"], 1,
           "no-such-dir: no such directory", "missing directory")
    expect(ws, ["btlaunchmany", ws.dir, "--display", "plain", "--config", ws.path("no-such-config"), "--dht", "0"], 1,
           "no-such-config", "unreadable config")

    # bttrack: a port someone else holds.
    port = H.free_port()
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen(1)
    try:
        expect(ws, ["bttrack", "--port", str(port), "--bind", "127.0.0.1", "--dfile", dfile], 1, "cannot listen",
               "port in use")
    finally:
        holder.close()

    # bttrack: a --dfile whose final save fails (its directory does not exist).
    port = H.free_port()
    bad_dfile = ws.path("no-such-dir", "state")
    p = ws.start("bttrack", [binary("bttrack"), "--port", str(port), "--bind", "127.0.0.1", "--dfile", bad_dfile])
    H.wait_listening("127.0.0.1", port, 10 * H.TIME_SCALE, proc=p)
    p.signal(signal.SIGTERM)
    rc = p.wait(20 * H.TIME_SCALE)
    H.check(rc == 1, "bttrack whose final save fails exited %s, expected 1" % rc)


def main():
    with H.Workspace("exit-codes", timeout=240) as ws:
        os.makedirs(ws.path("config"))
        H.write_random_file(ws.path("payload"), 40000, 7)
        torrent = ws.path("payload.torrent")
        H.make_torrent(ws.path("payload"), torrent, 16384, "http://127.0.0.1:1/announce")
        dfile = ws.path("bttrack.state")
        check_help_and_usage(ws, torrent, dfile)
        check_runtime_errors(ws, dfile)


if __name__ == "__main__":
    H.run_main(main)
