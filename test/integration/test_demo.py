#!/usr/bin/python3
"""test/demo.sh, the script behind `make demo`, with small sizes.

1. No terminal (stdin /dev/null, stdout a pipe): the demo picks the plain
   view, ends by itself with exit 0, its summary names every torrent as
   identical to its original, and no process it started (every one has the
   work directory on its command line) is left afterwards.
2. Bad settings (DEMO_SIZES_MIB with two sizes): exit non-zero with a
   "demo: FAILED" line, nothing left running.
3. The curses path in tmux: the engine starts detached and the view
   attaches; three rows reach seeding; `d` detaches (the demo says so, the
   engine is still running, its RPC socket answers) and the demo attaches
   again by itself (the rows come back); `q` then `y` stops the engine, the
   demo prints its summary with two attaches, exits 0, nothing left running.
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

ROOT = os.environ.get("BTL_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "test", "demo.sh")
NAMES = ("big-file.bin", "photos", "small-file.bin")


def demo_env(work, **extra):
    env = dict(os.environ, DEMO_DIR=work, DEMO_SIZES_MIB="2 3 1.5", DEMO_DROP_INTERVAL="1",
               DEMO_RATE_KB="2000", DEMO_TIMEOUT="90", BTL_BIN=H.btl_bin_dir())
    env.update(extra)
    return env


def leftovers(work):
    r = subprocess.run(["pgrep", "-af", "--", work + "/"], capture_output=True, text=True)
    return [l for l in r.stdout.splitlines() if "pgrep" not in l]


def assert_nothing_left(work):
    # The demo waits for its groups before exiting; allow a moment anyway so a
    # failure message names what really stayed.
    left = []
    for _ in range(20):
        left = leftovers(work)
        if not left:
            return
        time.sleep(0.1)
    raise H.Fail("processes left running after the demo: %s" % left)


def check_summary(out):
    for n in NAMES:
        H.check(any(n in l and "identical to the original" in l for l in out.splitlines()),
                "the summary does not report %s as identical:\n%s" % (n, out))
    H.check("demo OK" in out, "no 'demo OK' line:\n%s" % out)


def plain_run(base):
    work = os.path.join(base, "plain")
    t0 = time.monotonic()
    p = subprocess.run(["bash", DEMO], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=demo_env(work), timeout=150)
    H.log("plain demo: exit %d after %.1fs" % (p.returncode, time.monotonic() - t0))
    print(p.stdout, flush=True)
    H.check(p.returncode == 0, "demo exited %d" % p.returncode)
    H.check("view: plain" in p.stdout, "the demo did not choose the plain view without a terminal")
    check_summary(p.stdout)
    assert_nothing_left(work)
    for n in NAMES:
        H.check(os.path.exists(os.path.join(work, "downloads", n)), "downloads/%s missing" % n)


def bad_settings(base):
    work = os.path.join(base, "bad")
    p = subprocess.run(["bash", DEMO], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=demo_env(work, DEMO_SIZES_MIB="2 3"), timeout=30)
    H.check(p.returncode != 0, "two sizes accepted")
    H.check("demo: FAILED" in p.stderr and "DEMO_SIZES_MIB" in p.stderr,
            "no clear failure message: %r" % p.stderr)
    assert_nothing_left(work)


def curses_run(base):
    # tmux is one of the packages `make deps` installs: missing is a failure.
    H.check(shutil.which("tmux") is not None, "tmux is not installed (make deps installs it)")
    work = os.path.join(base, "curses")
    sock = "btl-demo-%d" % os.getpid()
    rc_file = os.path.join(base, "curses.rc")
    out_file = os.path.join(base, "curses.out")

    def tmux(*args):
        return subprocess.run(["tmux", "-L", sock] + list(args), capture_output=True, text=True,
                              timeout=10).stdout

    env = demo_env(work)
    env["DEMO_REATTACH_DELAY"] = "1"
    exports = " ".join("%s=%s" % (k, shlex.quote(env[k])) for k in
                       ("DEMO_DIR", "DEMO_SIZES_MIB", "DEMO_DROP_INTERVAL", "DEMO_RATE_KB", "BTL_BIN",
                        "DEMO_REATTACH_DELAY"))
    # The pane's output is also copied to a file (pipe-pane) so the summary
    # printed after curses ends can be read whole.
    shell = "export LANG=C.UTF-8 TERM=tmux-256color %s; bash %s; echo rc=$? > %s; sleep 30" % (
        exports, shlex.quote(DEMO), shlex.quote(rc_file))
    try:
        tmux("new-session", "-d", "-s", "demo", "-x", "160", "-y", "40", shell)
        tmux("pipe-pane", "-t", "demo", "cat >> " + shlex.quote(out_file))

        def screen():
            return tmux("capture-pane", "-p", "-t", "demo").splitlines()

        def rows_seeding(s):
            table = s[:-2]
            return all(any(n in l and "seeding" in l and "100" in l for l in table) for n in NAMES)
        last = []

        def probe():
            last[:] = screen()
            return rows_seeding(last)
        try:
            H.wait_until(probe, 90, "three seeding rows in the curses view", interval=0.3)
        except H.Fail:
            print("---- screen ----\n" + "\n".join(last), flush=True)
            raise
        H.log("curses view:\n" + "\n".join(last))
        # d: detach; the engine keeps running on its own, the demo says so
        # and attaches again.
        tmux("send-keys", "-t", "demo", "d")
        H.wait_until(lambda: any("detached: the engine (pid" in l for l in screen()), 15,
                     "the demo to say the view detached")
        lock = os.path.join(work, "state", "btlaunchmany", "btlaunchmany.lock")
        epid = int("".join(c for c in open(lock).read() if c.isdigit()))
        H.check(os.path.exists("/proc/%d" % epid) and work + "/" in open("/proc/%d/cmdline" % epid).read().replace("\0", " "),
                "no engine of the demo running (pid %d from %s) after the detach" % (epid, lock))
        H.wait_until(lambda: not any("detached: the engine" in l for l in screen()) and rows_seeding(screen()), 30,
                     "the view to attach again and show the seeding rows")
        tmux("send-keys", "-t", "demo", "q")
        H.wait_until(lambda: any("(y/n)" in l for l in screen()), 5, "the quit prompt")
        tmux("send-keys", "-t", "demo", "y")
        H.wait_until(lambda: os.path.exists(rc_file) and open(rc_file).read().strip(), 40,
                     "the demo to end after q, y")
        rc = open(rc_file).read().strip()
        time.sleep(0.3)
        out = open(out_file, errors="replace").read() if os.path.exists(out_file) else ""
        H.check(rc == "rc=0", "curses demo ended with %s:\n%s" % (rc, "\n".join(screen())))
        for n in NAMES:
            H.check(n in out and "identical to the original" in out,
                    "the summary after curses does not name %s as identical" % n)
        H.check("(2 attach(es))" in out, "the summary does not count two attaches")
        H.check(not os.path.exists("/proc/%d" % epid) or work + "/" not in
                open("/proc/%d/cmdline" % epid).read().replace("\0", " "),
                "the engine (pid %d) still runs after q, y" % epid)
        assert_nothing_left(work)
    finally:
        pids = tmux("list-panes", "-a", "-F", "#{pane_pid}").split()
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        for p in pids:
            try:
                os.killpg(int(p), 9)
            except (ProcessLookupError, ValueError, PermissionError):
                pass


def main():
    H.check(os.access(os.path.join(H.btl_bin_dir(), "btlaunchmany"), os.X_OK),
            "btlaunchmany not found in %s" % H.btl_bin_dir())
    base = tempfile.mkdtemp(prefix="btl-test-demo.")
    try:
        plain_run(base)
        bad_settings(base)
        curses_run(base)
    finally:
        for sub in ("plain", "bad", "curses"):
            for l in leftovers(os.path.join(base, sub)):
                try:
                    os.killpg(int(l.split()[0]), 9)
                except (ProcessLookupError, ValueError, PermissionError):
                    pass
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    H.run_main(main)
