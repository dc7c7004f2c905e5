"""A terminal driven like a person: one private tmux server per test,
sessions in it, their screens read back.  Used by the attach tests."""

import os
import shlex
import subprocess

import btl_harness as H


class Tmux:
    def __init__(self, ws, name):
        self.ws = ws
        self.sock = "btl-%s-%d" % (name, os.getpid())
        self.kept = False

    def run(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.sock] + list(args), capture_output=True, text=True, timeout=10)
        if check and r.returncode != 0:
            raise H.Fail("tmux %s failed: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def new(self, session, argv, rc_file, env="", width=160, height=40):
        """Runs argv in a new session; its exit status lands in rc_file."""
        if not self.kept:
            # The tmux server exits with its last session: one that idles
            # keeps it up between views, or a new-session right after a view
            # ended could meet a server on its way out.
            self.run("new-session", "-d", "-s", "_keep", "sleep 3600")
            self.kept = True
        cmd = " ".join(shlex.quote(a) for a in argv)
        shell = "export LANG=C.UTF-8 TERM=tmux-256color %s; %s; echo rc=$? > %s" % (env, cmd, shlex.quote(rc_file))
        self.run("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), shell)

    def screen(self, session):
        return self.run("capture-pane", "-p", "-t", session).splitlines()

    def wait(self, session, pred, timeout, what):
        last = []

        def probe():
            last[:] = self.screen(session)
            return pred(last)
        try:
            return H.wait_until(probe, timeout, what, interval=0.2)
        except H.Fail:
            print("---- screen of %s ----\n%s\n----------------" % (session, "\n".join(last)), flush=True)
            raise

    def key(self, session, *keys):
        self.run("send-keys", "-t", session, *keys)

    def type(self, session, text):
        self.run("send-keys", "-t", session, "-l", text)

    def kill_session(self, session):
        self.run("kill-session", "-t", session)

    def close(self):
        pids = self.run("list-panes", "-a", "-F", "#{pane_pid}", check=False).split()
        self.run("kill-server", check=False)
        for p in pids:  # the pane's shell; its process group holds the program
            try:
                os.killpg(int(p), 9)
            except (ProcessLookupError, ValueError, PermissionError):
                pass


def bind(term, session):
    """(run, screen, wait) for one session of a Tmux, for tests that drive one."""
    return (term.run, lambda: term.screen(session),
            lambda pred, timeout, what: term.wait(session, pred, timeout, what))


def line_of(lines, text):
    """The first table line containing text (not the footer's three lines)."""
    return next((l for l in lines[:-3] if text in l), None)


def read_rc(path):
    return open(path).read().strip() if os.path.exists(path) else ""
