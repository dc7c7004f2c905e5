#!/usr/bin/env python3
"""Port mapping by UPnP, in a network namespace the test makes itself.

A fake home router (fake_gateway.py: SSDP + a SOAP IGD) runs on 10.77.0.1,
reporting a public-looking external address (miniupnpc calls documentation
ranges reserved); btdownloadheadless on 10.77.0.2 with --upnp 1 --natpmp 0 and a
short lease must:
  - map its listen port for TCP and UDP to itself, and say "port P open via
    UPnP at 93.184.216.34" in --status_json;
  - renew the mapping before the lease ends;
  - map again after the gateway restarts (empty table, new control port);
  - leave a mapping that python3-miniupnpc, an independent UPnP client,
    finds with GetSpecificPortMappingEntry;
  - delete both mappings when it exits.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import gateway_util  # noqa: E402
import netns_util  # noqa: E402

GW, ME = "10.77.0.1", "10.77.0.2"
EXTERNAL = "93.184.216.34"
LEASE = 4


def main():
    netns_util.reexec()
    H.require_headless()
    with H.Workspace("portmap-upnp", timeout=90) as ws:
        inside = netns_util.enter_with_router(ws, ME, GW)
        gw = gateway_util.Gateway(ws, inside, GW, ["--upnp", "--external", EXTERNAL]).start()
        data = ws.path("d.bin")
        H.write_random_file(data, 64 * 1024, 3)
        torrent = ws.path("d.torrent")
        H.make_torrent(data, torrent, 16384, "http://%s:1/announce" % GW)
        port = H.free_port(ME)
        me = H.Headless(ws, "client", torrent, ME, save_in=ws.dir, port=port,
                        extra=["--upnp", "1", "--natpmp", "0", "--lsd", "0", "--portmap_lease", str(LEASE)])
        tcp, udp = "TCP:%d" % port, "UDP:%d" % port

        def mapped():
            return gw.mappings_of([tcp, udp])
        m = H.wait_until(mapped, 20, "TCP and UDP mappings on the gateway", procs=[me.proc])
        for k in (tcp, udp):
            H.check(m[k]["internal_port"] == port and m[k]["client"] == ME, "mapping %s: %s" % (k, m[k]))
            H.check(m[k]["lease"] == LEASE, "lease asked: %s" % m[k])
        want = "port %d open via UPnP at %s" % (port, EXTERNAL)
        H.wait_until(lambda: (H.read_json(me.status_path) or {}).get("totals", {}).get("port_mapping") == want,
                     10, "status_json to say %r" % want, procs=[me.proc])

        # An independent client sees the mapping.
        import miniupnpc
        u = miniupnpc.UPnP(multicastif=ME, discoverdelay=1000)
        H.check(u.discover() >= 1, "python3-miniupnpc found no IGD")
        u.selectigd()
        H.check(u.externalipaddress() == EXTERNAL, "external address by miniupnpc: %s" % u.externalipaddress())
        entry = u.getspecificportmapping(port, "TCP")
        H.check(entry is not None and entry[1] == port, "miniupnpc's GetSpecificPortMappingEntry: %r" % (entry,))
        H.log("python3-miniupnpc sees", entry)

        # Renewed before the lease ends: more AddPortMapping calls for the same key.
        adds = gw.count("add " + tcp)
        H.wait_until(lambda: gw.count("add " + tcp) >= adds + 2, 3 * LEASE,
                     "the mapping to be renewed twice", procs=[me.proc])

        # The gateway restarts with an empty table on another control port.
        gw.restart_empty()
        H.wait_until(mapped, 4 * LEASE, "the mappings to be made again after the gateway restarted", procs=[me.proc])
        H.log("mapped again after the restart:", sorted(gw.state()["mappings"]))

        # Deleted on exit.
        rc = me.stop(timeout=15)
        H.check(rc == 0, "btdownloadheadless exit status %s" % rc)
        st = gw.state()
        H.check(tcp not in st["mappings"] and udp not in st["mappings"], "mappings left after exit: %s" % st["mappings"])
        H.check(st["counts"].get("delete " + tcp) == 1 and st["counts"].get("delete " + udp) == 1,
                "DeletePortMapping calls: %s" % st["counts"])
        with open(me.proc.logpath, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        H.check("port mapping deleted (UPnP)" in text, "no 'port mapping deleted' line in the log")


if __name__ == "__main__":
    H.run_main(main)
