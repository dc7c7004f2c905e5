#!/usr/bin/python3
"""Regenerates test/data/good/: torrents made by tools we did not write
(mktorrent and libtorrent), over deterministic data.  Run with the Debian
python that has `import libtorrent`.  Prints each file's v1 info-hash as
libtorrent computes it; test/test_metainfo.cpp records those values."""
import os
import random
import shutil
import subprocess
import tempfile

import libtorrent as lt

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "good")
os.makedirs(out, exist_ok=True)
rnd = random.Random(20240601)
work = tempfile.mkdtemp()
try:
    single = os.path.join(work, "single.bin")
    with open(single, "wb") as f:
        f.write(rnd.randbytes(1_000_003))
    multi = os.path.join(work, "multi")
    os.makedirs(os.path.join(multi, "sub", "deeper"))
    for rel, size in [("a.txt", 17), ("sub/b.bin", 70_001), ("sub/deeper/c.bin", 200_000), ("z", 1)]:
        with open(os.path.join(multi, rel), "wb") as f:
            f.write(rnd.randbytes(size))

    def mk(args, name):
        subprocess.run(["mktorrent", "-d", "-a", "http://127.0.0.1:6969/announce", "-o",
                        os.path.join(out, name)] + args, check=True, stdout=subprocess.DEVNULL)

    for n in ("mktorrent_single.torrent", "mktorrent_multi.torrent"):
        if os.path.exists(os.path.join(out, n)):
            os.remove(os.path.join(out, n))
    mk(["-l", "16", single], "mktorrent_single.torrent")
    mk(["-l", "15", "-c", "multi comment", "-p", multi], "mktorrent_multi.torrent")

    def lt_make(path, name, flags, piece_size):
        fs = lt.file_storage()
        lt.add_files(fs, path)
        ct = lt.create_torrent(fs, piece_size, flags=flags)
        ct.add_tracker("udp://127.0.0.1:6969/announce", 0)
        ct.add_tracker("http://127.0.0.1:6969/announce", 1)
        ct.set_creator("libtorrent test data")
        lt.set_piece_hashes(ct, os.path.dirname(path))
        with open(os.path.join(out, name), "wb") as f:
            f.write(lt.bencode(ct.generate()))

    lt_make(single, "libtorrent_single.torrent", lt.create_torrent.v1_only, 32768)
    # Hybrid v1+v2 (libtorrent's default): exercises BEP 47 pad files.
    lt_make(multi, "libtorrent_multi.torrent", 0, 16384)
finally:
    shutil.rmtree(work)

for n in sorted(os.listdir(out)):
    ti = lt.torrent_info(os.path.join(out, n))
    print(n, str(ti.info_hashes().v1), ti.num_files(), ti.num_pieces(), ti.total_size())
