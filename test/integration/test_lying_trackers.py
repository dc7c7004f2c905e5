#!/usr/bin/python3
"""Lying trackers: each case is a btdownloadheadless whose torrent lists a
lying tracker (tier 0) and opentracker (tier 1), beside one libtorrent seed.

The lies (lying_tracker.py, one process for all cases, loopback only):
HTTP  garbage body, a failure reason, compact peers of 6n+1 bytes, a 500 MB
      body, a body that drips one byte a second, a redirect loop, a hang-up
      without an answer, HTTP 500 (each of these fails: the next tier finds
      the seed), and answers that "work" but
      lie: port-0 peers, interval 0, interval 2^62, 50,000 peers, a 1 MB
      tracker id to echo;
UDP   wrong transaction id, short packets, an error action, silence (also
      as the only tracker: BEP 15's 15 + 30 + 60 s, then an error).

Every case runs at once (one leecher per case, own loopback address; and
btlaunchmany --display plain with the failure lie in its watched dir) and
must: finish byte-identical; stay under 100 MiB peak RSS; show the lie in
--status_json (trackers[].status, one line naming what was wrong) and on the
status line ("tracker: URL: ..."); retry a failing tracker with backoff
(15 s, then 30 s: the timestamps the liar records), never hammer it; and
keep the "working" liars' intervals clamped to [60 s, 4 h].  The 50,000-peer
case also keeps its open descriptors bounded (connection attempts capped).
About 2 minutes, bounded at 240 s.

With --https (test_lying_trackers_https.py) every HTTP lie is served over
HTTPS with a test CA's certificate (tls_certs.py) and every one of our
clients gets --ca_file: the same bounds must hold through TLS."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
from test_udp_tracker import make_torrent_tiers  # noqa: E402

PIECE = 64 * H.KiB
SIZE = 4 * H.MiB + 4321
RSS_LIMIT_KIB = int(100 * 1024 * H.MEM_SCALE)
FD_LIMIT = 200

# case -> (substring of the liar's tracker status, rounds to observe)
# rounds: announces (retries) the liar must see, with growing gaps.
FAILING = {
    "garbage": ("tracker response is not bencoded", 3),
    "failure": ("tracker said: lying tracker: you are not welcome", 3),
    "badcompact": ("compact peers length 7 is not a multiple of 6", 3),
    "huge": ("response too large", 3),
    "redirect": ("too many redirects", 3),
    "drip": ("timed out", 2),
    "hangup": ("connection closed without a response", 3),
    "error500": ("HTTP status 500", 3),
    "udp_wrongtid": ("ignored: a packet with the wrong transaction id", 2),
    "udp_short": ("ignored: UDP connect response of 10 bytes", 2),
    "udp_error": ("tracker said: lying tracker: torrent banned here", 3),
    "udp_silent": ("no answer from UDP tracker", 2),
}
WORKING = ["port0", "interval0", "hugeinterval", "manypeers", "trackerid"]


def read_records(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(H.json.loads(line))
    except OSError:
        pass
    return out


def rounds(records, case):
    """Times at which the liar saw a new announce round from the client."""
    if case.startswith("udp_"):
        # One round = one connect request (a retransmission would be a
        # second one 15 s later; the announcer gives a non-last UDP tracker
        # one try, so rounds here are announcer retries).
        return [r["t"] for r in records if r["mode"] == case and r["kind"] == "connect"]
    if case == "redirect":
        return [r["t"] for r in records if r["mode"] == case and r.get("hop") == 0]
    return [r["t"] for r in records if r["mode"] == case and r["kind"] == "announce"]


def eventually(fn, timeout):
    """fn() until it stops failing (H.Fail); its last failure after timeout."""
    end = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except H.Fail:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


def liar_entry(status, url):
    for tr in status.get("trackers", []):
        if tr.get("url") == url:
            return tr
    return None


def main(https=False):
    H.require_headless()
    with H.Workspace("lying-trackers-https" if https else "lying-trackers", timeout=240) as ws:
        scheme, tls_args, ca_args = "http", [], []
        if https:
            import tls_certs
            certs = tls_certs.make(ws.mkdir("pki"))
            scheme, tls_args, ca_args = "https", ["--tls", *certs["good"]], ["--ca_file", certs["ca"]]
        src = ws.mkdir("seed")
        data = os.path.join(src, "lies.bin")
        H.write_random_file(data, SIZE, 4242)
        honest = H.Tracker(ws)
        seed_tor = ws.path("seed.torrent")
        ih = make_torrent_tiers(data, seed_tor, PIECE, [[honest.announce]])
        honest.start([ih])
        seed = H.LtPeer(ws, "lt-seed", seed_tor, src, ws.next_ip(), seed=True)

        record = ws.path("liar.jsonl")
        ready = ws.path("liar.ready")
        argv = [H.PY, os.path.join(H.HERE, "lying_tracker.py"), "--seed", "%s:%d" % (seed.ip, seed.port),
                "--record", record, "--ready", ready] + tls_args
        for m in ("wrongtid", "short", "error", "silent", "silent-last"):
            argv += ["--udp", m]
        liar = ws.start("liar", argv)
        H.wait_until(lambda: os.path.exists(ready), 10, "the lying tracker to start", procs=[liar])
        ports = H.read_json(ready)
        seed.wait_ready(30)

        def liar_url(case):
            if case.startswith("udp_"):
                return "udp://127.0.0.1:%d/announce" % ports["udp"][case[4:]]
            return "%s://127.0.0.1:%d/%s/announce" % (scheme, ports["http"], case)

        cases = list(FAILING) + WORKING
        leechers = {}
        t0 = time.monotonic()
        for case in cases:
            tor = ws.path("%s.torrent" % case)
            ih_case = make_torrent_tiers(data, tor, PIECE, [[liar_url(case)], [honest.announce]])
            H.check(ih_case == ih, "the announce list changed the info-hash")
            out = ws.mkdir("out-" + case)
            leechers[case] = (H.Headless(ws, case, tor, ws.next_ip(), save_in=out, extra=ca_args), out)

        # A silent UDP tracker that is the only one: the full BEP 15
        # retransmission (15, 30, 60 s), then an error; a second seed dials
        # the leecher so the download does not need a tracker.
        only_url = "udp://127.0.0.1:%d/announce" % ports["udp"]["silent-last"]
        only_tor = ws.path("udp_silent_last.torrent")
        make_torrent_tiers(data, only_tor, PIECE, [[only_url]])
        only_out = ws.mkdir("out-udp_silent_last")
        only = H.Headless(ws, "udp_silent_last", only_tor, ws.next_ip(), save_in=only_out, extra=ca_args)
        only_t0 = time.time()
        H.LtPeer(ws, "lt-seed-direct", seed_tor, src, ws.next_ip(), seed=True, connect=[(only.ip, only.port)])

        # btlaunchmany (plain view) with the failure lie in a watched dir.
        watch = ws.mkdir("watch")
        lurl = "%s://127.0.0.1:%d/failure-launcher/announce" % (scheme, ports["http"])
        make_torrent_tiers(data, os.path.join(watch, "lies.torrent"), PIECE, [[lurl], [honest.announce]])
        lip = ws.next_ip()
        lport = H.free_port(lip)
        launcher_json = ws.path("launcher.status.json")
        launcher_out = ws.mkdir("out-launcher")
        launcher = ws.start("launcher", [
            os.path.join(H.btl_bin_dir(), "btlaunchmany"), "--dht", "0", watch, "--display", "plain",
            "--save_in", launcher_out, "--data_dir", ws.mkdir("launcher.data"), "--bind", lip, "--ip", lip,
            "--minport", str(lport), "--maxport", str(lport), "--display_interval", "0.5",
            "--status_json", launcher_json, "--rpc_port", "0"] + H.NO_REACH + ca_args, env=dict(os.environ, LANG="C.UTF-8"))

        # Open descriptors of the 50,000-peer leecher, sampled throughout.
        fd_peak = [0]
        stop_sampling = threading.Event()

        def sample_fds():
            pid = leechers["manypeers"][0].proc.pid
            while not stop_sampling.is_set():
                try:
                    fd_peak[0] = max(fd_peak[0], len(os.listdir("/proc/%d/fd" % pid)))
                except OSError:
                    pass
                time.sleep(0.1)
        sampler = threading.Thread(target=sample_fds, daemon=True)
        sampler.start()

        # 1. Everyone completes, byte-identical, in bounded time.
        done = set()
        deadline = time.monotonic() + 120
        while len(done) < len(cases):
            H.check(time.monotonic() < deadline, "not complete after 120 s: %s" % sorted(set(cases) - done))
            for case in cases:
                lee = leechers[case][0]
                H.check(lee.proc.poll() is None, "%s: btdownloadheadless exited %s" % (case, lee.proc.poll()))
                if case not in done and lee.status().get("state") == "seeding":
                    done.add(case)
                    H.log("%s: complete after %.1f s" % (case, time.monotonic() - t0))
            time.sleep(0.3)
        for case in cases:
            H.assert_same_data(data, os.path.join(leechers[case][1], "lies.bin"), case)

        # 2. Failing liars: status names the lie, retries back off.
        want_end = time.monotonic() + 100
        pending = set(FAILING)
        while pending:
            recs = read_records(record)
            for case in sorted(pending):
                if len(rounds(recs, case)) >= FAILING[case][1]:
                    pending.discard(case)
            if not pending:
                break
            H.check(time.monotonic() < want_end, "liars not retried in time: %s (rounds %s)" % (
                sorted(pending), {c: len(rounds(recs, c)) for c in pending}))
            time.sleep(0.5)
        recs = read_records(record)
        for case, (text, n) in FAILING.items():
            lee = leechers[case][0]

            def shows_lie():
                # Between retries (not while one is in flight) the status
                # names the lie; the honest tracker stays fine.
                st = lee.status()
                tr = liar_entry(st, liar_url(case))
                H.check(tr is not None, "%s: liar missing from trackers in %s" % (case, st))
                H.check(text in tr["status"], "%s: tracker status %r lacks %r" % (case, tr["status"], text))
                H.check(tr["fails"] >= 1, "%s: fails not counted: %s" % (case, tr))
                H.check(-5 <= tr["next_announce_at"] - time.time() <= 1800, "%s: next retry in %s s" % (case, tr["next_announce_at"] - time.time()))
                honest_tr = liar_entry(st, honest.announce)
                H.check(honest_tr and honest_tr["status"] == "ok", "%s: honest tracker affected: %s" % (case, honest_tr))
                H.check(text in st.get("tracker", ""), "%s: status 'tracker' field %r lacks %r"
                        % (case, st.get("tracker"), text))
                return tr
            tr = eventually(shows_lie, 45)
            view = open(lee.proc.logpath, errors="replace").read()
            H.check(("tracker: " + liar_url(case)) in view and text in view,
                    "%s: the status line does not show the lie:\n%s" % (case, lee.proc.tail(5)))
            ts = rounds(recs, case)
            gaps = [b - a for a, b in zip(ts, ts[1:])]
            H.log("%s: %s; retries after %s s" % (case, tr["status"], ["%.1f" % g for g in gaps]))
            H.check(gaps and gaps[0] >= 14, "%s: retried after %s s (backoff is 15 s)" % (case, gaps))
            if len(gaps) >= 2:
                H.check(gaps[1] >= 1.8 * gaps[0] - 2, "%s: backoff did not grow: %s" % (case, gaps))
            # No hammering: at most one round per backoff step since start.
            H.check(len(ts) <= 4, "%s: %d rounds in %.0f s" % (case, len(ts), time.monotonic() - t0))
        sent = [r["sent"] for r in recs if r["mode"] == "huge" and r["kind"] == "hung_up"]
        H.check(sent and max(sent) < 64 * H.MiB, "huge: the client took %s bytes of a 500 MB body" % sent)
        redirects = [r for r in recs if r["mode"] == "redirect"]
        H.check(max(r["hop"] for r in redirects) == 3, "redirect: followed %d hops, expected 3"
                % max(r["hop"] for r in redirects))

        # 3. "Working" liars: clamped intervals, the seed still found.
        for case in WORKING:
            st = leechers[case][0].status()
            tr = liar_entry(st, liar_url(case))
            H.check(tr and tr["status"] == "ok", "%s: liar status %s" % (case, tr))
            if case == "interval0":
                H.check(tr["interval"] == 60, "interval 0 clamped to %s, want 60" % tr["interval"])
                # started, then completed at once (events are not
                # rate-limited); a regular announce no sooner than 60 s on.
                anns = [r for r in recs if r["mode"] == case and r["kind"] == "announce"]
                H.check([r["event"] for r in anns[:2]] == ["started", "completed"],
                        "interval 0: events %s" % [r["event"] for r in anns])
                gaps = [b["t"] - a["t"] for a, b in zip(anns, anns[1:]) if b["event"] == ""]
                H.check(all(g >= 55 for g in gaps), "interval 0: regular announces %s s after the previous" % gaps)
            if case == "trackerid":
                # Not echoed (too big): `completed` went out a normal size.
                anns = [r for r in recs if r["mode"] == case and r["kind"] == "announce"]
                H.check(len(anns) >= 2 and all(r["path_len"] < 2000 for r in anns),
                        "trackerid: request lengths %s" % [(r["event"], r["path_len"]) for r in anns])
            if case == "hugeinterval":
                H.check(tr["interval"] == 4 * 3600, "interval 2^62 clamped to %s, want 14400" % tr["interval"])
                H.check(tr["next_announce_at"] - time.time() <= 4 * 3600, "next announce in %s s" % (tr["next_announce_at"] - time.time()))
        stop_sampling.set()
        sampler.join()
        H.log("manypeers: peak open descriptors %d" % fd_peak[0])
        H.check(0 < fd_peak[0] < FD_LIMIT, "manypeers: %d descriptors open at once" % fd_peak[0])

        # 5. btlaunchmany: row complete, the lie in "tracker" and "trackers",
        # a warning line in the plain view, a retry 15 s later.
        def launcher_row():
            d = H.read_json(launcher_json) or {}
            rows = d.get("torrents", [])
            H.check(rows, "launcher: no rows in %s" % d)
            return rows[0]
        text = FAILING["failure"][0]

        def launcher_shows_lie():
            row = launcher_row()
            H.check(row["state"] == "seeding", "launcher: row %s" % row)
            H.check(text in row["tracker"], "launcher: tracker field %r" % row["tracker"])
            tr = liar_entry(row, lurl)
            H.check(tr and text in tr["status"] and tr["fails"] >= 1, "launcher: liar entry %s" % tr)
            ok = liar_entry(row, honest.announce)
            H.check(ok and ok["status"] == "ok", "launcher: honest entry %s" % ok)
            return row
        eventually(launcher_shows_lie, 30)
        H.assert_same_data(data, os.path.join(launcher_out, "lies.bin"), "launcher")
        ts = rounds(read_records(record), "failure-launcher")
        H.check(len(ts) >= 2 and ts[1] - ts[0] >= 14, "launcher: liar rounds %s" % ts)
        plain = open(launcher.logpath, errors="replace").read()
        H.check("tracker " + lurl + ": " + text in plain and "retry in 15 s" in plain,
                "launcher: the plain view does not show the lie:\n%s" % launcher.tail(10))
        H.check(launcher.peak_rss_kib() < RSS_LIMIT_KIB, "launcher: peak RSS %s KiB" % launcher.peak_rss_kib())
        launcher.signal()
        t_term = time.monotonic()
        H.check(launcher.wait(60) == 0, "launcher: exit %s on SIGTERM" % launcher.poll())
        H.log("launcher: exited %.1f s after SIGTERM" % (time.monotonic() - t_term))

        # 6. The lone silent UDP tracker: packets 15 s then 30 s apart, the
        # request given up after 15 + 30 + 60 s, the download done anyway.
        only.wait_state(("seeding",), 30)
        H.assert_same_data(data, os.path.join(only_out, "lies.bin"), "udp_silent_last")
        H.wait_until(lambda: len(rounds(read_records(record), "udp_silent-last")) >= 3, 70,
                     "three BEP 15 tries at the lone silent tracker")
        ts = rounds(read_records(record), "udp_silent-last")
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        H.log("udp_silent_last: BEP 15 retransmissions after %s s" % ["%.1f" % g for g in gaps])
        H.check(ts[0] - only_t0 < 5 and 14 <= gaps[0] <= 20 and 29 <= gaps[1] <= 36,
                "udp_silent_last: tries at %s s" % [round(t - only_t0, 1) for t in ts])

        def gave_up():
            tr = liar_entry(only.status(), only_url)
            H.check(tr and "no answer from UDP tracker" in tr["status"] and "after 3 tries (105 s)" in tr["status"],
                    "udp_silent_last: tracker %s" % tr)
            return tr
        tr = eventually(gave_up, 125 - (time.time() - only_t0))
        H.log("udp_silent_last: %s" % tr["status"])
        H.check(len(rounds(read_records(record), "udp_silent-last")) == 3, "udp_silent_last: more than 3 tries")
        cases.append("udp_silent_last")
        leechers["udp_silent_last"] = (only, only_out)

        # 4. Memory: every leecher stayed small; all stop cleanly.
        for case in cases:
            lee = leechers[case][0]
            rss = lee.proc.peak_rss_kib()
            H.check(rss is not None and rss < RSS_LIMIT_KIB, "%s: peak RSS %s KiB" % (case, rss))
        for case in cases:
            lee = leechers[case][0]
            rss = lee.proc.peak_rss_kib()
            rc = lee.stop(20)
            H.check(rc == 0, "%s: exit %s on SIGTERM" % (case, rc))
            H.log("%s: peak RSS %d KiB" % (case, rss))


if __name__ == "__main__":
    H.run_main(lambda: main(https="--https" in sys.argv[1:]))
