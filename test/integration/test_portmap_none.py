#!/usr/bin/env python3
"""No gateway answers: in network namespaces the test makes itself (a router
namespace on 10.77.0.1 where nothing listens, our client on 10.77.0.2),
btlaunchmany with --upnp 1 --natpmp 1 keeps running, says "port P not
mapped: <reason>" naming both methods in --status_json, and still exits
promptly on SIGTERM (no mapping to delete, nothing waited for).  With both
off the status says "not mapped: off".
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402
import netns_util  # noqa: E402

GW, ME = "10.77.0.1", "10.77.0.2"


def main():
    netns_util.reexec()
    L.launcher_path()
    with H.Workspace("portmap-none", timeout=60) as ws:
        netns_util.enter_with_router(ws, ME, GW)
        watch = ws.mkdir("watch")
        for name, extra in (("on", ["--upnp", "1", "--natpmp", "1"]), ("off", [])):
            port = H.free_port(ME)
            btl = L.Launcher(ws, "btl-" + name, watch, ws.mkdir("out-" + name), ws.mkdir("data-" + name), ME, port,
                             extra=extra)
            if name == "on":
                doc = H.wait_until(lambda: "UPnP" in btl.doc().get("totals", {}).get("port_mapping", "")
                                   and btl.doc(), 15, "a reason why the port is not mapped", procs=[btl.proc])
                text = doc["totals"]["port_mapping"]
                H.log("status:", text)
                H.check(text.startswith("port %d not mapped: " % port), "port_mapping: %r" % text)
                H.check("NAT-PMP" in text, "the NAT-PMP failure is not named: %r" % text)
            else:
                doc = H.wait_until(lambda: btl.doc().get("totals", {}).get("port_mapping") and btl.doc(), 15,
                                   "the status document", procs=[btl.proc])
                H.check(doc["totals"]["port_mapping"] == "port %d not mapped: off" % port, "off: %r" % doc["totals"])
            t = time.monotonic()
            btl.proc.signal()
            rc = btl.proc.wait(15)
            H.check(rc == 0, "btlaunchmany exit status %s" % rc)
            H.check(time.monotonic() - t < 5, "exit took %.1f s" % (time.monotonic() - t))
            if name == "on":
                H.check("not mapped:" in btl.log_text(), "the log does not say why the port is not mapped")


if __name__ == "__main__":
    H.run_main(main)
