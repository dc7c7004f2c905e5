#!/usr/bin/env bash
# Announces per second on loopback: bttrack vs opentracker, same wrk load
# (1 thread, 50 connections, 10 s each).  Each request names one of 16 fixed
# info-hashes (opentracker's Debian build only serves whitelisted ones) with a
# random peer_id and port, so both trackers insert and look up peers.
# Usage: test/bench/bench_tracker.sh   (env: BTL_BIN, BENCH_SECONDS)
set -eu
cd "$(dirname "$0")/../.."
BIN="${BTL_BIN:-$PWD/build/bin}"
SECS="${BENCH_SECONDS:-10}"
for tool in wrk opentracker; do
  command -v "$tool" >/dev/null || { echo "bench_tracker: $tool is not installed" >&2; exit 1; }
done
[ -x "$BIN/bttrack" ] || { echo "bench_tracker: $BIN/bttrack not built" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

hashes=()
for i in $(seq 1 16); do hashes+=("$(printf 'bench%d' "$i" | sha1sum | cut -c1-40)"); done
printf '%s\n' "${hashes[@]}" > "$tmp/whitelist"

{
  echo 'local hashes = {'
  for h in "${hashes[@]}"; do echo "  \"$(echo "$h" | sed 's/../%&/g')\","; done
  echo '}'
  cat <<'LUA'
local hex = "0123456789abcdef"
local function rand_id()
  local t = {"-BN0001-"}
  for _ = 1, 12 do local n = math.random(1, 16); t[#t + 1] = hex:sub(n, n) end
  return table.concat(t)
end
request = function()
  local path = "/announce?info_hash=" .. hashes[math.random(1, #hashes)] ..
    "&peer_id=" .. rand_id() .. "&port=" .. math.random(1024, 65535) ..
    "&uploaded=0&downloaded=0&left=" .. math.random(0, 1) .. "&compact=1&numwant=50"
  return wrk.format("GET", path)
end
LUA
} > "$tmp/announce.lua"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
run_wrk() { wrk -t1 -c50 -d"${SECS}s" -s "$tmp/announce.lua" "http://127.0.0.1:$1" | tee "$tmp/wrk.$1" >&2
            awk '/Requests\/sec/ {print $2}' "$tmp/wrk.$1"; }

p1=$(free_port)
"$BIN/bttrack" --port "$p1" --bind 127.0.0.1 --dfile "$tmp/dfile" 2>/dev/null & pids+=($!)
wait_port "$p1"
bt=$(run_wrk "$p1")

p2=$(free_port)
opentracker -i 127.0.0.1 -p "$p2" -P "$p2" -w "$tmp/whitelist" >/dev/null 2>&1 & pids+=($!)
wait_port "$p2"
ot=$(run_wrk "$p2")

printf '\n%-12s %14s\n' tracker 'announces/s'
printf '%-12s %14.0f\n' bttrack "$bt" opentracker "$ot"
awk -v a="$bt" -v b="$ot" 'BEGIN { printf "ratio bttrack/opentracker: %.2f\n", a / b }'
