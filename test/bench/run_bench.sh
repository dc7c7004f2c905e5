#!/usr/bin/env bash
# make bench: runs every benchmark script (test/bench/bench_*.sh|py) in turn.
# Each prints its own table of our figures beside the real clients' and the
# ratios.  Ends with the time each script took and the total (target: the
# whole run under 15 minutes on a quiet 2-core machine), with the load
# average, since a busy machine stretches every wall time.
# Exits non-zero only if a scenario could not run.
# Usage: test/bench/run_bench.sh [SUBSTRING]  (only the scripts whose name has it)
set -u
cd "$(dirname "$0")/../.."
export BUILD="${BUILD:-build}"
export BTL_BIN="$PWD/$BUILD/bin"
export BTL_ROOT="$PWD"
failed=()
times=()
t_all=$(date +%s.%N)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for b in test/bench/bench_*.sh test/bench/bench_*.py; do
  [ -e "$b" ] || continue
  [[ "$b" == */bench_util.py ]] && continue  # shared helpers, not a bench
  [ -n "${1:-}" ] && [[ "$b" != *"$1"* ]] && continue
  echo "=== $(basename "$b")"
  t0=$(date +%s.%N)
  case "$b" in
    *.py) /usr/bin/python3 "$b" ;;
    *)    bash "$b" ;;
  esac || failed+=("$(basename "$b")")
  t1=$(date +%s.%N)
  times+=("$(awk -v a="$t0" -v b="$t1" -v n="$(basename "$b")" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
             'BEGIN { printf "%-28s %7.1f s  (load %s)", n, b - a, l }')")
  echo
done
echo "bench times (load average at the start: $load0):"
for t in "${times[@]}"; do echo "  $t"; done
awk -v a="$t_all" -v b="$(date +%s.%N)" 'BEGIN { printf "  %-28s %7.1f s  (%.1f min; target < 15 min on a quiet machine)\n", "total", b - a, (b - a) / 60 }'
if [ ${#failed[@]} -gt 0 ]; then echo "bench: could not run: ${failed[*]}"; exit 1; fi
echo "bench: all scenarios ran"
