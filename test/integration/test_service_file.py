#!/usr/bin/python3
"""contrib/btlaunchmany.service is a unit systemd accepts: `systemd-analyze
verify` on it (the binary path pointed at this build, the user made root
since the test machine has no `btl` user) reports nothing, and its
ExecStart keeps the engine in the foreground (`--display plain`, Type=simple)
with a --data_dir, so `btlaunchmany --attach --data_dir DIR` finds rpc.sock."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    launcher = os.path.join(H.btl_bin_dir(), "btlaunchmany")
    with H.Workspace("service-file", timeout=60) as ws:
        text = open(os.path.join(ROOT, "contrib", "btlaunchmany.service")).read()
        H.check("Type=simple" in text, "the unit is not Type=simple")
        exec_line = next(l for l in text.splitlines() if l.startswith("ExecStart="))
        H.check("--display plain" in exec_line and "--data_dir" in exec_line,
                "ExecStart must run in the foreground with a data dir: %s" % exec_line)
        text = text.replace("/usr/local/bin/btlaunchmany", os.path.abspath(launcher))
        text = text.replace("User=btl", "User=root").replace("Group=btl", "Group=root")
        text = "\n".join(l for l in text.splitlines() if not l.startswith("Documentation="))
        unit = ws.path("btlaunchmany.service")
        with open(unit, "w") as f:
            f.write(text + "\n")
        r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True, timeout=30)
        out = (r.stdout + r.stderr).strip()
        H.check(r.returncode == 0 and not out, "systemd-analyze verify: rc %d: %s" % (r.returncode, out))


if __name__ == "__main__":
    H.run_main(main)
