"""Runs a test inside a network namespace it makes itself (unshare -n, as
root), so nothing it sends reaches the host's network: loopback carries
every address given (10.77.0.x), multicast is routed to loopback (SSDP,
LSD), and the default route points at a gateway address (NAT-PMP asks the
default gateway)."""
import os
import subprocess
import sys

import btl_harness as H

MARK = "BTL_IN_NETNS"


def reexec():
    """Re-executes the calling script under `unshare -n` (once): returns
    only inside the new namespace."""
    if os.environ.get(MARK) != "1":
        env = dict(os.environ, **{MARK: "1"})
        os.execvpe("unshare", ["unshare", "-n", sys.executable] + sys.argv, env)


def enter(addresses, gateway=None):
    """Re-executes the calling script in a namespace of its own, then sets
    up loopback there with `addresses`, multicast routed to it."""
    reexec()
    cmds = [["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "lo", "multicast", "on"]]
    cmds += [["ip", "addr", "add", "%s/24" % a, "dev", "lo"] for a in addresses]
    cmds += [["ip", "route", "add", "239.0.0.0/8", "dev", "lo"]]
    if gateway:
        cmds += [["ip", "route", "add", "default", "via", gateway, "dev", "lo", "onlink"]]
    for c in cmds:
        r = subprocess.run(c, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise H.Fail("network namespace setup: %s: %s" % (" ".join(c), (r.stderr or r.stdout).strip()))
    # Only the namespace's own interfaces exist: nothing can leave the host.
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, timeout=10).stdout
    H.check(all(": lo:" in l for l in links.strip().splitlines()), "unexpected interfaces in the namespace: %s" % links)


def _run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise H.Fail("network setup: %s: %s" % (" ".join(cmd), (r.stderr or r.stdout).strip()))


def enter_with_router(ws, me, router):
    """A home network: this process in a namespace with address `me` on
    veth0, and a second namespace (the router's, held open by a sleeping
    child) with `router` on veth1, the default gateway.  Multicast goes out
    veth0.  Returns argv to prefix a command with to run it in the router's
    namespace.  Both namespaces are the test's own; they die with it."""
    H.check(os.environ.get(MARK) == "1", "call netns_util.reexec() first")
    holder = subprocess.Popen(["unshare", "-n", "sleep", "3600"])
    ws.add_cleanup(lambda: (holder.kill(), holder.wait()))
    inside = ["nsenter", "-t", str(holder.pid), "-n"]
    for _ in range(100):  # unshare has switched namespaces once its veth peer can move in
        if os.readlink("/proc/%d/ns/net" % holder.pid) != os.readlink("/proc/self/ns/net"):
            break
        import time
        time.sleep(0.02)
    _run(["ip", "link", "set", "lo", "up"])
    _run(["ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", str(holder.pid)])
    _run(["ip", "addr", "add", "%s/24" % me, "dev", "veth0"])
    _run(["ip", "link", "set", "veth0", "up"])
    _run(inside + ["ip", "link", "set", "lo", "up"])
    _run(inside + ["ip", "addr", "add", "%s/24" % router, "dev", "veth1"])
    _run(inside + ["ip", "link", "set", "veth1", "up"])
    _run(inside + ["ip", "route", "add", "239.0.0.0/8", "dev", "veth1"])
    _run(["ip", "route", "add", "239.0.0.0/8", "dev", "veth0"])
    _run(["ip", "route", "add", "default", "via", router])
    return inside
