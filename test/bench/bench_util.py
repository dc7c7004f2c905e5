"""Helpers shared by the benchmark scripts in test/bench (not a benchmark:
run_bench.sh skips this file).

Sizes from the environment, seed data made once and kept between
invocations (BENCH_DIR), piece hashes cached beside it so a torrent of a
1 GiB file is made without hashing the file again, whole-file SHA-1, the
page cache warmed before timing, the wait for seeders' announces, medians,
and the common exit path of a bench script (a scenario that could not run
is one line and exit status 1).
"""

import hashlib
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import btl_harness as H  # noqa: E402


def parse_size(text):
    """'256M', '1G', '1024' (MiB) -> bytes."""
    t = text.strip().upper().rstrip("IB").rstrip("B")
    mult = {"K": H.KiB, "M": H.MiB, "G": 1024 * H.MiB}
    if t and t[-1] in mult:
        return int(float(t[:-1]) * mult[t[-1]])
    return int(t) * H.MiB


def sha1_file(path):
    """SHA-1 (hex) of a whole file, read in 8 MiB chunks."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while True:
            b = f.read(8 * H.MiB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def warm_page_cache(path):
    """Reads the file once so that timed runs read it from memory."""
    with open(path, "rb") as f:
        while f.read(16 * H.MiB):
            pass


def ensure_data(path, size, seed):
    """Makes `path` (size random bytes from `seed`) unless a file of that
    size is there already.  True when it was made."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    H.log("generating %s (%d MiB)" % (path, size // H.MiB))
    H.write_random_file(path, size, seed)
    return True


def cached_hashes(data, piece, prefix):
    """(piece SHA-1 digests, whole-file SHA-1 hex) of `data` at `piece`
    bytes, from PREFIX.pieces and PREFIX.sha1 when they are not older than
    the data, else computed in one read of the file and saved there."""
    pieces_path, whole_path = prefix + ".pieces", prefix + ".sha1"
    fresh = all(os.path.exists(p) and os.path.getmtime(p) >= os.path.getmtime(data)
                for p in (pieces_path, whole_path))
    if fresh:
        with open(pieces_path, "rb") as f:
            ph = f.read()
        with open(whole_path) as f:
            whole = f.read().strip()
    else:
        parts, wh = [], hashlib.sha1()
        with open(data, "rb") as f:
            while True:
                b = f.read(piece)
                if not b:
                    break
                parts.append(hashlib.sha1(b).digest())
                wh.update(b)
        ph, whole = b"".join(parts), wh.hexdigest()
        os.makedirs(os.path.dirname(os.path.abspath(pieces_path)), exist_ok=True)
        with open(pieces_path, "wb") as f:
            f.write(ph)
        with open(whole_path, "w") as f:
            f.write(whole)
    return [ph[i:i + 20] for i in range(0, len(ph), 20)], whole


def make_torrent_from_hashes(data, piece, hashes, out, announce):
    """A v1-only single-file torrent of `data` from known piece hashes (no
    re-hash of the file); returns its info-hash (hex)."""
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, data)
    ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
    H.check(ct.num_pieces() == len(hashes), "piece hash cache is stale")
    for i, h in enumerate(hashes):
        ct.set_hash(i, h)
    ct.add_tracker(announce)
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return str(lt.torrent_info(out).info_hash())


def wait_announced(tracker, info_hash, seeders, timeout, what, procs=()):
    """Waits until the tracker counts `seeders` complete peers."""
    H.wait_until(lambda: tracker.scrape(info_hash).get("complete", 0) >= seeders, timeout,
                 what, interval=0.2, procs=list(procs))


def median(rs, key):
    """The median of r[key] over the runs rs."""
    return statistics.median(r[key] for r in rs)


def run_main(name, main):
    """Exits with main()'s status; a scenario that could not run at all
    (H.Fail, a timeout, ^C) prints one line and exits 1."""
    try:
        sys.exit(main())
    except (H.Fail, TimeoutError, KeyboardInterrupt) as e:
        print("%s: could not run: %s" % (name, e))
        sys.exit(1)
