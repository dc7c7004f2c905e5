"""The fake home router (fake_gateway.py) as the port-mapping tests run it:
started inside the test's own namespace, its table and call counts read
back from the JSON state file it keeps."""
import json
import os
import sys

import btl_harness as H

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_gateway.py")


class Gateway:
    def __init__(self, ws, inside, ip, args):
        """args: the protocol and its options (["--upnp", "--external", X]...)."""
        self.ws, self.inside, self.ip, self.args = ws, inside, ip, list(args)
        self.state_path = ws.path("gw.json")
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        name = "gateway" if self.starts == 1 else "gateway%d" % self.starts
        self.proc = self.ws.start(name, self.inside + [sys.executable, SCRIPT, "--ip", self.ip,
                                                       "--state", self.state_path] + self.args)
        H.wait_until(lambda: os.path.exists(self.state_path), 10, "the fake gateway to start", procs=[self.proc])
        return self

    def restart_empty(self):
        """Kills the gateway and starts another with an empty table."""
        self.proc.kill_group()
        os.unlink(self.state_path)
        return self.start()

    def state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def count(self, key):
        return self.state().get("counts", {}).get(key, 0)

    def mappings_of(self, keys):
        """The gateway's mappings if every key in keys ("TCP:port") is mapped, else None."""
        m = self.state().get("mappings", {})
        return m if all(k in m for k in keys) else None
