#!/usr/bin/python3
"""The queue and per-torrent settings over Transmission's RPC, and through
the real transmission-remote (Debian transmission-cli 3.00).

btlaunchmany --max_active_downloads 1 with three torrents nobody seeds
(trackers point at a closed loopback port): the first added downloads, the
other two are "queued" (Transmission status 3, download-wait; `-l` says
Queued).  queue-move-top on the last makes it the one downloading and
queues the first; queue-move-bottom/up/down reorder queuePosition.  (Debian's
transmission-remote 3.00 has no queue-move options, so those go as JSON.)
transmission-remote sets a torrent's own limits: -d/-u (kB/s), -Bh/-Bl
(bandwidthPriority), -sr (seedRatioLimit, mode 1), -SR (mode 2), and
torrent-get returns them.  A kill -9 and a restart keep the queue order and
every torrent's settings (resume data).  Bad values are refused with a
reason, and a key the engine does not apply is still an error."""

import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402

REMOTE = "/usr/bin/transmission-remote"
AUTH = "q:pw"


class Rpc(LU.Rpc):
    def __init__(self, port):
        super().__init__(port, auth=AUTH)

    def torrents(self, *fields):
        r = self.call("torrent-get", fields=["id", "name", "hashString"] + list(fields))
        H.check(r["result"] == "success", "torrent-get: %s" % r["result"])
        return {t["name"]: t for t in r["arguments"]["torrents"]}


def remote(port, *args):
    argv = [REMOTE, "127.0.0.1:%d" % port, "-n", AUTH] + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    H.log("transmission-remote %s -> rc %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    H.check(r.returncode == 0 and "success" in r.stdout + r.stderr or "-l" in args,
            "transmission-remote %s failed: %s %s" % (" ".join(args), r.stdout.strip(), r.stderr.strip()))
    return r.stdout


def start(ws, watch, out, state, port, rpc_port):
    return LU.Launcher(ws, "btl", watch, out, state, "127.0.0.1", port,
                       extra=["--rpc_port", str(rpc_port), "--rpc_auth", AUTH, "--max_active_downloads", "1"])


def order(rpc):
    ts = rpc.torrents("queuePosition")
    return [n for n, t in sorted(ts.items(), key=lambda kv: kv[1]["queuePosition"])]


