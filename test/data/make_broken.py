#!/usr/bin/env python3
"""Regenerates test/data/broken/: deliberately hostile or malformed .torrent
files.  test/test_metainfo.cpp maps every file here to the error message it
must produce, and fails if a file has no entry, so add both together."""
import os

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "broken")


def enc(v):
    """Bencode; dicts are encoded in insertion order so tests can make
    unsorted or duplicate-looking documents when they need to."""
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(enc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(enc(k) + enc(x) for k, x in sorted(v.items())) + b"e"
    raise TypeError(v)


PL = 16384
HASH = b"\x11" * 20


def single(**info_over):
    info = {"name": "file.bin", "piece length": PL, "length": 40000, "pieces": HASH * 3}
    info.update(info_over)
    return {"announce": "http://127.0.0.1:6969/announce", "info": info}


def multi(files, **info_over):
    total = sum(f["length"] for f in files if isinstance(f.get("length"), int))
    n = max(1, min(64, (total + PL - 1) // PL))  # capped: huge totals are refused before pieces
    info = {"name": "dir", "piece length": PL, "files": files, "pieces": HASH * n}
    info.update(info_over)
    return {"announce": "http://127.0.0.1:6969/announce", "info": info}


def drop(d, key):
    d = dict(d)
    d["info"] = dict(d["info"])
    del d["info"][key]
    return d


cases = {
    "truncated.torrent": enc(single())[:-30],
    "deep_nesting.torrent": b"d4:info" + b"l" * 500 + b"e" * 500 + b"e",
    "not_a_dict.torrent": enc(["announce", "info"]),
    "missing_info.torrent": enc({"announce": "http://127.0.0.1:6969/announce"}),
    "info_not_dict.torrent": enc({"info": "x"}),
    "duplicate_keys.torrent": b"d4:infod6:lengthi1e6:lengthi2eee",
    "trailing_data.torrent": enc(single()) + b"junk",
    "piece_length_zero.torrent": enc(single(**{"piece length": 0})),
    "piece_length_huge.torrent": enc(single(**{"piece length": 1 << 40})),
    "negative_length.torrent": enc(single(length=-5)),
    "negative_file_length.torrent": enc(multi([{"length": 10, "path": ["a"]}, {"length": -1, "path": ["b"]}])),
    "huge_length.torrent": enc(single(length=(1 << 62))),
    "overflow_total.torrent": enc(multi([{"length": (1 << 62), "path": [c]} for c in "abcd"])),
    "pieces_not_multiple.torrent": enc(single(pieces=b"x" * 61)),
    "pieces_too_few.torrent": enc(single(pieces=HASH * 2)),
    "pieces_too_many.torrent": enc(single(pieces=HASH * 4)),
    "missing_pieces.torrent": enc(drop(single(), "pieces")),
    "missing_name.torrent": enc(drop(single(), "name")),
    "missing_piece_length.torrent": enc(drop(single(), "piece length")),
    "no_length_no_files.torrent": enc(drop(single(), "length")),
    "length_and_files.torrent": enc(single(files=[{"length": 1, "path": ["a"]}])),
    "empty_files.torrent": enc(multi([])),
    "zero_total.torrent": enc(single(length=0, pieces=b"")),
    "dotdot_path.torrent": enc(multi([{"length": 40000, "path": ["..", "..", "etc", "passwd"]}])),
    "dotdot_name.torrent": enc(single(name="..")),
    "empty_name.torrent": enc(single(name="")),
    "absolute_path.torrent": enc(multi([{"length": 40000, "path": ["/etc", "passwd"]}])),
    "absolute_name.torrent": enc(single(name="/etc/passwd")),
    "backslash_path.torrent": enc(multi([{"length": 40000, "path": ["..\\..\\windows", "x"]}])),
    "nul_path.torrent": enc(multi([{"length": 40000, "path": [b"a\x00b"]}])),
    "control_char_path.torrent": enc(multi([{"length": 40000, "path": [b"a\x1bb"]}])),
    "empty_path.torrent": enc(multi([{"length": 40000, "path": ["", "."]}])),
    "path_not_list.torrent": enc(multi([{"length": 40000, "path": "a/b"}])),
    "file_no_length.torrent": enc(multi([{"path": ["a"]}])),
    # '..' after a harmless element: a check of only the first element misses it.
    "dotdot_middle.torrent": enc(multi([{"length": 40000, "path": ["a", "b", "..", "..", "..", "x"]}])),
    "dot_name.torrent": enc(single(name=".")),
    "backslash_name.torrent": enc(single(name="..\\..\\x.bin")),
    "nul_name.torrent": enc(single(name=b"file\x00.bin")),
    # Symlink-like: a /proc path that would resolve through the process's own links.
    "symlinkish_path.torrent": enc(multi([{"length": 40000, "path": ["sub", "/proc/self/cwd/x"]}])),
    # One more file than the parser accepts (the entries are empty lists: the
    # count is refused before any entry is looked at, and the file stays small).
    "huge_file_count.torrent": (b"d8:announce30:http://127.0.0.1:6969/announce4:infod5:filesl"
                                + b"le" * 1_000_001 + b"e4:name3:dir12:piece lengthi16384e6:pieces20:"
                                + HASH + b"ee"),
    # Two lengths that are each valid but whose sum passes INT64_MAX.
    "overflow_two_files.torrent": enc(multi([{"length": (1 << 63) - 1, "path": ["a"]}, {"length": 1, "path": ["b"]}])),
}

os.makedirs(out, exist_ok=True)
for old in os.listdir(out):
    os.remove(os.path.join(out, old))
for name, data in sorted(cases.items()):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print("wrote %d files to %s" % (len(cases), out))
