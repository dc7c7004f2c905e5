#!/usr/bin/env python3
"""Writes the seed corpora for the fuzz targets into test/fuzz/corpus/NAME/.

Seeds are small, realistic inputs: the torrents from test/data, tracker
answers in the shapes opentracker, bttrack and public trackers send, peer
message streams as libtorrent and aria2 send them, requests as real clients
send them, resume files as the engine writes them.  Each target's input
layout (flag bytes before the payload) is described in its source file.
Re-running the script rewrites the corpus (deterministically).
"""
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from btl_harness import bencode as benc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
OUT = os.path.join(HERE, "corpus")




def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def torrents(kind):
    d = os.path.join(DATA, kind)
    return [(n, open(os.path.join(d, n), "rb").read()) for n in sorted(os.listdir(d))]


HASH = bytes(range(0xA0, 0xB4))
PEER_ID = b"-LT2080-abcdefghijkl"


def bencode_corpus():
    seeds = {
        "int": b"i42e",
        "int_min": b"i-9223372036854775808e",
        "int_max": b"i9223372036854775807e",
        "empty_string": b"0:",
        "string": b"4:spam",
        "list": b"l4:spami42ee",
        "nested": b"lli1eeld1:ai2eee",
        "dict": b"d3:bar4:spam3:fooi42ee",
        "unsorted_dict": b"d3:fooi42e3:bar4:spame",
        "empty_containers": b"d0:le1:ade1:bi0ee",
        "binary_key": benc({b"\x00\xff": b"\x01\x02"}),
        "duplicate_key": b"d1:ai1e1:ai2ee",
        "leading_zero": b"i03e",
        "truncated": b"d4:spaml",
    }
    for n, b in seeds.items():
        write("bencode", n, b)
    write("bencode", "torrent", torrents("good")[0][1])


