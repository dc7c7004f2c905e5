#!/usr/bin/python3
"""--dht on SIGHUP: the config reload turns the DHT on and off while running.

btlaunchmany starts with `dht = 0` in its config file (not on the command
line, which would win over the file) and one torrent in its watched dir.  A
UDP socket of the test's own on 127.0.0.1 plays the DHT bootstrap router.
- dht = 0: no datagram reaches the router.
- dht = 1 and dht_bootstrap = the router, SIGHUP: a KRPC query ("d1:...")
  arrives from our listen port within seconds; the log says DHT on.
- dht = 0, SIGHUP: the log says DHT off, the routing table is saved
  (DATA_DIR/dht.dat), no datagram arrives any more, and nothing else closed:
  the UDP port is still ours (uTP), the TCP port still accepts, the torrent
  row is still there.
- dht = 1 again, SIGHUP: queries arrive again (a stopped node starts anew).
- SIGTERM: exit 0.
Everything on 127.0.0.1; the launcher's DHT reaches only the test's socket."""

import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402


class FakeRouter:
    """Counts the datagrams that reach it (and remembers their source)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets = []
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.packets.append((time.monotonic(), data, src))

    def since(self, t):
        with self.lock:
            return [p for p in self.packets if p[0] >= t]

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def udp_port_taken(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def main():
    L.launcher_path()
    with H.Workspace("dht-sighup", timeout=120) as ws:
        router = FakeRouter()
        ws.add_cleanup(router.close)
        watch, out, data = ws.mkdir("watch"), ws.mkdir("out"), ws.mkdir("data")
        src = ws.mkdir("src")
        H.write_random_file(os.path.join(src, "x.bin"), 300 * H.KiB, 7)
        H.make_torrent(os.path.join(src, "x.bin"), os.path.join(watch, "x.torrent"), 64 * H.KiB,
                       "http://127.0.0.1:9/announce")
        cfg = ws.path("config")

        def write_config(text):
            with open(cfg, "w") as f:
                f.write(text)

        write_config("dht = 0\n")
        port = H.free_port("127.0.0.1")
        status = ws.path("status.json")
        argv = [L.launcher_path(), watch, "--display", "plain", "--save_in", out, "--data_dir", data,
                "--bind", "127.0.0.1", "--minport", str(port), "--maxport", str(port),
                "--display_interval", "0.2", "--status_json", status, "--rpc_port", "0",
                "--config", cfg] + H.NO_REACH
        p = ws.start("btl", argv, env=dict(os.environ, LANG="C.UTF-8"))

        def log_text():
            with open(p.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")

        def rows():
            return {r["file"]: r for r in (H.read_json(status) or {}).get("torrents", [])}

        H.wait_until(lambda: rows().get("x.torrent", {}).get("loaded"), 20, "the torrent row", procs=[p])
        H.check(udp_port_taken(port), "no UDP socket on the listen port (uTP is on by default)")
        time.sleep(2)
        H.check(not router.packets, "dht = 0 but the router got %d datagrams" % len(router.packets))

        def hup(text, line):
            n = log_text().count("SIGHUP:")
            write_config(text)
            p.signal(signal.SIGHUP)
            H.wait_until(lambda: log_text().count("SIGHUP:") > n, 10, "the SIGHUP log line", procs=[p])
            last = [x for x in log_text().splitlines() if "SIGHUP:" in x][-1]
            H.check(line in last, "SIGHUP line %r lacks %r" % (last, line))
            H.check("after a restart" not in log_text().split("SIGHUP:")[-1],
                    "dht reported as restart-only: %s" % last)

        def queries_from_us(t0):
            return [d for (_, d, s) in router.since(t0) if d.startswith(b"d") and s[1] == port]

        on = "dht = 1\ndht_bootstrap = 127.0.0.1:%d\n" % router.port
        t_on = time.monotonic()
        hup(on, "DHT on")
        got = H.wait_until(lambda: queries_from_us(t_on), 15, "a DHT query at the bootstrap router", procs=[p])
        H.check(any(k in got[0] for k in (b"find_node", b"get_peers", b"ping")), "not a KRPC query: %r" % got[0][:80])
        H.check("DHT on" in log_text(), "no 'DHT on' log line")
        H.log("DHT on by SIGHUP: %d queries reached the router" % len(got))

        hup("dht = 0\ndht_bootstrap = 127.0.0.1:%d\n" % router.port, "DHT off")
        H.wait_until(lambda: "DHT off" in log_text(), 10, "the 'DHT off' log line", procs=[p])
        H.wait_until(lambda: os.path.exists(os.path.join(data, "dht.dat")), 10, "dht.dat saved", procs=[p])
        time.sleep(1)
        t_off = time.monotonic()
        time.sleep(4)
        late = router.since(t_off)
        H.check(not late, "%d datagrams reached the router after DHT off" % len(late))
        H.check(udp_port_taken(port), "turning the DHT off closed the shared UDP socket (uTP)")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the TCP listener still accepts
        H.check(rows().get("x.torrent", {}).get("loaded"), "the torrent row went away with the DHT")
        H.check(p.poll() is None, "btlaunchmany exited")

        t_again = time.monotonic()
        hup(on, "DHT on")
        got = H.wait_until(lambda: queries_from_us(t_again), 15, "queries again after DHT on", procs=[p])
        H.log("DHT on again: %d queries" % len(got))

        p.signal(signal.SIGTERM)
        H.check(p.wait(30) == 0, "btlaunchmany did not exit 0 on SIGTERM")


if __name__ == "__main__":
    H.run_main(main)
