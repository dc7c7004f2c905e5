#!/usr/bin/env bash
# Times btmakemetainfo against mktorrent on a 1 GiB file (2^20 pieces,
# mktorrent with -t 2), 3 runs each from a warm page cache, and prints the
# medians and their ratio; then the in-process bencode and hashing rates from
# the unit tests named "*fast*".  The 1 GiB file is kept in /tmp for reuse.
# Usage: test/bench/bench_makemetainfo.sh   (env BUILD, BENCH_FILE, RUNS)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
BIN="$BUILD/bin"
FILE="${BENCH_FILE:-/tmp/btl_bench_1GiB.bin}"
RUNS="${RUNS:-3}"
SIZE=$((1 << 30))
for tool in "$BIN/btmakemetainfo" mktorrent; do
  command -v "$tool" >/dev/null || { echo "bench_makemetainfo: $tool not found" >&2; exit 1; }
done
if [ ! -f "$FILE" ] || [ "$(stat -c %s "$FILE")" -ne "$SIZE" ]; then
  echo "making $FILE ..."
  head -c "$SIZE" /dev/urandom > "$FILE.tmp" && mv "$FILE.tmp" "$FILE"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat "$FILE" > /dev/null  # warm the page cache: measure hashing, not the disk

# Runs alternate between the tools so background load hits both alike; CPU
# seconds (user+sys) are printed too because they barely depend on that load.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$out/ours.t"; : > "$out/theirs.t"
for _ in $(seq "$RUNS"); do
  rm -f "$out"/*.torrent
  /usr/bin/time -a -o "$out/ours.t" -f '%e %U %S' "$BIN/btmakemetainfo" http://127.0.0.1:6969/announce "$FILE" \
      --piece_size_pow2 20 --target "$out/ours.torrent" >/dev/null
  /usr/bin/time -a -o "$out/theirs.t" -f '%e %U %S' mktorrent -l 20 -t 2 -a http://127.0.0.1:6969/announce \
      -o "$out/mk.torrent" "$FILE" >/dev/null
done
wall() { awk '{print $1}' "$1" | median; }
cpu() { awk '{print $2 + $3}' "$1" | median; }
ours=$(wall "$out/ours.t"); theirs=$(wall "$out/theirs.t")
# The comparison is only fair if both hashed the same: same info-hash.
h1=$("$BIN/btshowmetainfo" "$out/ours.torrent" | sed -n 's/^info hash.....: //p')
h2=$("$BIN/btshowmetainfo" "$out/mk.torrent" | sed -n 's/^info hash.....: //p')
[ "$h1" = "$h2" ] && same="same info-hash" || same="DIFFERENT info-hash"
printf '%-16s %10s %10s %12s\n' tool "median s" "MB/s" "median cpu s"
printf '%-16s %10.3f %10.0f %12.2f\n' btmakemetainfo "$ours" "$(echo "$SIZE / 1000000 / $ours" | bc -l)" "$(cpu "$out/ours.t")"
printf '%-16s %10.3f %10.0f %12.2f\n' "mktorrent -t 2" "$theirs" "$(echo "$SIZE / 1000000 / $theirs" | bc -l)" "$(cpu "$out/theirs.t")"
printf 'speed-up over mktorrent (wall): %.2fx (%s)\n' "$(echo "$theirs / $ours" | bc -l)" "$same"
"$BUILD/test/unit" -tc='*fast*' 2>/dev/null | grep -E 'MB/s' || true
