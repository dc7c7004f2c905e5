#!/usr/bin/env python3
"""Port mapping by NAT-PMP (RFC 6886), in network namespaces the test makes
itself (the router in one, our client in the other, joined by a veth pair).

A fake NAT-PMP gateway (fake_gateway.py --natpmp) on 10.77.0.1:5351, the
namespace's default gateway, grants leases of at most 4 s; btdownloadheadless
on 10.77.0.2 with --upnp 0 --natpmp 1 must map TCP and UDP, report "port P
open via NAT-PMP at <external>", renew before the lease runs out, map again
after the gateway restarts (its epoch starts again from 0), and delete both
mappings (lifetime 0) when it exits.  The gateway hands out external port
P + 1000: the tracker must hear that port, not the listen port, once the
mapping is made.
"""
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import gateway_util  # noqa: E402
import netns_util  # noqa: E402

GW, ME = "10.77.0.1", "10.77.0.2"
EXTERNAL = "93.184.216.35"
LIFETIME = 4
OFFSET = 1000


def recording_tracker(ip):
    """An HTTP tracker that records the port of every announce."""
    ports = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            ports.append(int(q.get("port", ["0"])[0]))
            body = b"d8:intervali1800e5:peers0:e"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    srv = ThreadingHTTPServer((ip, 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, ports


def main():
    netns_util.reexec()
    H.require_headless()
    with H.Workspace("portmap-natpmp", timeout=90) as ws:
        inside = netns_util.enter_with_router(ws, ME, GW)
        gw = gateway_util.Gateway(ws, inside, GW, ["--natpmp", "--external", EXTERNAL, "--max_lifetime", str(LIFETIME),
                                                   "--port_offset", str(OFFSET)]).start()
        data = ws.path("d.bin")
        H.write_random_file(data, 64 * 1024, 4)
        torrent = ws.path("d.torrent")
        tracker, announced = recording_tracker(ME)
        ws.add_cleanup(tracker.shutdown)
        H.make_torrent(data, torrent, 16384, "http://%s:%d/announce" % (ME, tracker.server_address[1]))
        port = H.free_port(ME)
        me = H.Headless(ws, "client", torrent, ME, save_in=ws.dir, port=port,
                        extra=["--upnp", "0", "--natpmp", "1", "--lsd", "0"])
        tcp, udp = "TCP:%d" % port, "UDP:%d" % port

        def mapped():
            return gw.mappings_of([tcp, udp])
        m = H.wait_until(mapped, 20, "TCP and UDP mappings on the gateway", procs=[me.proc])
        for k in (tcp, udp):
            H.check(m[k]["internal_port"] == port and m[k]["lease"] == LIFETIME, "mapping %s: %s" % (k, m[k]))
        want = "port %d open via NAT-PMP at %s:%d" % (port, EXTERNAL, port + OFFSET)
        H.wait_until(lambda: (H.read_json(me.status_path) or {}).get("totals", {}).get("port_mapping") == want,
                     10, "status_json to say %r" % want, procs=[me.proc])

        H.wait_until(lambda: port + OFFSET in announced, 10, "the tracker to hear the external port %d (heard %s)"
                     % (port + OFFSET, announced), procs=[me.proc])
        H.log("ports the tracker heard:", announced)

        maps = gw.count("natpmp map " + tcp)
        H.wait_until(lambda: gw.count("natpmp map " + tcp) >= maps + 2, 3 * LIFETIME,
                     "the mapping to be renewed twice", procs=[me.proc])
        # Never expired on the gateway between renewals.
        H.check(mapped(), "a mapping lapsed between renewals: %s" % gw.state())

        gw.restart_empty()
        H.wait_until(mapped, 4 * LIFETIME, "the mappings to be made again after the gateway restarted",
                     procs=[me.proc])

        rc = me.stop(timeout=15)
        H.check(rc == 0, "btdownloadheadless exit status %s" % rc)
        st = gw.state()
        H.check(tcp not in st["mappings"] and udp not in st["mappings"], "mappings left after exit: %s" % st["mappings"])
        H.check(st["counts"].get("natpmp delete " + tcp) == 1 and st["counts"].get("natpmp delete " + udp) == 1,
                "NAT-PMP deletes: %s" % st["counts"])


if __name__ == "__main__":
    H.run_main(main)