def main():
    LU.launcher_path()
    with H.Workspace("queue-rpc", timeout=120) as ws:
        src, watch, out, state = ws.mkdir("src"), ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("state")
        dead = "http://127.0.0.1:%d/announce" % H.free_port()
        for i, n in enumerate(["a", "b", "c"]):
            H.write_random_file(os.path.join(src, n), 64 * 1024, 70 + i)
            H.make_torrent(os.path.join(src, n), ws.path(n + ".torrent"), 16384, dead)
        port, rpc_port = H.free_port(), H.free_port()
        btl = start(ws, watch, out, state, port, rpc_port)
        H.wait_listening("127.0.0.1", rpc_port, 20, btl.proc)
        rpc = Rpc(rpc_port)
        # Added one by one, so the order of addition is a, b, c.
        for n in ["a", "b", "c"]:
            os.rename(ws.path(n + ".torrent"), os.path.join(watch, n + ".torrent"))
            H.wait_until(lambda: n in rpc.torrents(), 20, "%s to load" % n)
        H.check(order(rpc) == ["a", "b", "c"], "queue order is not the order of addition: %s" % order(rpc))
        st = lambda: {n: t["status"] for n, t in rpc.torrents("status").items()}  # noqa: E731
        H.wait_until(lambda: st() == {"a": 4, "b": 3, "c": 3}, 20, "a downloading, b and c download-wait (%s)" % st())
        listing = remote(rpc_port, "-l")
        H.check(len(re.findall(r"\bQueued\b", listing)) == 2, "transmission-remote -l does not show two Queued")
        ids = {n: t["id"] for n, t in rpc.torrents().items()}
        r = rpc.call("queue-move-top", ids=[ids["c"]])
        H.check(r["result"] == "success", "queue-move-top: %s" % r["result"])
        H.check(order(rpc) == ["c", "a", "b"], "after queue-move-top: %s" % order(rpc))
        H.wait_until(lambda: st() == {"a": 3, "b": 3, "c": 4}, 20, "c downloading, a queued (%s)" % st())
        rpc.call("queue-move-bottom", ids=[ids["c"]])
        H.check(order(rpc) == ["a", "b", "c"], "after queue-move-bottom: %s" % order(rpc))
        rpc.call("queue-move-up", ids=[ids["c"]])
        rpc.call("queue-move-down", ids=[ids["a"]])
        H.check(order(rpc) == ["c", "a", "b"], "after up and down: %s" % order(rpc))
        H.wait_until(lambda: st() == {"a": 3, "b": 3, "c": 4}, 20, "c downloading again (%s)" % st())
        # A torrent's own settings through transmission-remote.
        remote(rpc_port, "-t", str(ids["a"]), "-d", "120", "-u", "45")
        remote(rpc_port, "-t", str(ids["a"]), "-Bh")
        remote(rpc_port, "-t", str(ids["a"]), "-sr", "2.5")
        remote(rpc_port, "-t", str(ids["b"]), "-Bl")
        remote(rpc_port, "-t", str(ids["b"]), "-SR")
        fields = ["downloadLimit", "downloadLimited", "uploadLimit", "uploadLimited", "bandwidthPriority",
                  "seedRatioLimit", "seedRatioMode", "seedIdleMode", "queuePosition"]
        want_a = {"downloadLimit": 120, "downloadLimited": True, "uploadLimit": 45, "uploadLimited": True,
                  "bandwidthPriority": 1, "seedRatioLimit": 2.5, "seedRatioMode": 1}
        want_b = {"bandwidthPriority": -1, "seedRatioMode": 2, "downloadLimited": False}

        def check_settings(when):
            ts = rpc.torrents(*fields)
            for name, want in (("a", want_a), ("b", want_b)):
                got = {k: ts[name][k] for k in want}
                H.check(got == want, "%s: torrent %s settings %s, want %s" % (when, name, got, want))

        check_settings("set")
        H.check("limits: download 120 kB/s, upload 45 kB/s" in btl.log_text(), "the log does not show a's limits")
        # Refused, with the reason, and nothing applied.
        r = rpc.call("torrent-set", ids=[ids["a"]], bandwidthPriority=5)
        H.check("bandwidthPriority" in r["result"] and r["result"] != "success", "bad priority: %s" % r["result"])
        r = rpc.call("torrent-set", ids=[ids["a"]], seedRatioLimit="x")
        H.check(r["result"] != "success", "a string ratio was accepted")
        r = rpc.call("torrent-set", ids=[ids["a"]], honorsSessionLimits=False)
        H.check("honorsSessionLimits" in r["result"], "an unsupported key was accepted: %s" % r["result"])
        check_settings("after refused changes")
        # kill -9, then a restart: order and settings come back from the resume data.  The answer to
        # torrent-set comes once the settings apply; their resume write runs on the thread pool, so
        # wait until it is on disk before the kill.
        hashes = {n: t["hashString"] for n, t in rpc.torrents().items()}

        def saved_mode(name):
            d = LU.read_resume(state, hashes[name])
            return d.get(b"seed-ratio-mode") if d else None

        H.wait_until(lambda: saved_mode("a") == 1 and saved_mode("b") == 2, 20,
                     "the settings in the resume data (a %s, b %s)" % (saved_mode("a"), saved_mode("b")))

        def saved_order():
            keys = {n: (LU.read_resume(state, h) or {}).get(b"queue-key") for n, h in hashes.items()}
            return None if None in keys.values() else sorted(keys, key=keys.get)

        # Each move rewrites the resume data of the torrents it moved, c's last with the final move.
        H.wait_until(lambda: saved_order() == ["c", "a", "b"], 20,
                     "the queue order in the resume data (%s)" % saved_order())
        btl.proc.signal(signal.SIGKILL)
        btl.proc.wait(10)
        btl = start(ws, watch, out, state, port, rpc_port)
        H.wait_listening("127.0.0.1", rpc_port, 20, btl.proc)
        rpc = Rpc(rpc_port)
        H.wait_until(lambda: len(rpc.torrents()) == 3, 20, "the three torrents to load again")
        H.check(order(rpc) == ["c", "a", "b"], "queue order after kill -9: %s" % order(rpc))
        check_settings("after kill -9")
        H.wait_until(lambda: st() == {"a": 3, "b": 3, "c": 4}, 20, "c downloading after the restart (%s)" % st())
        H.log("PASS: queue moves and per-torrent settings over RPC survive kill -9")


if __name__ == "__main__":
    H.run_main(main)
