#!/usr/bin/python3
"""bttrack end to end: real clients (libtorrent seeder and leecher, aria2c
leecher) find each other through it; scrape counts match; hostile requests get
clean errors; the dfile survives a restart.  Loopback only, bounded time."""
import os, re, resource, select, signal, socket, subprocess, sys, tempfile, time

BIN = os.environ.get("BTL_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin"))
BTTRACK = os.path.join(BIN, "bttrack")
PY = "/usr/bin/python3"
import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from btl_harness import bdecode  # noqa: E402

procs = []


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def free_port(ip="127.0.0.1"):
    s = socket.socket()
    s.bind((ip, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(port, target, timeout=5, raw=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(raw if raw is not None else
              ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % target).encode())
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else 0
    return status, body


def start_tracker(port, dfile, extra=()):
    p = subprocess.Popen([BTTRACK, "--port", str(port), "--bind", "127.0.0.1", "--dfile", dfile,
                          "--socket_timeout", "2", "--max_connections", "1000",
                          "--save_dfile_interval", "2"] + list(extra),
                         stderr=subprocess.PIPE, text=True)
    procs.append(p)
    for _ in range(100):
        try:
            http(port, "/")
            return p
        except OSError:
            time.sleep(0.05)
        if p.poll() is not None:
            fail("bttrack exited: " + p.stderr.read())
    fail("bttrack did not start")


PEER = r'''
import libtorrent as lt, sys, time
role, ip, port, tpath, save = sys.argv[1:6]
ses = lt.session({"listen_interfaces": "%s:%s" % (ip, port), "outgoing_interfaces": ip,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True, "enable_dht": False, "enable_lsd": False,
    "enable_upnp": False, "enable_natpmp": False, "alert_mask": 0})
p = lt.add_torrent_params()
p.ti = lt.torrent_info(tpath)
p.save_path = save
if role == "seed":
    p.flags |= lt.torrent_flags.seed_mode
h = ses.add_torrent(p)
done = False
while True:
    s = h.status()
    if s.is_seeding and not done:
        print("DONE", flush=True); done = True
    time.sleep(0.2)
'''


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    tmp = tempfile.mkdtemp(prefix="bttrack-")
    port = free_port()
    dfile = os.path.join(tmp, "state")

    # Options: bad values and an unbindable port exit non-zero with one line.
    r = subprocess.run([BTTRACK, "--port", "x", "--dfile", dfile], capture_output=True, text=True)
    if r.returncode == 0 or len(r.stderr.strip().splitlines()) != 1: fail("bad --port accepted: %r" % r.stderr)
    r = subprocess.run([BTTRACK, "--dfile", dfile, "--bogus", "1"], capture_output=True, text=True)
    if r.returncode == 0: fail("unknown option accepted")

    tracker = start_tracker(port, dfile)
    r = subprocess.run([BTTRACK, "--port", str(port), "--bind", "127.0.0.1", "--dfile", dfile + "2"],
                       capture_output=True, text=True, timeout=10)
    if r.returncode == 0 or "cannot listen" not in r.stderr: fail("port in use not reported: %r" % r.stderr)

    # (a) a swarm through bttrack: libtorrent seeder, libtorrent and aria2c leechers.
    seed_dir = os.path.join(tmp, "seed"); os.makedirs(seed_dir)
    payload = os.urandom(4 << 20)
    with open(os.path.join(seed_dir, "data.bin"), "wb") as f:
        f.write(payload)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(seed_dir, "data.bin"))
    # v1-only: aria2 1.36 hashes hybrid (v1+v2) info dicts differently from libtorrent.
    ct = lt.create_torrent(fs, 256 * 1024, flags=lt.create_torrent.v1_only)
    ct.add_tracker("http://127.0.0.1:%d/announce" % port)
    lt.set_piece_hashes(ct, seed_dir)
    tpath = os.path.join(tmp, "t.torrent")
    with open(tpath, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    info_hash = bytes.fromhex(str(lt.torrent_info(tpath).info_hash()))
    script = os.path.join(tmp, "peer.py")
    with open(script, "w") as f:
        f.write(PEER)

    def peer(role, ip, d):
        os.makedirs(d, exist_ok=True)
        p = subprocess.Popen([PY, script, role, ip, str(free_port(ip)), tpath, d],
                             stdout=subprocess.PIPE, text=True)
        procs.append(p)
        return p

    seeder = peer("seed", "127.0.0.2", seed_dir)
    time.sleep(1)
    leecher = peer("leech", "127.0.0.3", os.path.join(tmp, "lt"))
    aria_dir = os.path.join(tmp, "aria"); os.makedirs(aria_dir)
    aria = subprocess.Popen(["aria2c", "--seed-time=0", "--enable-dht=false", "--bt-enable-lpd=false",
                             "--enable-peer-exchange=false", "--interface=127.0.0.4",
                             "--listen-port=%d" % free_port("127.0.0.4"), "--dir=" + aria_dir,
                             "--summary-interval=0", "--console-log-level=warn",
                             "--log=" + os.path.join(tmp, "aria.log"), "--log-level=info", tpath],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(aria)
    deadline = time.time() + 120
    lt_done = False
    while time.time() < deadline and not lt_done:
        r, _, _ = select.select([leecher.stdout], [], [], 1)
        if r and "DONE" in leecher.stdout.readline():
            lt_done = True
    if not lt_done: fail("libtorrent leecher did not finish through bttrack")
    try:
        rc = aria.wait(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        os.system("grep -iE 'tracker|announce|error|peer' %s | tail -20" % os.path.join(tmp, "aria.log"))
        fail("aria2c leecher did not finish")
    if rc != 0: fail("aria2c exit %d" % rc)
    for d in (os.path.join(tmp, "lt"), aria_dir):
        with open(os.path.join(d, "data.bin"), "rb") as f:
            if f.read() != payload: fail("downloaded data differs in " + d)
    print("swarm: both leechers completed")

    # (b) scrape counts: two seeds left (seeder, libtorrent), aria2 stopped, two completions.
    q = "/scrape?info_hash=" + "".join("%%%02x" % b for b in info_hash)
    counts = None
    for _ in range(100):
        st, body = http(port, q)
        counts = bdecode(body)[b"files"].get(info_hash)
        if counts == {b"complete": 2, b"downloaded": 2, b"incomplete": 0}:
            break
        time.sleep(0.2)
    else:
        fail("scrape counts: %r" % counts)
    print("scrape:", counts)

    # (c) hostile requests.
    ih = "".join("%%%02x" % b for b in info_hash)
    pid = "-TT0001-aaaaaaaaaaaa"
    def failure(target):
        st, body = http(port, target)
        if st != 200: fail("%s: status %d" % (target, st))
        return bdecode(body).get(b"failure reason", b"").decode()
    checks = [("/announce?peer_id=%s&port=1" % pid, "missing info_hash"),
              ("/announce?info_hash=abc&peer_id=%s&port=1" % pid, "info_hash must be 20 bytes"),
              ("/announce?info_hash=%s&peer_id=%s&port=99999" % (ih, pid), "invalid port"),
              ("/announce?info_hash=%s&peer_id=%s&port=abc" % (ih, pid), "invalid port")]
    for target, want in checks:
        got = failure(target)
        if got != want: fail("%s: %r, want %r" % (target, got, want))
    st, _ = http(port, None, raw=b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n")
    if st != 414: fail("100 KB URI: status %d" % st)
    st, _ = http(port, None, raw=bytes(range(1, 256)) + b"\r\n\r\n")
    if st != 400: fail("garbage: status %d" % st)
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /announce?info_hash=")
    slow.settimeout(10)
    t0 = time.time()
    try:
        got = slow.recv(100)
    except (ConnectionResetError, socket.timeout):
        got = b"timeout"
    waited = time.time() - t0
    if got != b"" or not 1.5 <= waited <= 6: fail("slow client: %r after %.1fs" % (got, waited))
    print("slow client dropped after %.1fs" % waited)

    conns = []
    for _ in range(2000):
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        conns.append(s)
    time.sleep(1)
    closed = 0
    for s in conns:
        pl = select.poll()  # select() cannot take descriptors above 1023
        pl.register(s, select.POLLIN)
        if pl.poll(0):
            try:
                if s.recv(1) == b"":
                    closed += 1
            except ConnectionResetError:
                closed += 1
    for s in conns:
        s.close()
    if closed < 1000: fail("connection cap: only %d of 2000 closed" % closed)
    print("connection cap: %d of 2000 closed at once" % closed)
    time.sleep(0.5)
    st, page = http(port, "/")
    m = re.search(rb"rejected: (\d+)", page)
    if st != 200 or not m or int(m.group(1)) < 1000: fail("status page after flood: %r" % page[:300])
    if tracker.poll() is not None: fail("bttrack died")
    if failure("/announce?info_hash=%s&peer_id=%s&port=7&left=1" % (ih, pid)) != "": fail("announce after flood")

    # (d) persistence: peers vanish without a word, tracker stops, restarts.
    for p in (seeder, leecher):
        p.kill(); p.wait()
    tracker.send_signal(signal.SIGTERM)
    if tracker.wait(timeout=10) != 0: fail("bttrack exit status on SIGTERM")
    tracker = start_tracker(port, dfile)
    st, body = http(port, q)
    counts = bdecode(body)[b"files"].get(info_hash)
    if counts != {b"complete": 2, b"downloaded": 2, b"incomplete": 1}:
        fail("after restart: %r" % counts)
    print("after restart:", counts)
    tracker.send_signal(signal.SIGTERM)
    tracker.wait(timeout=10)

    # A corrupt dfile is a warning, not a crash.
    with open(dfile, "wb") as f:
        f.write(b"d8:torrentsd3:xyz")
    tracker = start_tracker(port, dfile)
    st, body = http(port, q)
    if bdecode(body) != {b"files": {}}: fail("corrupt dfile not ignored: %r" % body)
    tracker.send_signal(signal.SIGTERM)
    tracker.wait(timeout=10)
    if "warning" not in tracker.stderr.read(): fail("no warning for corrupt dfile")
    print("OK")


try:
    main()
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
