#!/usr/bin/env bash
# make demo: until the launcher exists, say what the demo will do and show the
# tools that already work on a generated sample.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/${BUILD:-build}/bin"
work=$(mktemp -d /tmp/btl-demo.XXXXXX)
echo "btlaunchmany demo (work directory: $work)"
echo "When the launcher lands, this will: make sample files, start bttrack and a seed on"
echo "loopback, open btlaunchmany on a watch directory and drop the torrents in one by one."
echo
head -c $((8 << 20)) /dev/urandom > "$work/sample.bin"
if [ -x "$BIN/btmakemetainfo" ] && [ -x "$BIN/btshowmetainfo" ]; then
  "$BIN/btmakemetainfo" http://127.0.0.1:6969/announce "$work/sample.bin" --target "$work/sample.torrent"
  "$BIN/btshowmetainfo" "$work/sample.torrent"
fi
rm -rf "$work"
