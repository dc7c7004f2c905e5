#!/usr/bin/python3
"""btlaunchmany against hostile .torrent files.

Two good torrents (a single file and an uneven multi-file tree) download
from libtorrent seeders while EVERY file of test/data/broken is dropped into
the watched directory, plus a valid torrent whose directory in the save dir
holds a symlink pointing outside it.  Asserts: each broken file gets an
error row (not loaded, state error) whose one-line message is the parser's
(what btshowmetainfo says for it) and, for the path attacks, names the bad
element; the symlinked torrent is an error row naming the symlink; the
process never exits; nothing appears or changes anywhere in the launcher's
world (its cwd, HOME, XDG dirs, the bait directory the symlink points to)
except the save dir, the data dir and the status file; the good torrents
finish byte-identical; SIGTERM exits 0.  Seeders 127.0.0.2, us 127.0.0.3."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import btl_harness as H  # noqa: E402
import launcher_util as L  # noqa: E402

PIECE = 32 * H.KiB
BROKEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "broken")

# What the message must name for the attacks on paths (beyond equality with
# the parser's own message, checked for every file).
NAMES = {
    "dotdot_path.torrent": "'..'", "dotdot_middle.torrent": "'..'", "dotdot_name.torrent": "'..'",
    "dot_name.torrent": "'.'", "absolute_path.torrent": "'/'", "absolute_name.torrent": "'/'",
    "backslash_path.torrent": "'\\'", "backslash_name.torrent": "'\\'", "nul_path.torrent": "NUL",
    "nul_name.torrent": "NUL", "symlinkish_path.torrent": "'/'", "control_char_path.torrent": "control",
    "huge_file_count.torrent": "1000001 files", "overflow_total.torrent": "overflows",
    "overflow_two_files.torrent": "overflows", "deep_nesting.torrent": "nesting",
}


def parser_message(path):
    r = subprocess.run([os.path.join(H.btl_bin_dir(), "btshowmetainfo"), path], capture_output=True, timeout=30)
    H.check(r.returncode != 0, "btshowmetainfo accepted broken %s" % path)
    line = r.stderr.decode("utf-8", "replace").strip()
    prefix = path + ": "
    H.check(line.startswith(prefix) and "\n" not in line, "unexpected btshowmetainfo output %r" % line)
    return line[len(prefix):]


def main():
    L.launcher_path()
    broken = sorted(n for n in os.listdir(BROKEN) if n.endswith(".torrent"))
    H.check(len(broken) >= 41, "only %d files in %s" % (len(broken), BROKEN))
    with H.Workspace("launcher-hostile", timeout=300) as ws:
        src = ws.mkdir("seed")
        tr = H.Tracker(ws)
        H.write_random_file(os.path.join(src, "single.bin"), 3 * H.MiB + 123, 301)
        H.make_tree(os.path.join(src, "tree"), H.uneven_layout(4 * H.MiB, PIECE, n_files=5, seed=302), seed=302)
        good = {}
        for name in ("single.bin", "tree"):
            t = ws.path(name + ".torrent")
            ih, _, _ = H.make_torrent(os.path.join(src, name), t, PIECE, tr.announce)
            good[name] = (t, ih)
        # Valid torrent whose files would be reached through a symlink.
        H.make_tree(os.path.join(src, "evil"), [("sub/x.bin", 100 * H.KiB), ("other.bin", 50 * H.KiB)], seed=303)
        evil_t = ws.path("evil.torrent")
        evil_ih, _, _ = H.make_torrent(os.path.join(src, "evil"), evil_t, PIECE, tr.announce)
        tr.start([ih for _, ih in good.values()] + [evil_ih])
        seed_ip = ws.next_ip()
        seeders = [H.LtPeer(ws, "lt-" + n, t, src, seed_ip, seed=True, upload_limit=1_000_000)
                   for n, (t, _) in good.items()]
        seeders.append(H.LtPeer(ws, "lt-evil", evil_t, src, seed_ip, seed=True))
        for s in seeders:
            s.wait_ready(30)

        # The launcher's whole world lives in `world`: cwd, HOME, XDG dirs,
        # watched dir, save dir, data dir, status file, and the bait that
        # the planted symlink points to.
        world = ws.mkdir("world")
        watch, out, data = ws.mkdir("world", "watch"), ws.mkdir("world", "out"), ws.mkdir("world", "data")
        home = ws.mkdir("world", "home")
        bait = ws.mkdir("world", "bait")
        shutil.copy(os.path.join(src, "evil", "sub", "x.bin"), os.path.join(bait, "x.bin"))
        with open(os.path.join(bait, "x.bin"), "r+b") as f:  # wrong data: a check would want to fix it
            f.write(b"\0" * 4096)
        os.makedirs(os.path.join(out, "evil"))
        os.symlink(bait, os.path.join(out, "evil", "sub"))
        status = os.path.join(world, "status.json")
        env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
               "XDG_STATE_HOME": os.path.join(home, ".state"), "XDG_CACHE_HOME": os.path.join(home, ".cache"),
               "TMPDIR": os.path.join(home, "tmp")}
        passwd_before = os.stat("/etc/passwd")
        before = L.snapshot(world, exclude=[out, data, status])

        ip = ws.next_ip()
        btl = L.Launcher(ws, "btl", watch, out, data, ip, H.free_port(ip), env=env, cwd=world, status_path=status)
        for name, (t, _) in good.items():
            shutil.copy(t, os.path.join(watch, name + ".torrent"))
        btl.wait(lambda r: all(r.get(n + ".torrent", {}).get("loaded") for n in good), 20, "the good rows")
        H.log("good torrents loaded; dropping %d broken files" % len(broken))
        for n in broken:
            shutil.copy(os.path.join(BROKEN, n), os.path.join(watch, n))
        shutil.copy(evil_t, os.path.join(watch, "evil.torrent"))
        dropped = set(broken) | {n + ".torrent" for n in good} | {"evil.torrent"}

        rows = btl.wait(lambda r: all(r.get(n, {}).get("state") == "error" for n in broken)
                        and r.get("evil.torrent", {}).get("state") == "error" and r,
                        60, "an error row for every broken file")
        for n in broken:
            row = rows[n]
            want = parser_message(os.path.join(BROKEN, n))
            H.check(row["loaded"] is False, "%s: loaded is %r" % (n, row["loaded"]))
            H.check(row["error"] == want, "%s: error row says %r, the parser says %r" % (n, row["error"], want))
            H.check("\n" not in row["error"] and row["error"], "%s: empty or multi-line error" % n)
            if n in NAMES:
                H.check(NAMES[n] in row["error"], "%s: %r does not name %s" % (n, row["error"], NAMES[n]))
        H.check(btl.doc().get("errors") == len(broken), "status 'errors' is %r, expected %d"
                % (btl.doc().get("errors"), len(broken)))
        ev = rows["evil.torrent"]
        H.log("evil.torrent row: %s" % ev["error"])
        H.check("symlink" in ev["error"] and "sub" in ev["error"], "the symlink row does not name the symlink: %r"
                % ev["error"])

        def all_done(r):
            return all(r.get(n + ".torrent", {}).get("state") == "seeding" for n in good)
        H.wait_until(lambda: all_done(btl.rows()), 120, "the good torrents to finish", procs=[btl.proc])
        for name in good:
            H.assert_same_data(os.path.join(src, name), os.path.join(out, name), name)
        H.check(btl.proc.poll() is None, "btlaunchmany exited")

        btl.proc.signal()
        rc = btl.proc.wait(30)
        H.check(rc == 0, "SIGTERM: exit %s, expected 0" % rc)

        after = L.snapshot(world, exclude=[out, data, status])
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
        expected_added = sorted(os.path.join("watch", n) for n in dropped)
        H.check(removed == [] and changed == [], "files outside the save dir changed: removed %s, changed %s"
                % (removed[:5], changed[:5]))
        H.check(added == expected_added, "unexpected new files outside the save/data dirs: %s"
                % sorted(set(added) - set(expected_added))[:10])
        left = sorted(n for n in os.listdir(world) if n.startswith("status.json"))
        H.check(left == ["status.json"], "status file leftovers: %s" % left)
        # The save dir holds the good downloads and the untouched symlink.
        H.check(os.path.islink(os.path.join(out, "evil", "sub")), "the planted symlink was replaced")
        H.check(sorted(os.listdir(out)) == ["evil", "single.bin", "tree"], "save dir holds %s" % os.listdir(out))
        # other.bin may have been downloaded (inside the save dir, harmless)
        # before the first write through the symlink failed.
        H.check(set(os.listdir(os.path.join(out, "evil"))) <= {"sub", "other.bin"}, "evil/ holds %s"
                % os.listdir(os.path.join(out, "evil")))
        pa = os.stat("/etc/passwd")
        H.check((pa.st_mtime_ns, pa.st_size) == (passwd_before.st_mtime_ns, passwd_before.st_size),
                "/etc/passwd changed")
        H.check(not os.path.exists(os.path.join(home, ".state")), "a state dir appeared in HOME although --data_dir was given")


if __name__ == "__main__":
    H.run_main(main)
