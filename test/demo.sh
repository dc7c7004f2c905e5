#!/usr/bin/env bash
# make demo: the whole system working offline, on loopback only.
#
#   1. makes three sample torrents of random data in a work directory (a big
#      file, a directory of several files, a smaller file) with btmakemetainfo;
#   2. starts bttrack on 127.0.0.1 and one btdownloadheadless seed per torrent
#      on 127.0.0.2, each upload capped so the download is slow enough to watch;
#   3. runs btlaunchmany on a watch directory (bound to 127.0.0.3) and drops
#      the .torrent files into it one at a time;
#   4. on a terminal: the engine detached and the curses view attached to it;
#      d detaches (the engine keeps downloading, the demo attaches again),
#      q then y stops the engine;
#      without one (CI, `make demo </dev/null`): plain mode, ends by itself once
#      every torrent is seeding, checks the downloads byte for byte with cmp;
#   5. stops everything it started (also on Ctrl-C, SIGTERM, errors).
#
# Environment knobs:
#   DEMO_DIR=/tmp/btlaunchmany-demo  work directory (recreated on each run)
#   DEMO_SIZES_MIB="64 96 32"  sizes of the three torrents in MiB (decimals ok)
#   DEMO_SCALE=1               multiplies every size (e.g. 0.05 for a quick run)
#   DEMO_RATE_KB=4000          upload cap of each seed in kB/s (0 = unlimited)
#   DEMO_DROP_INTERVAL=4       seconds between two .torrent drops
#   DEMO_REATTACH_DELAY=3      curses: seconds between a detach (d) and the
#                              next attach
#   DEMO_TIMEOUT=180           plain mode: give up after this many seconds
#   DEMO_DISPLAY=curses|plain  force a view (default: curses if stdin and
#                              stdout are terminals)
#   DEMO_KEEP=1                keep the files afterwards (0 = delete the work dir)
#   BUILD=build                where the binaries are (BUILD/bin)
set -uo pipefail

SELF=$(readlink -f "$0")
ROOT=$(dirname "$(dirname "$SELF")")
BIN="${BTL_BIN:-$ROOT/${BUILD:-build}/bin}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || echo python3)

# ------------------------------------------------------------ the drop loop
# Runs as `demo.sh __drop WATCH INTERVAL FIRST_DELAY FILE...` in its own
# process group: copies each .torrent into WATCH under a hidden temp name and
# renames it into place, so the watcher never sees a half-written file.
if [ "${1:-}" = __drop ]; then
  watch=$2 interval=$3 delay=$4; shift 4
  sleep "$delay"
  first=1
  for t in "$@"; do
    [ "$first" = 1 ] || sleep "$interval"
    first=0
    name=$(basename "$t")
    cp "$t" "$watch/.$name.tmp" && mv "$watch/.$name.tmp" "$watch/$name"
    echo "$(date +%T) dropped $name"
  done
  exit 0
fi

WORK="${DEMO_DIR:-/tmp/btlaunchmany-demo}"
WORK=${WORK%/}
SIZES="${DEMO_SIZES_MIB:-64 96 32}"
SCALE="${DEMO_SCALE:-1}"
RATE="${DEMO_RATE_KB:-4000}"
DROP_INTERVAL="${DEMO_DROP_INTERVAL:-4}"
REATTACH_DELAY="${DEMO_REATTACH_DELAY:-3}"
TIMEOUT="${DEMO_TIMEOUT:-180}"
KEEP="${DEMO_KEEP:-1}"
MARK="$WORK/.btlaunchmany-demo"
ENGINE_DIR="$WORK/state/btlaunchmany"   # btlaunchmany's data dir (lock, rpc.sock, engine.log)
T0=$(date +%s.%N)

say()  { printf '\033[1m==>\033[0m %s\n' "$*"; }
[ -t 1 ] || say() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die()  { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

if [ -n "${DEMO_DISPLAY:-}" ]; then
  DISPLAY_MODE=$DEMO_DISPLAY
elif [ -t 0 ] && [ -t 1 ]; then
  DISPLAY_MODE=curses
else
  DISPLAY_MODE=plain
fi
case "$DISPLAY_MODE" in curses|plain) ;; *) die "DEMO_DISPLAY must be curses or plain, not '$DISPLAY_MODE'" ;; esac

