#!/usr/bin/python3
"""btlaunchmany's Transmission RPC driven by the real transmission-remote
(Debian transmission-cli), plus the security answers and /metrics.

A torrent whose data is already in --save_in is dropped into the watched
directory (it checks and seeds); a second torrent is added with
`transmission-remote -a FILE` (no data: it waits for peers).  Then:
-l lists both with Transmission's columns; -t N -S / -s stop and start;
-v re-checks; -i shows the hash; -si and -st answer; -d/-u set the global
limits (the log says so) and -D/-U lift them; a wrong password is 401
(slowed, logged), no session id is 409 with the id, a foreign Host is 421,
GET /metrics passes `promtool check metrics`; the Unix socket is mode 0600
and answers without a password.  A restart keeps the RPC-added torrent;
-t N -r removes it for good (not back after another restart), -rad
deletes the other one's data, and
--rpc_bind 0.0.0.0 without --rpc_auth is refused at start.
No peers, no network: tracker URLs point at a closed loopback port."""

import base64
import http.client as httpc
import os
import re
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as LU  # noqa: E402

AUTH = "alice:s3cret"
REMOTE = "/usr/bin/transmission-remote"
PROMTOOL = "/usr/bin/promtool"


def remote(port, *args, auth=AUTH, check=True):
    argv = [REMOTE, "127.0.0.1:%d" % port]
    if auth:
        argv += ["-n", auth]
    argv += list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    H.log("transmission-remote %s -> rc %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    if check:
        H.check(r.returncode == 0, "transmission-remote %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r


def http(port, method, path, body=None, headers=None, host=None):
    c = httpc.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Host": host or "127.0.0.1:%d" % port}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


def basic(auth):
    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


def list_rows(port):
    """transmission-remote -l rows: {name: (id, done, status)}."""
    out = remote(port, "-l").stdout
    rows = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\d+)\*?\s+(\S+)\s+.*?\s(Stopped|Seeding|Downloading|Idle|Verifying|Up & Down|Will Verify|Queued)\s+(.*)$", line)
        if m:
            rows[m.group(4).strip()] = (int(m.group(1)), m.group(2), m.group(3))
    return rows


def start(ws, name, watch, out, data, ip, port, rpc_port, extra=()):
    return LU.Launcher(ws, name, watch, out, data, ip, port,
                       extra=["--rpc_port", str(rpc_port), "--rpc_auth", AUTH] + list(extra))


def stop(btl):
    btl.proc.signal()
    H.check(btl.proc.wait(20) == 0, "btlaunchmany did not exit 0 on SIGTERM")


def check_security(port, log_text):
    st, hdr, _ = http(port, "POST", "/transmission/rpc", b"{}")
    H.check(st == 401 and "Basic" in hdr.get("WWW-Authenticate", ""), "no credentials: %d, want 401" % st)
    t0 = time.monotonic()
    st, _, _ = http(port, "POST", "/transmission/rpc", b"{}", basic("alice:wrong"))
    H.check(st == 401, "wrong password: %d, want 401" % st)
    H.check(time.monotonic() - t0 >= 0.4, "a wrong password was answered at once (not slowed)")
    H.wait_until(lambda: "wrong user name or password from 127.0.0.1" in log_text(), 5, "failed login logged")
    st, hdr, _ = http(port, "POST", "/transmission/rpc", b'{"method":"session-get"}', basic(AUTH))
    sid = hdr.get("X-Transmission-Session-Id", "")
    H.check(st == 409 and len(sid) >= 32, "no session id: %d %r, want 409 with the id" % (st, sid))
    hs = dict(basic(AUTH), **{"X-Transmission-Session-Id": sid})
    st, _, body = http(port, "POST", "/transmission/rpc", b'{"method":"session-get","tag":5}', hs,
                       host="evil.example:%d" % port)
    H.check(st == 421, "foreign Host: %d, want 421" % st)
    st, _, body = http(port, "POST", "/transmission/rpc", b'{"method":"session-get","tag":5}', hs,
                       host="localhost:%d" % port)
    H.check(st == 200 and b'"tag":5' in body and b'"rpc-version"' in body, "with everything right: %d %r" % (st, body[:200]))
    # An oversized body is refused from its announced length, before it is sent.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /transmission/rpc HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % (17 << 20))
        head = s.recv(4096)
    H.check(head.startswith(b"HTTP/1.1 413"), "an oversized body: %r, want 413" % head[:40])
    st, _, _ = http(port, "GET", "/nothing-here", None, basic(AUTH))
    H.check(st == 404, "unknown path: %d, want 404" % st)


def check_metrics(ws, port, names):
    st, _, _ = http(port, "GET", "/metrics")
    H.check(st == 401, "/metrics without credentials: %d, want 401" % st)
    st, hdr, body = http(port, "GET", "/metrics", None, basic(AUTH))
    H.check(st == 200, "/metrics: %d" % st)
    text = body.decode()
    path = ws.path("metrics.txt")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    H.check(r.returncode == 0, "promtool check metrics: %s%s" % (r.stdout, r.stderr))
    H.check('btl_torrents{state="seeding"} 1' in text, "/metrics does not count the seeding torrent")
    for n in names:
        H.check('name="%s"' % n in text, "/metrics has no series for %s" % n)
    H.check(re.search(r"^btl_disk_free_bytes\{path=\"[^\"]+\"\} \d+$", text, re.M), "/metrics has no disk free")


def check_unix_socket(data):
    sock = os.path.join(data, "rpc.sock")
    mode = stat.S_IMODE(os.stat(sock).st_mode)
    H.check(mode == 0o600, "rpc.sock mode %o, want 600" % mode)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock)
    body = b'{"method":"session-stats"}'
    s.sendall(b"POST /transmission/rpc HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    head = s.recv(65536).decode()
    H.check(head.startswith("HTTP/1.1 409"), "unix socket, first request: %r" % head[:80])
    sid = re.search(r"X-Transmission-Session-Id: (\S+)", head).group(1)
    s.sendall(b"POST /transmission/rpc HTTP/1.1\r\nHost: localhost\r\nX-Transmission-Session-Id: %s\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (sid.encode(), len(body), body))
    got = b""
    deadline = time.monotonic() + 10
    while b'"result"' not in got and time.monotonic() < deadline:
        got += s.recv(65536)
    s.close()
    H.check(b"HTTP/1.1 200" in got and b'"torrentCount":2' in got, "unix socket, session-stats: %r" % got[:300])


def main():
    for tool in (REMOTE, PROMTOOL):
        H.check(os.access(tool, os.X_OK), "%s is missing (make deps)" % tool)
    with H.Workspace("rpc-remote", timeout=150) as ws:
        dead = "http://127.0.0.1:%d/announce" % H.free_port("127.0.0.1")
        src, watch, out, data = ws.mkdir("src"), ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        H.write_random_file(os.path.join(out, "seeded.bin"), 300 * H.KiB + 7, 1)
        seeded_ih, _, _ = H.make_torrent(os.path.join(out, "seeded.bin"), ws.path("seeded.torrent"), 32 * H.KiB, dead)
        H.write_random_file(os.path.join(src, "wanted.bin"), 200 * H.KiB + 3, 2)
        wanted_t = ws.path("wanted.torrent")
        wanted_ih, _, _ = H.make_torrent(os.path.join(src, "wanted.bin"), wanted_t, 32 * H.KiB, dead)
        ip = ws.next_ip()
        port, rpc_port = H.free_port(ip), H.free_port("127.0.0.1")

        btl = start(ws, "btl", watch, out, data, ip, port, rpc_port)
        os.link(ws.path("seeded.torrent"), os.path.join(watch, "seeded.torrent"))
        btl.wait(lambda rows: rows.get("seeded.torrent", {}).get("state") == "seeding", 30, "seeded.torrent seeding")
        H.wait_listening("127.0.0.1", rpc_port, 10, btl.proc)

        remote(rpc_port, "-a", wanted_t)
        H.check(os.path.isfile(os.path.join(data, "added", wanted_ih + ".torrent")),
                "the RPC-added torrent was not written to DATA_DIR/added")
        H.wait_until(lambda: set(list_rows(rpc_port)) == {"seeded.bin", "wanted.bin"}, 15, "-l lists both torrents")
        rows = list_rows(rpc_port)
        H.check(rows["seeded.bin"][1] == "100%" and rows["seeded.bin"][2] in ("Seeding", "Idle"),
                "seeded.bin in -l: %r" % (rows["seeded.bin"],))
        wid = rows["wanted.bin"][0]
        H.check(rows["wanted.bin"][1] == "0%", "wanted.bin in -l: %r" % (rows["wanted.bin"],))

        remote(rpc_port, "-t", str(wid), "-S")
        H.wait_until(lambda: list_rows(rpc_port)["wanted.bin"][2] == "Stopped", 10, "-S stops wanted.bin")
        remote(rpc_port, "-t", str(wid), "-s")
        H.wait_until(lambda: list_rows(rpc_port)["wanted.bin"][2] != "Stopped", 10, "-s starts wanted.bin")
        sid = rows["seeded.bin"][0]
        remote(rpc_port, "-t", str(sid), "-v")
        H.wait_until(lambda: "re-check requested" in btl.log_text(), 10, "-v asks for a re-check")
        info = remote(rpc_port, "-t", str(sid), "-i").stdout
        H.check(seeded_ih in info and "seeded.bin" in info, "-i does not show the torrent:\n" + info)
        si = remote(rpc_port, "-si").stdout
        H.check(out in si, "-si does not show the download dir %s:\n%s" % (out, si))
        st = remote(rpc_port, "-st").stdout
        H.check("Uploaded" in st and "Downloaded" in st, "-st:\n" + st)
        remote(rpc_port, "-d", "300", "-u", "150")
        H.wait_until(lambda: "rate limits: download 300 kB/s, upload 150 kB/s" in btl.log_text(), 10, "-d/-u applied")
        H.check(re.search(r"Download speed limit:\s+300 kB/s", remote(rpc_port, "-si").stdout), "-si after -d")
        remote(rpc_port, "-D", "-U")
        H.wait_until(lambda: "rate limits: download unlimited, upload unlimited" in btl.log_text(), 10, "-D/-U")
        bad = remote(rpc_port, "-l", auth="alice:wrong", check=False)
        H.check(bad.returncode != 0 and "401" in (bad.stdout + bad.stderr), "wrong credentials were not refused")

        check_security(rpc_port, btl.log_text)
        check_metrics(ws, rpc_port, ["seeded.bin", "wanted.bin"])
        check_unix_socket(data)

        # A restart keeps the RPC-added torrent; -r removes it for good.
        stop(btl)
        H.check(not os.path.exists(os.path.join(data, "rpc.sock")), "rpc.sock left behind after exit")
        btl = start(ws, "btl2", watch, out, data, ip, port, rpc_port)
        H.wait_listening("127.0.0.1", rpc_port, 10, btl.proc)
        H.wait_until(lambda: set(list_rows(rpc_port)) == {"seeded.bin", "wanted.bin"}, 20, "both back after restart")
        wid = list_rows(rpc_port)["wanted.bin"][0]
        remote(rpc_port, "-t", str(wid), "-r")
        H.wait_until(lambda: set(list_rows(rpc_port)) == {"seeded.bin"}, 10, "-r removes wanted.bin")
        H.wait_until(lambda: os.path.isfile(os.path.join(data, "added", wanted_ih + ".torrent.removed")), 10,
                     "the removed torrent's file renamed .removed")
        stop(btl)
        btl = start(ws, "btl3", watch, out, data, ip, port, rpc_port)
        H.wait_listening("127.0.0.1", rpc_port, 10, btl.proc)
        btl.wait(lambda rows: "seeded.torrent" in rows, 20, "third run up")
        time.sleep(1)
        rows = list_rows(rpc_port)
        H.check(set(rows) == {"seeded.bin"}, "a torrent removed over RPC came back after a restart")
        # -rad: removed with its data (inside --save_in), and its watched file renamed.
        remote(rpc_port, "-t", str(rows["seeded.bin"][0]), "-rad")
        H.wait_until(lambda: not os.path.exists(os.path.join(out, "seeded.bin")), 10, "-rad deletes seeded.bin")
        H.wait_until(lambda: os.path.isfile(os.path.join(watch, "seeded.torrent.removed")), 10,
                     "-rad renames the watched file")
        H.check(list_rows(rpc_port) == {}, "-l still lists a torrent after -rad")
        stop(btl)

        r = subprocess.run([LU.launcher_path(), watch, "--display", "plain", "--data_dir", ws.mkdir("d4"),
                            "--rpc_bind", "0.0.0.0", "--rpc_port", str(rpc_port)],
                           capture_output=True, text=True, timeout=20)
        H.check(r.returncode != 0 and "--rpc_auth" in r.stderr, "a public bind without a password: rc %d %r"
                % (r.returncode, r.stderr))
        H.log("ok: transmission-remote drove btlaunchmany; 401/409/421/413/404 answered; promtool passed")


if __name__ == "__main__":
    H.run_main(main)
