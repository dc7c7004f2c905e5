"""What the idle benches read from a running btlaunchmany without waking it
more than once per window: its CPU ticks (/proc), the DHT's datagram
counters (/metrics: the status file is not rewritten for them alone), and
how many times the status file was replaced (its inode and mtime change with
each atomic write)."""

import os
import re
import time
import urllib.request

HZ = os.sysconf("SC_CLK_TCK")
_PACKETS = re.compile(r'^btl_dht_packets_total\{direction="(in|out)"\} (\d+)$', re.M)


def cpu_ticks(pid):
    """utime + stime of every thread of pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def dht_packets(rpc_port, host="127.0.0.1"):
    """(in, out) DHT datagrams since start, from /metrics; (0, 0) with the
    DHT off; None when /metrics does not answer."""
    try:
        with urllib.request.urlopen("http://%s:%d/metrics" % (host, rpc_port), timeout=30) as r:
            text = r.read().decode("utf-8", "replace")
    except OSError:
        return None
    got = dict(_PACKETS.findall(text))
    return int(got.get("in", 0)), int(got.get("out", 0))


def _inode(path):
    try:
        st = os.stat(path)
        return st.st_ino, st.st_mtime_ns  # an inode number may be reused
    except OSError:
        return None


def window(pid, seconds, status_path=None, poll_s=0.25, touches=None):
    """Sleeps `seconds` while watching pid; returns (ticks, wall seconds,
    status file writes seen).  A write is a new inode at status_path
    (write_file_atomic renames a new file over it); an mtime moved on the
    same inode is a touch (an unchanged document shown alive), counted in
    touches[0] when a one-element list is given.  Polled every poll_s."""
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    last, writes = _inode(status_path) if status_path else None, 0
    while time.monotonic() - t0 < seconds:
        time.sleep(min(poll_s, max(0.0, seconds - (time.monotonic() - t0))))
        if status_path:
            ino = _inode(status_path)
            if ino is not None and ino != last:
                if last is not None and ino[0] == last[0]:
                    if touches is not None:
                        touches[0] += 1
                else:
                    writes += 1
                last = ino
    return cpu_ticks(pid) - c0, time.monotonic() - t0, writes


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if s else float("nan")