def metainfo_corpus():
    for n, b in torrents("good"):
        write("metainfo", n, b)
    for n, b in torrents("broken"):
        if n in ("duplicate_keys.torrent", "dotdot_path.torrent", "overflow_total.torrent",
                 "pieces_too_few.torrent", "control_char_path.torrent", "empty_path.torrent"):
            write("metainfo", n, b)
    # Collisions, pad files, invalid UTF-8, announce-list tiers, url-list.
    files = [
        {"length": 3, "path": ["a", "b"]},
        {"length": 5, "path": ["a", "b"]},
        {"length": 0, "path": ["a"]},
        {"length": 7, "path": [".pad", "7"], "attr": "p"},
        {"length": 9, "path": ["\xe9t\xe9".encode("latin-1"), ".", "", "c"]},
    ]
    total = sum(f["length"] for f in files)
    info = {"name": "dir", "piece length": 16, "files": files, "pieces": b"\x11" * 20 * ((total + 15) // 16)}
    write("metainfo", "collisions_pad_utf8",
          benc({"announce": "http://127.0.0.1:6969/announce",
                "announce-list": [["udp://127.0.0.1:6969"], ["http://a/announce", "http://b/announce"]],
                "url-list": ["http://example.com/"], "comment": "c", "created by": "x",
                "creation date": 1700000000, "info": info}))


def msg(mid, payload=b""):
    return struct.pack(">IB", len(payload) + 1, mid) + payload


def peer_stream_corpus():
    def seed(name, body, chunks=(), flags=0, peer_id=None):
        head = bytes([flags | len(chunks) | (0x10 if peer_id else 0)])
        write("peer_stream", name, head + (peer_id or b"") + bytes(chunks) + body)

    keepalive = b"\0\0\0\0"
    simple = b"".join(msg(i) for i in (1, 2, 3, 0))
    bitfield = msg(5, b"\xff\xfe\x80")
    haves = msg(4, struct.pack(">I", 3)) + msg(4, struct.pack(">I", 17))
    req = msg(6, struct.pack(">III", 1, 16384, 16384))
    cancel = msg(8, struct.pack(">III", 1, 16384, 16384))
    piece = msg(7, struct.pack(">II", 1, 0) + bytes(range(64)))
    ext = msg(20, b"\0" + benc({"m": {"ut_metadata": 2, "ut_pex": 1}, "v": "libtorrent 2.0.8", "reqq": 500}))
    fast = msg(14) + msg(17, struct.pack(">I", 5)) + msg(13, struct.pack(">I", 9)) + \
        msg(16, struct.pack(">III", 2, 0, 16384))
    port = msg(9, struct.pack(">H", 6881))
    seed("libtorrent_session", ext + bitfield + simple + haves + req + piece + cancel + keepalive)
    seed("aria2_have_none_then_bitfield", msg(15) + msg(2) + bitfield + haves, chunks=(1, 7, 200))
    seed("fast_extension", fast + port, chunks=(3,))
    seed("byte_by_byte", bitfield + req + piece, chunks=(1,))
    seed("odd_peer_id", simple, peer_id=b"\x00\xffM4-3-6--\x01\x7f" + b"A" * 9, chunks=(5, 0))
    seed("oversized_length", struct.pack(">I", 0x7fffffff) + b"\x07")
    seed("unknown_id", msg(99, b"xyz"))
    seed("wrong_fixed_length", msg(4, b"\0\0\0\1\2"))
    seed("partial_piece", msg(7, struct.pack(">II", 0, 0) + b"x" * 100)[:60], chunks=(13,))


def http_tracker_corpus():
    peers = bytes([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0x1a, 0xe2, 192, 168, 1, 1, 0, 0])
    peers6 = bytes(15) + b"\x01" + b"\x1a\xe1"
    seeds = {
        # opentracker's compact answer
        "opentracker": benc({"complete": 1, "incomplete": 2, "interval": 1800, "min interval": 900,
                             "peers": peers, "downloaded": 3}),
        "opentracker_v6": benc({"complete": 0, "incomplete": 1, "interval": 1800, "peers": b"",
                                "peers6": peers6}),
        # BEP 3 dictionary peers (bttrack without compact=1)
        "dict_peers": benc({"interval": 1800, "peers": [
            {"ip": "10.1.2.3", "peer id": PEER_ID, "port": 6881},
            {"ip": "2001:db8::1", "port": 51413},
            {"ip": "tracker.example.com", "port": 1},
            {"ip": "1.2.3.4", "port": 0}]}),
        "failure": benc({"failure reason": "torrent not registered\x07"}),
        "warning_tracker_id": benc({"interval": 5, "warning message": "slow down", "tracker id": "abc",
                                    "peers": b""}),
        "scrape": benc({"files": {HASH: {"complete": 5, "downloaded": 50, "incomplete": 10},
                                  b"short": {"complete": 1}}}),
        "scrape_failure": benc({"failure reason": "scrape disabled"}),
        "html_error_page": b"<html><body>502 Bad Gateway</body></html>",
    }
    for i, (n, b) in enumerate(sorted(seeds.items())):
        write("http_tracker", n, bytes([i % 4]) + b)


def udp_tracker_corpus():
    def w(name, flags, pkt):
        write("udp_tracker", name, bytes([flags]) + pkt)

    w("connect", 0, struct.pack(">IIQ", 0, 0x1234, 0x41727101980))
    w("announce_v4", 0, struct.pack(">IIIII", 1, 7, 1800, 2, 1) +
      bytes([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 9, 0, 0, 8, 8, 8, 8, 0xff, 0xff]))
    w("announce_v6", 1, struct.pack(">IIIII", 1, 7, 20, 0, 1) + bytes(15) + b"\x01\x1a\xe1")
    w("announce_capped", 4, struct.pack(">IIIII", 1, 7, 0xffffffff, 0, 0) +
      b"".join(bytes([10, 0, 0, i, 0, 80]) for i in range(1, 9)))
    w("scrape", 0, struct.pack(">II", 2, 9) + struct.pack(">III", 5, 50, 10) * 2)
    w("error", 0, struct.pack(">II", 3, 9) + b"Connection ID missmatch.\n")
    w("short", 0, b"\0\0\0\1\0\0")


def http_request_corpus():
    q = ("info_hash=%A0%A1%A2%A3%A4%A5%A6%A7%A8%A9%AA%AB%AC%AD%AE%AF%B0%B1%B2%B3"
         "&peer_id=-LT2080-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=1048576")
    seeds = {
        "libtorrent_announce": "GET /announce?%s&corrupt=0&key=7a1b2c3d&event=started&numwant=200"
        "&compact=1&no_peer_id=1 HTTP/1.1\r\nHost: 127.0.0.1:6969\r\nUser-Agent: libtorrent/2.0.8.0\r\n"
        "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n" % q,
        "aria2_announce": "GET /announce?%s&compact=1&key=abc&numwant=50&supportcrypto=1"
        "&event=completed HTTP/1.1\r\nUser-Agent: aria2/1.36.0\r\nAccept: */*\r\n"
        "Host: 127.0.0.1:6969\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n" % q,
        "btlaunchmany_http10": "GET /announce?%s&ip=10.0.0.5&event=stopped HTTP/1.0\r\n"
        "Host: 127.0.0.1\r\nUser-Agent: btlaunchmany/0.1\r\n\r\n" % q,
        "keepalive_pipeline": "GET /announce?%s HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /scrape?info_hash=%%A0%%A1%%A2%%A3%%A4%%A5%%A6%%A7%%A8%%A9%%AA%%AB%%AC%%AD%%AE%%AF%%B0%%B1%%B2%%B3"
        " HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n" % q,
        "full_scrape_head": "\r\nHEAD /scrape HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"
        "GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "absolute_form": "GET http://tracker.example:6969/announce?%s&event=bogus HTTP/1.1\r\n\r\n" % q,
        "post_with_body": "POST /announce HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        "bad_version": "GET / HTTP/2.0\r\n\r\n",
        "obs_fold": "GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n",
    }
    for i, (n, s) in enumerate(sorted(seeds.items())):
        chunks = [(1,), (), (7, 40), (0,)][i % 4]
        flags = len(chunks) | ((i % 4) << 4)
        write("http_request", n, bytes([flags]) + bytes(chunks) + s.encode())


def resume_corpus():
    def rd(pieces, have, files, **kw):
        d = {"version": 1, "info-hash": HASH, "pieces": pieces, "have": have,
             "files": files, "uploaded": 0, "downloaded": 0, "save-path": "/srv/downloads",
             "added": 1700000000, "completed": 0, "paused": 0}
        d.update(kw)
        return benc(d)

    write("resume", "complete", rd(16, b"\xff\xff", [[262144, 1700000000123456789]],
                                   completed=1700000100, downloaded=262144))
    write("resume", "partial_multi", rd(11, b"\xf0\xa0", [[100000, 1], [0, 2], [-1, 0], [80000, 3]],
                                        uploaded=5, paused=1))
    write("resume", "empty", rd(0, b"", []))
    write("resume", "spare_bits", rd(3, b"\xff", [[5, 5]]))
    write("resume", "bad_version", rd(1, b"\x80", [[1, 1]], version=3))
    # Version 2: [size, mtime, synced] per file and the saving boot's id.
    write("resume", "v2_unsynced", rd(3, b"\xa0", [[12, 1700000000123456789, 0], [-1, 0, 1],
                                                  [40, 1700000001000000000, 1]],
                                      version=2, downloaded=4096,
                                      **{"boot-id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "save-path": "/srv/dl"}))
    write("resume", "unicode_path", rd(2, b"\xc0", [[10, 10], [20, 20]], **{"save-path": "/home/\xfc/dl"}))


def tracker_state_corpus():
    now = 1700000000
    peer = {"id": PEER_ID, "ip": bytes([127, 0, 0, 2]), "port": 6881, "seed": 0, "seen": now - 10}
    seed6 = {"id": b"-BL0100-" + b"x" * 12, "ip": bytes(15) + b"\x01", "key": 12345, "port": 51413,
             "seed": 1, "seen": now}
    stale = dict(peer, id=b"-TR3000-" + b"y" * 12, seen=now - 100000)
    write("tracker_state", "two_swarms", benc({"version": 1, "torrents": {
        HASH: {"downloaded": 3, "peers": [peer, seed6, stale]},
        bytes(20): {"downloaded": 1, "peers": []}}}))
    write("tracker_state", "empty", benc({"version": 1, "torrents": {}}))
    write("tracker_state", "bad_peer", benc({"version": 1, "torrents": {
        HASH: {"downloaded": 0, "peers": [dict(peer, port=0)]}}}))
    write("tracker_state", "duplicate_peer", benc({"version": 1, "torrents": {
        HASH: {"downloaded": 0, "peers": [peer, peer]}}}))
    # BEP 7: a peer's second endpoint in the other family.
    alt = dict(peer, **{"alt ip": bytes.fromhex("20010db8" + "00" * 11 + "01"), "alt port": 6882})
    write("tracker_state", "alt_endpoint", benc({"version": 1, "torrents": {
        HASH: {"downloaded": 0, "peers": [alt]}}}))
    write("tracker_state", "alt_same_family", benc({"version": 1, "torrents": {
        HASH: {"downloaded": 0, "peers": [dict(alt, **{"alt ip": bytes([10, 0, 0, 1])})]}}}))


def announce_query_corpus():
    # byte 0: bits 0-1 the connection's address, bit 2 honour ip=, bit 3 honour ipv6=/ipv4=
    base = "info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14" \
           "&peer_id=AAAAAAAAAAAAAAAAAAAA"
    seeds = {
        "ipv6_bare": (8, "&port=6881&compact=1&ipv6=2001%3adb8%3a%3a1"),
        "ipv6_endpoint": (8, "&port=6881&compact=1&ipv6=%5b2001%3adb8%3a%3a1%5d%3a7000"),
        "ipv4_over_v6": (10, "&port=6881&ipv4=198.51.100.4%3a7004&left=0"),
        "local_lan": (13, "&port=1&compact=1&ipv6=fd00%3a%3a1&ip=10.0.0.1"),
        "bad_values": (8, "&port=1&ipv6=[::1]:0&ipv6=ff02::1"),
    }
    for name, (mode, q) in seeds.items():
        write("announce_query", name, bytes([mode]) + (base + q).encode())


def mse_corpus():
    # flags: bit 0 initiator, bit 1 scripted (our other end answers, the
    # input mutates it), bits 2-3 crypto we accept, bit 4 prefer plain.
    def w(name, flags, chunk, rest=b""):
        write("mse", name, bytes([flags, chunk]) + rest)
    w("responder_scripted", 0x02, 255)
    w("initiator_scripted", 0x03, 255)
    w("responder_bytewise", 0x02, 0)
    w("initiator_plain_pref", 0x03 | (1 << 2) | 0x10, 31)
    w("responder_rc4_only", 0x02 | (2 << 2), 63)
    w("responder_flip_vc", 0x02, 255, bytes([0x00, 96 + 40, 0x01]))
    w("initiator_flip_select", 0x03, 255, bytes([0x00, 96 + 20, 0x80]))
    w("responder_zero_key", 0x00, 255, bytes(96))
    w("responder_no_req1", 0x00, 127, bytes(range(256)) * 3)
    w("initiator_garbage", 0x01, 255, bytes((i * 37) & 0xff for i in range(700)))
def utp_packet(ptype, conn_id, seq, ack, wnd=1 << 20, ts=1000, tsdiff=0, sack=b"", payload=b""):
    head = struct.pack(">BBHIIIHH", ptype << 4 | 1, 1 if sack else 0, conn_id, ts, tsdiff, wnd, seq, ack)
    if sack:
        head += bytes([0, len(sack)]) + sack
    return head + payload


def utp_records(*pkts):
    return b"".join(struct.pack(">H", len(p)) + p for p in pkts)


def utp_corpus():
    # Records of (2-byte length, datagram): a SYN, then what a dialler sends.
    syn = utp_packet(4, 7000, 1, 0)
    write("utp", "syn_only", utp_records(syn))
    write("utp", "syn_data", utp_records(syn, utp_packet(0, 7000, 2, 99, payload=b"\x13BitTorrent protocol")))
    write("utp", "syn_sack", utp_records(syn, utp_packet(2, 7000, 2, 99, sack=b"\x05\x00\x00\x00"),
                                         utp_packet(0, 7000, 4, 99, payload=b"x" * 100),
                                         utp_packet(0, 7000, 2, 99, payload=b"y" * 1400)))
    write("utp", "syn_fin", utp_records(syn, utp_packet(0, 7000, 2, 99, payload=b"abc"), utp_packet(1, 7000, 3, 99)))
    write("utp", "syn_zero_window", utp_records(syn, utp_packet(2, 7000, 2, 99, wnd=0),
                                                utp_packet(2, 7000, 2, 99, wnd=0)))
    write("utp", "reset", utp_records(syn, utp_packet(3, 7000, 2, 99)))
    write("utp", "bad_ack", utp_records(syn, utp_packet(2, 7000, 2, 40000), utp_packet(0, 7001, 2, 99, payload=b"z")))
    write("utp", "bad_ext", utp_records(b"\x01\x02" + syn[2:] + b"\x00\xff"))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    bencode_corpus()
    metainfo_corpus()
    peer_stream_corpus()
    http_tracker_corpus()
    udp_tracker_corpus()
    http_request_corpus()
    resume_corpus()
    tracker_state_corpus()
    announce_query_corpus()
    mse_corpus()
    utp_corpus()


if __name__ == "__main__":
    main()