for b in btmakemetainfo btdownloadheadless btlaunchmany bttrack; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found: build first (make -j2), or set BUILD"
done

# ------------------------------------------------------------ processes
# Every long-running process is started with setsid, so its pid is also its
# process group id and one kill reaches it and anything it forks.
PIDS=()      # in start order; stopped in reverse
NAMES=()
CLEANED=0

start_bg() {  # start_bg NAME LOGFILE CMD... ; sets $LAST_PID
  local name=$1 logf=$2; shift 2
  setsid "$@" </dev/null >"$logf" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID"); NAMES+=("$name")
}

# A pid or a session counts as running unless it has only zombies left (our
# children stay zombies until waited for, and kill -0 succeeds on zombies).
alive() { ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }
group_alive() { ps -o stat= -s "$1" 2>/dev/null | grep -qv '^Z'; }

stop_group() {  # stop_group PID NAME: SIGTERM its group, SIGKILL after 10 s
  local pid=$1 name=$2 i
  if group_alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      group_alive "$pid" || break
      sleep 0.1
    done
    if group_alive "$pid"; then
      echo "demo: $name (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
      kill -KILL -- "-$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  return 0
}

# The engine started detached (curses view) is in a session of its own: its
# pid is in the data dir's lock file.  Only a live process whose command line
# names this work directory counts (a stale lock or a reused pid does not).
engine_pid() {
  local pid
  pid=$(tr -dc '0-9' <"$ENGINE_DIR/btlaunchmany.lock" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK/" \
    && echo "$pid"
}
# True while the engine's RPC socket accepts connections (detached, not stopped).
engine_answers() {
  "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
try:
    s.connect(sys.argv[1])
except OSError:
    sys.exit(1)' "$ENGINE_DIR/rpc.sock" 2>/dev/null
}
wait_engine_gone() {  # wait_engine_gone SECONDS
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    [ -n "$(engine_pid)" ] || return 0
    sleep 0.1
  done
  return 1
}

cleanup() {
  [ "$CLEANED" = 1 ] && return
  CLEANED=1
  local i epid
  epid=
  [ "$DISPLAY_MODE" = curses ] && epid=$(engine_pid)
  if [ -n "$epid" ]; then
    stop_group "$epid" "the detached engine"
    info "stopped the detached engine (pid $epid)"
  fi
  if [ "${#PIDS[@]}" -gt 0 ]; then
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
      stop_group "${PIDS[i]}" "${NAMES[i]}"
    done
    info "stopped: ${NAMES[*]}"
  fi
  if [ "$KEEP" = 0 ] && [ -f "$MARK" ]; then
    rm -rf "$WORK" && info "removed $WORK"
  fi
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted; the files are in $WORK" >&2; exit 130' INT
trap 'echo "demo: terminated; the files are in $WORK" >&2; exit 143' TERM
trap 'exit 129' HUP

show_log() {  # show_log FILE: the last lines of a log, indented
  [ -s "$1" ] && { echo "    --- last lines of $1:"; tail -n 15 "$1" | sed 's/^/    | /'; }
}

free_port() {  # free_port IP: a TCP port nobody listens on right now
  "$PY" -c 'import socket,sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1]); s.close()' "$1"
}

wait_listening() {  # wait_listening IP PORT PID NAME LOG
  local i
  for ((i = 0; i < 100; i++)); do
    alive "$3" || { show_log "$5"; die "$4 exited at start (see $5)"; }
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  show_log "$5"; die "$4 is not listening on $1:$2 after 10 s"
}

# ------------------------------------------------------------ the work dir
if [ -e "$WORK" ]; then
  if [ -f "$MARK" ]; then
    if pgrep -f -- "$WORK/" >/dev/null; then
      die "a demo is still running in $WORK (pgrep -af $WORK/ shows it); stop it first or set DEMO_DIR"
    fi
    rm -rf "$WORK"
  elif [ -n "$(ls -A "$WORK" 2>/dev/null)" ]; then
    die "$WORK exists and is not a demo directory; remove it or set DEMO_DIR"
  fi
fi
mkdir -p "$WORK"/{originals,torrents,watch,downloads,state,logs} || die "cannot create $WORK"
touch "$MARK"
: >"$WORK/state/empty.conf"   # so a user's ~/.config/btlaunchmany/config cannot change the demo

# Sizes in bytes: three numbers in MiB, times DEMO_SCALE.
read -r -a SZ <<<"$SIZES"
[ "${#SZ[@]}" -eq 3 ] || die "DEMO_SIZES_MIB needs three sizes (MiB), got '$SIZES'"
BYTES=()
for s in "${SZ[@]}"; do
  b=$(awk -v m="$s" -v k="$SCALE" 'BEGIN { if (m + 0 <= 0 || k + 0 <= 0) exit 1; printf "%d", m * k * 1048576 }') \
    || die "bad size '$s' (DEMO_SIZES_MIB) or scale '$SCALE' (DEMO_SCALE)"
  [ "$b" -ge 16 ] || b=16
  BYTES+=("$b")
done
TOTAL=$((BYTES[0] + BYTES[1] + BYTES[2]))

# The originals and the downloads both land in WORK.
avail=$(df -Pk "$WORK" | awk 'NR == 2 { printf "%d", $4 * 1024 }')
if [ -n "$avail" ] && [ "$avail" -lt $((2 * TOTAL + (16 << 20))) ]; then
  die "$WORK has $(mib "$avail") free, the demo needs $(mib $((2 * TOTAL + (16 << 20)))) (set DEMO_DIR or DEMO_SCALE)"
fi

echo
say "btlaunchmany demo — everything runs on loopback (127.0.0.x), nothing leaves this machine"
info "work directory: $WORK"
info "view: $DISPLAY_MODE"
echo

# ------------------------------------------------------------ 1. sample files
say "1/4  making sample files of random data in $WORK/originals"
randfile() { head -c "$2" /dev/urandom >"$1" || die "cannot write $1"; }
T_NAMES=(big-file.bin photos small-file.bin)
randfile "$WORK/originals/big-file.bin" "${BYTES[0]}"
info "$(printf '%-16s %-22s %10s' big-file.bin "one file" "$(mib "${BYTES[0]}")")"
# The directory torrent: five files of uneven sizes in two subdirectories plus a
# small text file, adding up to the requested size.
ph="$WORK/originals/photos"
mkdir -p "$ph/day-1" "$ph/day-2"
printf 'Random data made by btlaunchmany'"'"'s demo (test/demo.sh).\n' >"$ph/README.txt"
rest=$((BYTES[1] - $(stat -c %s "$ph/README.txt")))
[ "$rest" -ge 5 ] || rest=5
n=0
for spec in day-1/img-0001.raw:30 day-1/img-0002.raw:25 day-2/img-0003.raw:20 day-2/img-0004.raw:15 day-2/img-0005.raw:0; do
  f=${spec%%:*} pct=${spec##*:}
  if [ "$pct" = 0 ]; then sz=$((rest - n)); else sz=$((rest * pct / 100)); fi
  [ "$sz" -ge 1 ] || sz=1
  randfile "$ph/$f" "$sz"
  n=$((n + sz))
done
BYTES[1]=$(find "$ph" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
TOTAL=$((BYTES[0] + BYTES[1] + BYTES[2]))
info "$(printf '%-16s %-22s %10s' photos/ "directory, $(find "$ph" -type f | wc -l) files" "$(mib "${BYTES[1]}")")"
randfile "$WORK/originals/small-file.bin" "${BYTES[2]}"
info "$(printf '%-16s %-22s %10s' small-file.bin "one file" "$(mib "${BYTES[2]}")")"

# ------------------------------------------------------------ 2. tracker, torrents, seeds
TRACKER_IP=127.0.0.1 SEED_IP=127.0.0.2 OUR_IP=127.0.0.3
TRACKER_PORT=$(free_port "$TRACKER_IP") || die "cannot find a free port on $TRACKER_IP"
ANNOUNCE="http://$TRACKER_IP:$TRACKER_PORT/announce"

echo
say "2/4  making .torrent files with btmakemetainfo (tracker $ANNOUNCE)"
TORRENTS=()
for name in "${T_NAMES[@]}"; do
  stem=${name%.bin}
  tf="$WORK/torrents/$stem.torrent"
  "$BIN/btmakemetainfo" "$ANNOUNCE" "$WORK/originals/$name" --target "$tf" \
    --comment "btlaunchmany demo" >"$WORK/logs/btmakemetainfo-$stem.log" 2>&1 \
    || { show_log "$WORK/logs/btmakemetainfo-$stem.log"; die "btmakemetainfo failed for $name"; }
  TORRENTS+=("$tf")
  info "$tf"
done

echo
say "3/4  starting bttrack on $TRACKER_IP:$TRACKER_PORT and one seed per torrent on $SEED_IP"
# A short reannounce interval: a peer that asked before the seeds were known
# hears of them within seconds.
start_bg bttrack "$WORK/logs/bttrack.log" "$BIN/bttrack" --bind "$TRACKER_IP" --port "$TRACKER_PORT" \
  --dfile "$WORK/state/bttrack.dfile" --reannounce_interval 10
wait_listening "$TRACKER_IP" "$TRACKER_PORT" "$LAST_PID" bttrack "$WORK/logs/bttrack.log"
info "bttrack       pid $LAST_PID, log $WORK/logs/bttrack.log"

SEED_PIDS=()
for i in 0 1 2; do
  name=${T_NAMES[i]} stem=${name%.bin}
  port=$(free_port "$SEED_IP") || die "cannot find a free port on $SEED_IP"
  start_bg "seed:$stem" "$WORK/logs/seed-$stem.log" "$BIN/btdownloadheadless" "${TORRENTS[i]}" \
    --saveas "$WORK/originals/$name" --bind "$SEED_IP" --ip "$SEED_IP" --minport "$port" --maxport "$port" \
    --max_upload_rate "$RATE" --data_dir "$WORK/state/seed-$stem" \
    --status_json "$WORK/state/seed-$stem.json" --display_interval 0.5 \
    --upnp 0 --natpmp 0 --lsd 0 --dht 0
  SEED_PIDS+=("$LAST_PID")
  wait_listening "$SEED_IP" "$port" "$LAST_PID" "the seed for $name" "$WORK/logs/seed-$stem.log"
  info "seed $stem: btdownloadheadless pid $LAST_PID on $SEED_IP:$port, upload cap ${RATE} kB/s"
done

# The seeds are ready once each has checked its data and the tracker counts
# it as complete (a scrape of every torrent shows complete >= 1).
ready_py='import json, sys, urllib.request
def bdec(b, i=0):
    c = b[i:i+1]
    if c == b"i":
        j = b.index(b"e", i); return int(b[i+1:j]), j + 1
    if c in (b"l", b"d"):
        out = [] ; i += 1
        while b[i:i+1] != b"e":
            v, i = bdec(b, i); out.append(v)
        return (dict(zip(out[::2], out[1::2])) if c == b"d" else out), i + 1
    j = b.index(b":", i); n = int(b[i:j]); return b[j+1:j+1+n], j + 1 + n
url, seeds = sys.argv[1], sys.argv[2:]
for s in seeds:
    try:
        d = json.load(open(s))
    except Exception:
        sys.exit(1)
    if any(t.get("state") != "seeding" for t in d.get("torrents", [])) or not d.get("torrents"):
        sys.exit(1)
try:
    files = bdec(urllib.request.urlopen(url, timeout=2).read())[0].get(b"files", {})
except Exception:
    sys.exit(1)
sys.exit(0 if len(files) >= len(seeds) and all(v.get(b"complete", 0) >= 1 for v in files.values()) else 1)'
SCRAPE="http://$TRACKER_IP:$TRACKER_PORT/scrape"
deadline=$(( $(date +%s) + 60 ))
until "$PY" -c "$ready_py" "$SCRAPE" "$WORK"/state/seed-*.json; do
  for i in 0 1 2; do
    alive "${SEED_PIDS[i]}" || { show_log "$WORK/logs/seed-${T_NAMES[i]%.bin}.log"; die "the seed for ${T_NAMES[i]} exited"; }
  done
  [ "$(date +%s)" -lt "$deadline" ] || die "the seeds did not check their data and announce within 60 s (logs in $WORK/logs)"
  sleep 0.3
done
info "all three seeds have checked their data and announced to the tracker"

# ------------------------------------------------------------ 3. btlaunchmany
LPORT=$(free_port "$OUR_IP") || die "cannot find a free port on $OUR_IP"
STATUS="$WORK/state/btlaunchmany-status.json"
LAUNCH=("$BIN/btlaunchmany" "$WORK/watch" --save_in "$WORK/downloads" --data_dir "$ENGINE_DIR"
        --bind "$OUR_IP" --ip "$OUR_IP" --minport "$LPORT" --maxport "$LPORT"
        --config "$WORK/state/empty.conf" --status_json "$STATUS" --rpc_port 0
        --upnp 0 --natpmp 0 --lsd 0 --dht 0)

# status.py STATUS_JSON FILE...: one progress line on stdout; exit 0 when every
# FILE's row is seeding at progress 1, 1 while not, 2 on an error row.
status_py='import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("waiting for the first status"); sys.exit(1)
rows = {r.get("file"): r for r in d.get("torrents", [])}
parts, done, bad = [], 0, []
for f in sys.argv[2:]:
    r = rows.get(f)
    stem = f[:-len(".torrent")]
    if r is None:
        parts.append("%s: not dropped yet" % stem); continue
    st, p = r.get("state", "?"), float(r.get("progress", 0))
    if st == "error":
        bad.append("%s: %s" % (f, r.get("error") or "error"))
    if st == "seeding" and p >= 1:
        done += 1
    rate = r.get("down_rate", 0) / 1e6
    parts.append("%s %5.1f%% %s%s" % (stem, 100 * p, st, " %.1f MB/s" % rate if st == "downloading" else ""))
print(" | ".join(parts))
if bad:
    print("error rows: " + "; ".join(bad)); sys.exit(2)
sys.exit(0 if done == len(sys.argv) - 2 else 1)'
T_FILES=()
for t in "${TORRENTS[@]}"; do T_FILES+=("$(basename "$t")"); done

drop_start() {  # drop_start FIRST_DELAY
  start_bg dropper "$WORK/logs/dropper.log" "$SELF" __drop "$WORK/watch" "$DROP_INTERVAL" "$1" "${TORRENTS[@]}"
}

# verify: cmp every original file against its download; prints one line per torrent.
verify() {
  local i name src dst f rc=0 ok
  for i in 0 1 2; do
    name=${T_NAMES[i]} src="$WORK/originals/${T_NAMES[i]}" dst="$WORK/downloads/${T_NAMES[i]}"
    ok=1
    if [ -d "$src" ]; then
      while IFS= read -r f; do
        cmp -s "$src/$f" "$dst/$f" || { ok=0; info "  differs or missing: $dst/$f"; }
      done < <(cd "$src" && find . -type f | sed 's|^\./||' | sort)
    else
      cmp -s "$src" "$dst" || ok=0
    fi
    if [ "$ok" = 1 ]; then
      info "$(printf '%-16s %10s  identical to the original (cmp)  %s' "$name" "$(mib "${BYTES[i]}")" "$dst")"
    else
      info "$(printf '%-16s %10s  DIFFERS from the original         %s' "$name" "$(mib "${BYTES[i]}")" "$dst")"
      rc=1
    fi
  done
  return $rc
}

where() {
  echo
  if [ "$KEEP" = 0 ]; then
    info "the work directory $WORK is removed on exit (DEMO_KEEP=0)"
  else
    info "the files stay in $WORK:"
    info "  originals/  what the seeds served       downloads/  what btlaunchmany fetched"
    info "  torrents/   the .torrent files          logs/       every program's output"
    info "remove them with: rm -rf $WORK"
  fi
}

echo
if [ "$DISPLAY_MODE" = plain ]; then
  say "4/4  running btlaunchmany (plain display, no terminal) on $OUR_IP:$LPORT"
  info "watch dir $WORK/watch, downloads to $WORK/downloads"
  info "log $WORK/logs/btlaunchmany.log, status $STATUS"
  start_bg btlaunchmany "$WORK/logs/btlaunchmany.log" env LANG=C.UTF-8 "${LAUNCH[@]}" \
    --display plain --display_interval 0.5
  LPID=$LAST_PID
  wait_listening "$OUR_IP" "$LPORT" "$LPID" btlaunchmany "$WORK/logs/btlaunchmany.log"
  info "dropping the torrents into the watch dir, one every ${DROP_INTERVAL} s"
  drop_start 0
  T1=$(date +%s.%N)
  deadline=$(( $(date +%s) + TIMEOUT ))
  last_print=0
  while :; do
    line=$("$PY" -c "$status_py" "$STATUS" "${T_FILES[@]}")
    rc=$?
    now=$(date +%s)
    if [ "$rc" = 0 ]; then
      info "[$(printf '%5.1f' "$(elapsed "$T1")")s] $line"
      break
    fi
    if [ "$rc" = 2 ]; then
      printf '%s\n' "$line" | sed 's/^/    /'
      show_log "$WORK/logs/btlaunchmany.log"; die "btlaunchmany shows an error row"
    fi
    if ! alive "$LPID"; then
      show_log "$WORK/logs/btlaunchmany.log"; die "btlaunchmany exited before the downloads completed"
    fi
    if [ "$now" -ge "$deadline" ]; then
      info "$line"
      show_log "$WORK/logs/btlaunchmany.log"
      die "not every torrent was complete after ${TIMEOUT} s (DEMO_TIMEOUT); logs in $WORK/logs"
    fi
    if [ $((now - last_print)) -ge 2 ]; then
      info "[$(printf '%5.1f' "$(elapsed "$T1")")s] $line"
      last_print=$now
    fi
    sleep 0.5
  done
  DL_TIME=$(elapsed "$T1")
  echo
  say "all three torrents are seeding after ${DL_TIME} s; checking the downloads byte for byte"
  verify || die "a download differs from its original (see above)"
  echo
  say "demo OK: $(mib "$TOTAL") in 3 torrents downloaded by btlaunchmany in ${DL_TIME} s (whole demo $(elapsed "$T0") s)"
  where
  say "stopping btlaunchmany, the seeds and the tracker"
  exit 0
fi

# The curses view, attached to a detached engine: btlaunchmany on a terminal
# without --display starts the engine in the background (its own session,
# log in its data dir) and attaches the view over the RPC socket.  `d`
# detaches: the engine keeps downloading and the demo attaches again;
# `q` then `y` stops the engine and ends the demo.
say "4/4  starting btlaunchmany's engine detached and attaching the curses view ($OUR_IP:$LPORT)"
info "the torrents are dropped in one every ${DROP_INTERVAL} s: watch the rows appear, fill and turn to seeding"
info "downloads go to $WORK/downloads; logs in $WORK/logs and $ENGINE_DIR/engine.log"
info "keys: Up/Down select, Enter details, l log, ? help"
info "      d detaches (the engine keeps running; the demo attaches again after ${REATTACH_DELAY} s)"
info "      q, then y, stops the engine and ends the demo"
for i in 3 2 1; do printf '\r    starting in %s… ' "$i"; sleep 1; done
echo
drop_start 1
T1=$(date +%s.%N)
attaches=0
while :; do
  attaches=$((attaches + 1))
  LANG=${LANG:-C.UTF-8} "${LAUNCH[@]}" 2>>"$WORK/logs/btlaunchmany.err"
  lrc=$?
  if [ "$lrc" != 0 ]; then
    show_log "$WORK/logs/btlaunchmany.err"; show_log "$ENGINE_DIR/engine.log"
    die "btlaunchmany exited with status $lrc"
  fi
  engine_answers || break
  epid=$(engine_pid)
  echo
  say "detached: the engine (pid ${epid:-?}) keeps downloading without a view"
  info "$("$PY" -c "$status_py" "$STATUS" "${T_FILES[@]}")"
  info "attaching again in ${REATTACH_DELAY} s (the same command: btlaunchmany finds the running engine)…"
  sleep "$REATTACH_DELAY"
done
# q, y: the view returned once the engine stopped answering; let it finish
# saving its resume data.
wait_engine_gone 15
RUN_TIME=$(elapsed "$T1")
echo
line=$("$PY" -c "$status_py" "$STATUS" "${T_FILES[@]}")
src=$?
say "the engine stopped after ${RUN_TIME} s ($attaches attach(es)); the last status:"
info "$line"
if [ "$src" = 0 ]; then
  say "all three torrents were complete; checking the downloads byte for byte"
  verify || die "a download differs from its original (see above)"
else
  info "(not every torrent was complete when you quit; nothing to compare)"
fi
where
say "stopping the seeds and the tracker"
exit 0
