#!/usr/bin/python3
"""Foundation tools against independent implementations.

(a) btmakemetainfo output loads in libtorrent with the info-hash that
    btshowmetainfo --json reports (single file and uneven directory);
(b) for the same data and piece size, mktorrent's `pieces` equals ours;
(c) btshowmetainfo on a broken + a good file: non-zero exit, exactly one
    stderr line naming the broken file, the good one still printed;
(d) btshowmetainfo on a mktorrent-made torrent prints libtorrent's info-hash.
Runs in a temporary directory it removes; needs BTL_BIN."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import libtorrent as lt

BIN = os.environ.get("BTL_BIN") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin")
MAKE = os.path.join(BIN, "btmakemetainfo")
SHOW = os.path.join(BIN, "btshowmetainfo")
TRACKER = "http://127.0.0.1:6969/announce"
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def show_json(path):
    r = run([SHOW, "--json", path])
    if r.returncode != 0:
        raise AssertionError("btshowmetainfo --json %s failed: %s" % (path, r.stderr.strip()))
    return json.loads(r.stdout.strip())


def lt_hash(path):
    return str(lt.torrent_info(path).info_hashes().v1)


def info_of(path):
    with open(path, "rb") as f:
        return lt.bdecode(f.read())[b"info"]


def main():
    tmp = tempfile.mkdtemp(prefix="btl_foundation_")
    try:
        rnd = random.Random(42)
        single = os.path.join(tmp, "single.bin")
        with open(single, "wb") as f:
            f.write(rnd.randbytes(3 * 1024 * 1024 + 12345))  # a few MiB, odd size
        tree = os.path.join(tmp, "tree")
        sizes = {"a.txt": 1, "b/c.bin": 1_000_001, "b/empty": 0, "b/d/e": 65_537, "B": 17, "z-last": 300_003}
        for rel, size in sizes.items():
            p = os.path.join(tree, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(rnd.randbytes(size))

        for src, pow2, expect_files in ((single, 16, 1), (tree, 15, len(sizes))):
            name = os.path.basename(src)
            ours = os.path.join(tmp, name + ".ours.torrent")
            theirs = os.path.join(tmp, name + ".mk.torrent")
            r = run([MAKE, TRACKER, src + ("/" if src == tree else ""), "--piece-size-pow2", str(pow2),
                     "--target", ours, "--comment", "made by \"test\"", "--no_date"])
            check(r.returncode == 0, "(a) btmakemetainfo %s exits 0 (stderr: %s)" % (name, r.stderr.strip()))
            check(r.stderr == "", "(a) btmakemetainfo %s prints no progress when stderr is not a terminal" % name)
            j = show_json(ours)
            h = lt_hash(ours)
            check(j["info_hash"] == h, "(a) %s: btshowmetainfo hash %s == libtorrent hash %s" % (name, j["info_hash"], h))
            ti = lt.torrent_info(ours)
            check(ti.num_files() == expect_files, "(a) %s: libtorrent sees %d files (want %d)" % (name, ti.num_files(), expect_files))
            check(ti.total_size() == j["total_length"], "(a) %s: total size agrees (%d)" % (name, ti.total_size()))
            check(ti.piece_length() == 1 << pow2, "(a) %s: piece length 2^%d" % (name, pow2))
            check(j["comment"] == 'made by "test"', "(a) %s: comment survives JSON escaping" % name)
            check(j["creation_date"] is None, "(a) %s: --no_date leaves out the date" % name)

            r = run(["mktorrent", "-d", "-l", str(pow2), "-a", TRACKER, "-o", theirs, src])
            check(r.returncode == 0, "(b) mktorrent %s exits 0 (%s)" % (name, r.stderr.strip()))
            a, b = info_of(ours), info_of(theirs)
            check(a[b"pieces"] == b[b"pieces"], "(b) %s: pieces equal to mktorrent's (%d vs %d bytes)"
                  % (name, len(a[b"pieces"]), len(b[b"pieces"])))
            check(a.get(b"files") == b.get(b"files"), "(b) %s: file list equal to mktorrent's" % name)
            check(a == b, "(b) %s: whole info dict equal to mktorrent's" % name)

        # Default target is PATH.torrent (no trailing slash), default piece size.
        r = run([MAKE, TRACKER, tree + "/"])
        check(r.returncode == 0 and os.path.exists(tree + ".torrent"), "(a) default target is PATH.torrent")
        if os.path.exists(tree + ".torrent"):
            check(lt_hash(tree + ".torrent") == show_json(tree + ".torrent")["info_hash"], "(a) default-options torrent hash agrees")

        # (c) broken + good in one call.
        broken = os.path.join(tmp, "broken.torrent")
        with open(broken, "wb") as f:
            f.write(b"d4:infod6:lengthi10e4:name2:..12:piece lengthi16384e6:pieces20:" + b"x" * 20 + b"ee")
        good = os.path.join(tmp, "single.bin.ours.torrent")
        r = run([SHOW, broken, good])
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode != 0, "(c) exit status non-zero with a broken file (got %d)" % r.returncode)
        check(len(lines) == 1 and lines[0].startswith(broken + ": "),
              "(c) exactly one stderr line naming the broken file: %r" % lines)
        check("info hash.....: " + lt_hash(good) in r.stdout, "(c) the good torrent is still shown")
        r = run([SHOW, "--json", good, broken])
        check(r.returncode == 1 and len(r.stdout.strip().splitlines()) == 1, "(c) --json: one object for the good file, exit 1")

        # (d) a torrent mktorrent made.
        mk = os.path.join(tmp, "tree.mk.torrent")
        r = run([SHOW, mk])
        check(r.returncode == 0, "(d) btshowmetainfo on mktorrent output exits 0")
        check("info hash.....: " + lt_hash(mk) in r.stdout, "(d) prints libtorrent's info-hash %s" % lt_hash(mk))
        check("directory name: tree" in r.stdout and "   b/d/e (65537)" in r.stdout, "(d) shows directory and file list")

        r = run([SHOW, "--help"])
        check(r.returncode == 0 and "usage" in r.stdout, "--help works")
        r = run([MAKE, "--help"])
        check(r.returncode == 0 and "--piece_size_pow2" in r.stdout, "btmakemetainfo --help works")
        r = run([MAKE, TRACKER, os.path.join(tmp, "missing")])
        check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, "btmakemetainfo on a missing path: one line, exit 1")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
